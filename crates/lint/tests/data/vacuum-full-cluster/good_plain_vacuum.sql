VACUUM (ANALYZE) contacts;
