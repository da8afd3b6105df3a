ALTER TABLE deals ADD CONSTRAINT deals_amount_check CHECK (amount >= 0) NOT VALID;
CREATE TABLE quotes (id bigint PRIMARY KEY, total integer);
ALTER TABLE quotes ADD CONSTRAINT quotes_total_check CHECK (total >= 0);
