ALTER TABLE contacts ADD CONSTRAINT contacts_no_overlap EXCLUDE USING gist (email WITH =);
-- expect: exclude-constraint-blocking
