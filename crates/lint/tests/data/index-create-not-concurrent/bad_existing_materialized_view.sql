CREATE TABLE contacts (id bigint PRIMARY KEY, score integer);
CREATE MATERIALIZED VIEW contact_scores AS SELECT id, score FROM contacts;
-- //- next migration
CREATE INDEX contact_scores_score_idx ON contact_scores (score);
-- expect: index-create-not-concurrent
