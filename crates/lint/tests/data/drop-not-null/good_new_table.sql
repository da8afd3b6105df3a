CREATE TABLE drafts (id int, title text NOT NULL);
ALTER TABLE drafts ALTER COLUMN title DROP NOT NULL;
