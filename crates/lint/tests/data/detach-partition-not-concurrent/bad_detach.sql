ALTER TABLE events DETACH PARTITION events_2024;
-- expect: detach-partition-not-concurrent
