ALTER TABLE deals ADD COLUMN total numeric GENERATED ALWAYS AS (amount * quantity) STORED;
-- expect: add-stored-generated-column
