-- haste:allow drop-table reason="not needed"
-- expect: unused-suppression
ALTER TABLE contacts ADD COLUMN score integer;
