SELECT $a$ unterminated $b$;
CREATE INDEX CONCURRENTLY i ON t (c);