-- fixture: pg=10
ALTER TABLE contacts ADD COLUMN score integer DEFAULT 0;
-- expect: add-column-volatile-default
