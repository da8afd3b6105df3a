ALTER DOMAIN score ADD CONSTRAINT score_range CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN score VALIDATE CONSTRAINT score_range;
-- expect: validate-in-same-tx
