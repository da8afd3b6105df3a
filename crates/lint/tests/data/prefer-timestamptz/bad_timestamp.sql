CREATE TABLE events (id bigint, at timestamp(3));
-- expect: prefer-timestamptz
