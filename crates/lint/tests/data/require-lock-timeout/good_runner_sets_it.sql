ALTER TABLE contacts ADD COLUMN score integer;
