ALTER TABLE contacts RENAME TO people;
-- expect: rename-table
