ALTER TABLE contacts ADD COLUMN score integer NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE TABLE keys (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
