-- fixture: pg=11
ALTER TYPE stage ADD VALUE 'qualified';
-- expect: enum-add-value-tx
