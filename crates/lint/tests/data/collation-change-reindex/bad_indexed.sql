CREATE TABLE contacts (id bigint PRIMARY KEY, name text, email text UNIQUE, code text);
CREATE INDEX contacts_name_idx ON contacts (name);
CREATE INDEX ON contacts (lower(code));
-- //- next migration
ALTER TABLE contacts ALTER COLUMN name TYPE text COLLATE "C";
-- expect: collation-change-reindex
ALTER TABLE contacts ALTER COLUMN email TYPE text COLLATE "C";
-- expect: collation-change-reindex
ALTER TABLE contacts ALTER COLUMN code TYPE text COLLATE "C";
-- expect: collation-change-reindex
