CREATE TABLE contacts (id integer PRIMARY KEY, name varchar(50));
-- //- next migration
ALTER TABLE contacts ALTER COLUMN id TYPE bigint;
-- expect: column-type-rewrite
ALTER TABLE contacts ALTER COLUMN name TYPE varchar(20);
-- expect: column-type-rewrite
