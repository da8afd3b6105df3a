-- fixture: lock_timeout=none
SET lock_timeout = '2s';
ALTER TABLE contacts ADD COLUMN score integer;
