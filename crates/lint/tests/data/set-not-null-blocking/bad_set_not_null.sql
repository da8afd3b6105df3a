CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
ALTER TABLE contacts ALTER COLUMN email SET NOT NULL;
-- expect: set-not-null-blocking
