ALTER TABLE contacts ADD COLUMN workspace_id bigint;
ALTER TABLE contacts ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE contacts ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
