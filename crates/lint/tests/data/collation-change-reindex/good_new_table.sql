CREATE TABLE contacts (id bigint PRIMARY KEY, name text);
CREATE INDEX contacts_name_idx ON contacts (name);
ALTER TABLE contacts ALTER COLUMN name TYPE text COLLATE "C";
