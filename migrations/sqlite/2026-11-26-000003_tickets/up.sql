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
    contact_met INTEGER NOT NULL CHECK (contact_met IN (0, 1)),
    supervised INTEGER NOT NULL CHECK (supervised IN (0, 1)),
    transfer_count INTEGER NOT NULL CHECK (transfer_count >= 0),
    redo_count INTEGER NOT NULL CHECK (redo_count >= 0),
    close_reason TEXT CHECK (close_reason IN ('rated', 'rating_window_ended', 'redirect', 'duplicate', 'out_of_scope', 'withdrawn')),
    next_alert_at TEXT,
    version INTEGER NOT NULL CHECK (version >= 1),
    last_seq INTEGER NOT NULL CHECK (last_seq >= 1),
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

-- The alert ledger (DESIGN.md section 5): each alert decided once, whoever computes it.
CREATE TABLE alerts (
    id BLOB PRIMARY KEY NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    deadline TEXT NOT NULL CHECK (deadline IN ('accept', 'contact', 'resolve')),
    level TEXT NOT NULL CHECK (level IN ('warning', 'overdue', 'escalation')),
    -- The deadline instant the alert is about: a moved deadline makes a new alert.
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by BLOB REFERENCES users (id),
    UNIQUE (ticket_id, deadline, level, due_at)
) STRICT;
CREATE INDEX alerts_acknowledged_by_idx ON alerts (acknowledged_by);

CREATE TABLE alert_recipients (
    alert_id BLOB NOT NULL REFERENCES alerts (id),
    user_id BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (alert_id, user_id)
) STRICT;
CREATE INDEX alert_recipients_user_id_idx ON alert_recipients (user_id);

-- 驻厂走访 (六必访): a liaison's visit to an enterprise, linked to the tickets it touched.
CREATE TABLE visits (
    id BLOB PRIMARY KEY NOT NULL,
    enterprise_id BLOB NOT NULL REFERENCES enterprises (id),
    liaison_id BLOB NOT NULL REFERENCES users (id),
    visited_at TEXT NOT NULL,
    purpose TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX visits_enterprise_id_idx ON visits (enterprise_id, visited_at);
CREATE INDEX visits_liaison_id_idx ON visits (liaison_id);

CREATE TABLE visit_tickets (
    visit_id BLOB NOT NULL REFERENCES visits (id),
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (visit_id, ticket_id)
) STRICT;
CREATE INDEX visit_tickets_ticket_id_idx ON visit_tickets (ticket_id);
