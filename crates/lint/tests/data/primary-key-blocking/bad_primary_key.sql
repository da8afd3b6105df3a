ALTER TABLE events ADD PRIMARY KEY (id);
-- expect: primary-key-blocking
