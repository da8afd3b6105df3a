BEGIN;
CREATE INDEX CONCURRENTLY contacts_email_idx ON contacts (email);
-- expect: non-transactional-in-tx
COMMIT;
