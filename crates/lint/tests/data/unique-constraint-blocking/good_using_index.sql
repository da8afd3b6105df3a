CREATE UNIQUE INDEX CONCURRENTLY contacts_email_key ON contacts (email);
ALTER TABLE contacts ADD CONSTRAINT contacts_email_key UNIQUE USING INDEX contacts_email_key;
