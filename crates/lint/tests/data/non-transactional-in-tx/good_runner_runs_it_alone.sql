ALTER TABLE contacts ADD COLUMN score integer;
CREATE INDEX CONCURRENTLY contacts_score_idx ON contacts (score);
