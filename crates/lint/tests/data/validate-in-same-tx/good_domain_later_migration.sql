ALTER DOMAIN score ADD CONSTRAINT score_range CHECK (VALUE >= 0) NOT VALID;
-- //- next migration
ALTER DOMAIN score VALIDATE CONSTRAINT score_range;
