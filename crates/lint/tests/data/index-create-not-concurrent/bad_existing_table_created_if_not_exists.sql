CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
-- A CREATE TABLE IF NOT EXISTS over a table already there does nothing: it is not new.
CREATE TABLE IF NOT EXISTS contacts (id bigint PRIMARY KEY, email text);
CREATE INDEX contacts_email_idx ON contacts (email);
-- expect: index-create-not-concurrent
