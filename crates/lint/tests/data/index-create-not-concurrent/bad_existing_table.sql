CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
CREATE INDEX contacts_email_idx ON contacts (email);
-- expect: index-create-not-concurrent
