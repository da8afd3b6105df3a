CREATE TABLE contacts (id bigint PRIMARY KEY, email text NOT NULL, domain text);
INSERT INTO contacts (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.org'), (3, 'eve@example.com');
