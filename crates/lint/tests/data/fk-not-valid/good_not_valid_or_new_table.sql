ALTER TABLE deals ADD CONSTRAINT deals_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) NOT VALID;
CREATE TABLE notes (id bigint PRIMARY KEY, deal_id bigint);
ALTER TABLE notes ADD CONSTRAINT notes_deal_fkey FOREIGN KEY (deal_id) REFERENCES deals (id);
