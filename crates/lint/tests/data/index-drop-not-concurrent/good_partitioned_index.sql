CREATE TABLE events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 (id bigint, at timestamptz NOT NULL);
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_id_idx ON events (id);
CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
-- No concurrent form exists for a partitioned index: partitioned-index-drop reports it.
DROP INDEX public.events_id_idx;
