-- haste:allow-file drop-table reason="contract phase of the events split"
DROP TABLE legacy_events;
DROP TABLE legacy_event_types;
