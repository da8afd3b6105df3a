CREATE TABLE contacts (id bigint PRIMARY KEY, score integer, score_new bigint);
ALTER TABLE contacts ADD CONSTRAINT score_not_null CHECK (score IS NOT NULL);
-- //- next migration
ALTER TABLE contacts DROP COLUMN score;
ALTER TABLE contacts RENAME COLUMN score_new TO score;
ALTER TABLE contacts ALTER COLUMN score SET NOT NULL;
-- expect: set-not-null-blocking
