CREATE TABLE contacts (id bigint PRIMARY KEY, name text, note text);
CREATE INDEX contacts_name_idx ON contacts (name);
-- //- next migration
DROP INDEX CONCURRENTLY contacts_name_idx;
ALTER TABLE contacts ALTER COLUMN name TYPE text COLLATE "C";
ALTER TABLE contacts ALTER COLUMN note TYPE text COLLATE "C";
ALTER TABLE contacts ALTER COLUMN id TYPE bigint;
