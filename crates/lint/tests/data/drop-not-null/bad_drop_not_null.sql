ALTER TABLE contacts ALTER COLUMN email DROP NOT NULL;
-- expect: drop-not-null
