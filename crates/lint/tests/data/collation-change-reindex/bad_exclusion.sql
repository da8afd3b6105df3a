CREATE TABLE t (id integer PRIMARY KEY, name text);
ALTER TABLE t ADD CONSTRAINT t_name_excl EXCLUDE USING btree (name WITH =);
CREATE TABLE u (id integer PRIMARY KEY, name text, EXCLUDE USING btree (name WITH =));
-- //- next migration
ALTER TABLE t ALTER COLUMN name TYPE text COLLATE "C";
-- expect: collation-change-reindex
ALTER TABLE u ALTER COLUMN name TYPE text COLLATE "C";
-- expect: collation-change-reindex
