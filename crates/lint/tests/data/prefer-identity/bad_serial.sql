CREATE TABLE events (id bigserial PRIMARY KEY);
-- expect: prefer-identity
