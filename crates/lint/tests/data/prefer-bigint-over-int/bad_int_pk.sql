CREATE TABLE contacts (id serial PRIMARY KEY, email text);
-- expect: prefer-bigint-over-int
CREATE TABLE deals (id integer, PRIMARY KEY (id));
-- expect: prefer-bigint-over-int
