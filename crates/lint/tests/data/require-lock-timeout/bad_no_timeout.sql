-- fixture: lock_timeout=none
ALTER TABLE contacts ADD COLUMN score integer;
-- expect: require-lock-timeout
