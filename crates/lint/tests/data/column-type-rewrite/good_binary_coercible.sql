CREATE TABLE contacts (id bigint PRIMARY KEY, name varchar(50), notes varchar(10), amount numeric(10, 2));
-- //- next migration
ALTER TABLE contacts ALTER COLUMN name TYPE varchar(100);
ALTER TABLE contacts ALTER COLUMN notes TYPE text;
ALTER TABLE contacts ALTER COLUMN amount TYPE numeric(12, 2);
