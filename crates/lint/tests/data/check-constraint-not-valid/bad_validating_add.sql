ALTER TABLE deals ADD CONSTRAINT deals_amount_check CHECK (amount >= 0);
-- expect: check-constraint-not-valid
ALTER TABLE deals ADD COLUMN discount integer CHECK (discount >= 0);
-- expect: check-constraint-not-valid
