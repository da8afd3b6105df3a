CREATE TABLE drafts (id int);
ALTER TABLE drafts RENAME TO notes;
