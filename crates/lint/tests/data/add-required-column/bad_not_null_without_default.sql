ALTER TABLE contacts ADD COLUMN workspace_id bigint NOT NULL;
-- expect: add-required-column
