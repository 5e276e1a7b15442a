-- Tickets and their append-only timeline: the same tables as migrations/postgres, in
-- SQLite's types. Numbers come from ticket_numbers, a counter per year: SQLite has one
-- writer at a time (BEGIN IMMEDIATE), so the counter row costs no extra waiting.

CREATE TABLE tickets (
    id BLOB PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    enterprise_id BLOB NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL CHECK (kind IN ('complaint', 'request', 'consultation', 'suggestion')),
    urgency TEXT NOT NULL CHECK (urgency IN ('emergency', 'utilities', 'general', 'complex')),
    category TEXT NOT NULL REFERENCES categories (code),
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'in_progress', 'awaiting_info', 'resolved', 'explained', 'closed', 'withdrawn')),
    channel TEXT NOT NULL CHECK (channel IN ('online', 'liaison', 'hotline', 'supervision')),
    created_by BLOB REFERENCES users (id),
    first_responder_id BLOB REFERENCES users (id),
    department_id BLOB REFERENCES departments (id),
    assignee_id BLOB REFERENCES users (id),
    accept_due_at TEXT NOT NULL,
    contact_due_at TEXT NOT NULL,
    resolve_due_at TEXT NOT NULL,
    provisional INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    accepted_at TEXT,
    contacted_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
    supervised INTEGER NOT NULL CHECK (supervised IN (0, 1)),
    transfer_count INTEGER NOT NULL CHECK (transfer_count >= 0),
    redo_count INTEGER NOT NULL CHECK (redo_count >= 0),
    close_reason TEXT CHECK (close_reason IN ('rated', 'rating_window_ended', 'redirect', 'duplicate', 'out_of_scope', 'withdrawn')),
    next_alert_at TEXT,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
) STRICT;
CREATE INDEX tickets_created_at_id_idx ON tickets (created_at, id);
CREATE INDEX tickets_enterprise_id_idx ON tickets (enterprise_id, created_at, id);
CREATE INDEX tickets_department_id_idx ON tickets (department_id, created_at, id);
CREATE INDEX tickets_assignee_id_idx ON tickets (assignee_id, created_at, id);
CREATE INDEX tickets_first_responder_id_idx ON tickets (first_responder_id);
CREATE INDEX tickets_created_by_idx ON tickets (created_by);
CREATE INDEX tickets_category_idx ON tickets (category);
CREATE INDEX tickets_next_alert_at_idx ON tickets (next_alert_at)
    WHERE status IN ('submitted', 'in_progress', 'awaiting_info', 'resolved', 'explained');
CREATE INDEX tickets_provisional_idx ON tickets (resolve_due_at) WHERE provisional = 1;

CREATE TABLE ticket_events (
    -- A rowid alias: rows are never deleted, so ids only grow (no AUTOINCREMENT needed).
    id INTEGER PRIMARY KEY NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    version INTEGER NOT NULL CHECK (version >= 1),
    kind TEXT NOT NULL,
    actor_id BLOB REFERENCES users (id),
    at TEXT NOT NULL,
    internal INTEGER NOT NULL CHECK (internal IN (0, 1)),
    data TEXT NOT NULL,
    UNIQUE (ticket_id, seq)
) STRICT;
CREATE INDEX ticket_events_actor_id_idx ON ticket_events (actor_id);

CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only: UPDATE refused');
END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only: DELETE refused');
END;

CREATE TABLE ticket_numbers (
    year INTEGER PRIMARY KEY NOT NULL,
    last_seq INTEGER NOT NULL
) STRICT;
