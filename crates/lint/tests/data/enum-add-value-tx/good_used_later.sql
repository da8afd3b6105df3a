ALTER TYPE stage ADD VALUE 'qualified';
-- //- next migration
UPDATE deals SET stage = 'qualified' WHERE amount > 1000;
