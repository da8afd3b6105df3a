ALTER TABLE contacts ADD COLUMN score integer;
-- expect: require-statement-timeout
ALTER TABLE contacts ADD COLUMN rank integer;
