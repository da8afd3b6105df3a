-- haste:statement-timeout 5min
ALTER TABLE contacts ADD COLUMN score integer;
CREATE TABLE notes (id bigint);
CREATE INDEX notes_id_idx ON notes (id);
