TRUNCATE contacts;
-- expect: truncate-table
TRUNCATE TABLE deals, contacts CASCADE;
-- expect: truncate-table
-- expect: truncate-table
