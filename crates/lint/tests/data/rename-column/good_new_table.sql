CREATE TABLE drafts (id int, title text);
ALTER TABLE drafts RENAME COLUMN title TO subject;
