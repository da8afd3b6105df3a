-- HASTE:transaction off
CREATE INDEX CONCURRENTLY i ON t (c);
