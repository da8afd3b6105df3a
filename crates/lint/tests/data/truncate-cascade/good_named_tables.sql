TRUNCATE deals, contacts;
