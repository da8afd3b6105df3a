-- fixture: pg=17
CREATE TABLE events (id bigint, contact_id bigint) PARTITION BY RANGE (id);
-- //- next migration
ALTER TABLE events ADD CONSTRAINT events_contact_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id);
-- expect: fk-not-valid
