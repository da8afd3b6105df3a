CREATE TABLE events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 (id bigint, at timestamptz NOT NULL);
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_id_idx ON events (id);
CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
-- A partitioned table's index without ONLY builds every partition's under the lock.
CREATE INDEX events_at_idx ON events (at);
-- expect: index-create-not-concurrent
-- ONLY changes nothing on a plain table: the whole index is built.
CREATE INDEX contacts_email_idx ON ONLY contacts (email);
-- expect: index-create-not-concurrent
-- A detached partition is a plain table again.
ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY;
CREATE INDEX events_2026_at_idx ON events_2026 (at);
-- expect: index-create-not-concurrent
