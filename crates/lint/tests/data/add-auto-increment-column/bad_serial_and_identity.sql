ALTER TABLE events ADD COLUMN seq bigserial;
-- expect: add-auto-increment-column
ALTER TABLE events ADD COLUMN number bigint GENERATED ALWAYS AS IDENTITY;
-- expect: add-auto-increment-column
