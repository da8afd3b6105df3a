CREATE TABLE scratch (id int);
TRUNCATE scratch;
-- haste:allow truncate-table reason="the release before stopped reading staging rows"
TRUNCATE staging;
