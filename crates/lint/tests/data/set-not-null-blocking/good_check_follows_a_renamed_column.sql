CREATE TABLE contacts (id bigint PRIMARY KEY, score integer);
ALTER TABLE contacts ADD COLUMN score_new bigint;
ALTER TABLE contacts ADD CONSTRAINT score_new_not_null CHECK (score_new IS NOT NULL) NOT VALID;
-- //- next migration
ALTER TABLE contacts VALIDATE CONSTRAINT score_new_not_null;
-- //- next migration
ALTER TABLE contacts DROP COLUMN score;
ALTER TABLE contacts RENAME COLUMN score_new TO score;
ALTER TABLE contacts ALTER COLUMN score SET NOT NULL;
