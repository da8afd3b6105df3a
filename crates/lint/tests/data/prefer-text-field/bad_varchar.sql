CREATE TABLE contacts (id bigint PRIMARY KEY, email varchar(255));
-- expect: prefer-text-field
