CREATE INDEX CONCURRENTLY contacts_email_idx ON contacts (email);
-- expect: prefer-robust-stmts
