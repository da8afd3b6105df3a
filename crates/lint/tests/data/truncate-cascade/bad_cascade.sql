TRUNCATE contacts CASCADE;
-- expect: truncate-cascade
