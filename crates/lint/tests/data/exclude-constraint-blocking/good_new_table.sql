CREATE TABLE bookings (id bigint PRIMARY KEY, room int, during tstzrange);
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
