ALTER TABLE deals ADD COLUMN total numeric;
