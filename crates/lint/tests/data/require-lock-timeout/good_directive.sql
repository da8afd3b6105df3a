-- fixture: lock_timeout=none
-- haste:lock-timeout 1s
ALTER TABLE contacts ADD COLUMN score integer;
