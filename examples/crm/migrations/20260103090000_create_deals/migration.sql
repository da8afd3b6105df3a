CREATE TABLE deals (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    title TEXT NOT NULL,
    amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    stage TEXT NOT NULL DEFAULT 'lead'
);
CREATE INDEX deals_contact_id_idx ON deals (contact_id);
