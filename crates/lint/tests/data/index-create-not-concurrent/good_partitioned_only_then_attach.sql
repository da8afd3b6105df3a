CREATE TABLE events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 (id bigint, at timestamptz NOT NULL);
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_id_idx ON events (id);
CREATE TABLE contacts (id bigint PRIMARY KEY, email text);
-- //- next migration
-- The form migrate dev writes: the parent's index ON ONLY (catalog only), each partition's
-- built concurrently, then attached.
CREATE INDEX events_at_idx ON ONLY public.events USING btree (at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_at_idx ON public.events_2025 USING btree (at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2026_at_idx ON public.events_2026 USING btree (at);
ALTER INDEX public.events_at_idx ATTACH PARTITION public.events_2025_at_idx;
ALTER INDEX public.events_at_idx ATTACH PARTITION public.events_2026_at_idx;
-- A partitioned table created in this file, and its partition, are empty.
CREATE TABLE visits (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX visits_at_idx ON visits (at);
