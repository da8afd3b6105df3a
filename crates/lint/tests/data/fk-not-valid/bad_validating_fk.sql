ALTER TABLE deals ADD CONSTRAINT deals_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
-- expect: fk-not-valid
ALTER TABLE deals ADD COLUMN owner_id bigint REFERENCES users (id);
-- expect: fk-not-valid
