BEGIN;
-- expect: uncommitted-transaction
CREATE TABLE t (id int);
