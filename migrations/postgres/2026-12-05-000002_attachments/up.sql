-- Attachments (issue 11): files on a ticket, kept in the object store named by
-- JIBAN_STORAGE_URL under `storage_key` (a random id, never the file's name). A row is
-- written only after its object is stored, in the transaction that appends the ticket's
-- `attachment_added` entry; an object with no row (a crash in between) is removed by the
-- housekeeping pass after a grace period. Part of the record: never updated or deleted.
CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    storage_key text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    -- The content's SHA-256, lowercase hex: the download's ETag.
    sha256 text NOT NULL,
    internal boolean NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX attachments_ticket_id_idx ON attachments (ticket_id, created_at);
CREATE INDEX attachments_uploaded_by_idx ON attachments (uploaded_by);
-- Housekeeping asks which stored objects have a row.
CREATE UNIQUE INDEX attachments_storage_key_idx ON attachments (storage_key);

CREATE FUNCTION attachments_are_the_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'attachments are part of the record: never updated or deleted';
END;
$$;
CREATE TRIGGER attachments_append_only BEFORE UPDATE OR DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION attachments_are_the_record();
