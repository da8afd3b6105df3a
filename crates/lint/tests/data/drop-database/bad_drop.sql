DROP DATABASE crm;
-- expect: drop-database
