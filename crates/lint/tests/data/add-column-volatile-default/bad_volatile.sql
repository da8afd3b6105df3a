ALTER TABLE contacts ADD COLUMN token uuid DEFAULT gen_random_uuid();
-- expect: add-column-volatile-default
ALTER TABLE contacts ADD COLUMN seen_at timestamptz NOT NULL DEFAULT clock_timestamp();
-- expect: add-column-volatile-default
