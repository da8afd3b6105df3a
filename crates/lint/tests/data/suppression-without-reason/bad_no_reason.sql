-- haste:allow drop-table
-- expect: suppression-without-reason
DROP TABLE legacy_events;
