ALTER TABLE deals ADD CONSTRAINT deals_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) NOT VALID;
-- //- next migration
ALTER TABLE deals VALIDATE CONSTRAINT deals_contact_fkey;
