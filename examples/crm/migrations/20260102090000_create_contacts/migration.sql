CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    full_name TEXT,
    updated_at TEXT
);
CREATE UNIQUE INDEX contacts_workspace_email_key ON contacts (workspace_id, email);

-- Keep updated_at current; the trigger body holds semicolons of its own.
CREATE TRIGGER contacts_touch AFTER UPDATE ON contacts BEGIN
    UPDATE contacts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
