-- fixture: unreleased
CREATE TABLE deals (id bigint PRIMARY KEY, stage text);
-- //- next migration
CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
CREATE INDEX contacts_email_idx ON contacts (email);
CREATE INDEX deals_stage_idx ON deals (stage);
CREATE INDEX CONCURRENTLY contacts_id_email_idx ON contacts (id, email);
