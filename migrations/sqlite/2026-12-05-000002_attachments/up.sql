-- Attachments (issue 11). See the PostgreSQL step for the why.
CREATE TABLE attachments (
    id BLOB PRIMARY KEY NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    storage_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    internal INTEGER NOT NULL CHECK (internal IN (0, 1)),
    uploaded_by BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX attachments_ticket_id_idx ON attachments (ticket_id, created_at);
CREATE INDEX attachments_uploaded_by_idx ON attachments (uploaded_by);
CREATE UNIQUE INDEX attachments_storage_key_idx ON attachments (storage_key);

CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments are part of the record: never updated or deleted');
END;
CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments are part of the record: never updated or deleted');
END;
