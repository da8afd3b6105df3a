DO $$ BEGIN RAISE NOTICE 'hello; world'; END $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN NEW.updated_at := now(); RETURN NEW; END $body$;
