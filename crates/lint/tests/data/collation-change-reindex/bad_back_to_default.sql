CREATE TABLE contacts (id bigint PRIMARY KEY, name text COLLATE "C");
CREATE INDEX contacts_name_idx ON contacts (name);
-- //- next migration
ALTER TABLE contacts ALTER COLUMN name TYPE text;
-- expect: collation-change-reindex
