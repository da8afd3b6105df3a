CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
ALTER TABLE contacts ADD CONSTRAINT contacts_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- //- next migration
ALTER TABLE contacts VALIDATE CONSTRAINT contacts_email_not_null;
-- //- next migration
ALTER TABLE contacts ALTER COLUMN email SET NOT NULL;
ALTER TABLE contacts DROP CONSTRAINT contacts_email_not_null;
