CREATE TABLE contacts (id bigint PRIMARY KEY, score integer);
CREATE MATERIALIZED VIEW contact_scores AS SELECT id, score FROM contacts;
-- //- next migration
-- The form of migrate dev's type-change swap: a materialized view created again in this
-- transaction, its index built with it; nobody reads it before the transaction commits.
DROP MATERIALIZED VIEW contact_scores;
CREATE MATERIALIZED VIEW contact_scores AS SELECT id, score FROM contacts;
CREATE INDEX contact_scores_score_idx ON contact_scores (score);
