DROP TRIGGER contacts_touch;
DROP TABLE contacts;
