ALTER TYPE stage ADD VALUE 'qualified';
UPDATE deals SET stage = 'qualified' WHERE amount > 1000;
-- expect: enum-add-value-tx
