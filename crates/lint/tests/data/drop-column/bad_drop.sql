ALTER TABLE contacts DROP COLUMN legacy_score;
-- expect: drop-column
