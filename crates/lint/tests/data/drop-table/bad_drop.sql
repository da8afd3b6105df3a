DROP TABLE legacy_events;
-- expect: drop-table
