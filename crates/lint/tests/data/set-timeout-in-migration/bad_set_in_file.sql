SET lock_timeout = '10s';
-- expect: set-timeout-in-migration
SET LOCAL statement_timeout TO 0;
-- expect: set-timeout-in-migration
SET SESSION Lock_Timeout = 0;
-- expect: set-timeout-in-migration
RESET lock_timeout;
-- expect: set-timeout-in-migration
SELECT set_config('lock_timeout', '0', true);
-- expect: set-timeout-in-migration
SELECT pg_catalog.set_config('statement_timeout', '1h', false);
-- expect: set-timeout-in-migration
ALTER TABLE contacts ADD COLUMN score integer;
DO $$ BEGIN PERFORM set_config('lock_timeout', '0', false); END $$;
-- expect: set-timeout-in-migration
DO $$ BEGIN EXECUTE 'SET statement_timeout = 0'; END $$;
-- expect: set-timeout-in-migration
UPDATE pg_settings SET setting = '0' WHERE name = 'lock_timeout';
-- expect: set-timeout-in-migration
CREATE FUNCTION slow() RETURNS void LANGUAGE sql SET lock_timeout = 0 AS 'SELECT 1';
-- expect: set-timeout-in-migration
