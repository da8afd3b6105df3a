-- fixture: pg=11
CREATE TABLE contacts (id bigint PRIMARY KEY, email text CHECK (email IS NOT NULL));
-- //- next migration
-- fixture: pg=11
ALTER TABLE contacts ALTER COLUMN email SET NOT NULL;
-- expect: set-not-null-blocking
