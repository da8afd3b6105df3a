CREATE TABLE contacts (id bigint PRIMARY KEY, email text CHECK (char_length(email) <= 255));
