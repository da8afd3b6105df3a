CREATE INDEX CONCURRENTLY IF NOT EXISTS contacts_email_idx ON contacts (email);
DROP INDEX CONCURRENTLY IF EXISTS contacts_old_idx;
-- //- next migration
CREATE TABLE notes (id bigint);
