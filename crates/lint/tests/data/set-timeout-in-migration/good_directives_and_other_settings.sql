-- haste:lock-timeout 500ms
-- haste:statement-timeout 30min
SET search_path TO public;
SET LOCAL idle_in_transaction_session_timeout = '1min';
SELECT set_config('application_name', 'backfill', true);
ALTER TABLE contacts ADD COLUMN score integer;
DO $$ BEGIN RESET ALL; PERFORM set_config('search_path', 'public', false); END $$;
DO $$ BEGIN RAISE NOTICE 'lock_timeout is %', current_setting('lock_timeout'); END $$;
