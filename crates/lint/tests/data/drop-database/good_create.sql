CREATE TABLE crm (id int);
