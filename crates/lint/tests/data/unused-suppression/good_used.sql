-- haste:allow drop-table reason="archived in release 12"
DROP TABLE legacy_events;
