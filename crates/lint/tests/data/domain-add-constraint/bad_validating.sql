ALTER DOMAIN positive_amount ADD CONSTRAINT positive CHECK (VALUE > 0);
-- expect: domain-add-constraint
