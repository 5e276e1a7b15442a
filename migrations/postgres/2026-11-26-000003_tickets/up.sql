-- Tickets and their append-only timeline.
--
-- A ticket row holds the columns that lists, filters, the scanner and statistics query,
-- and `state`: the whole domain ticket as JSON (deadline derivations, texts, extension,
-- rating and appeal). Both are written from the same domain value in one statement.
-- Ticket numbers come from one SEQUENCE per year (ticket_number_<year>), created on first
-- use, so no create waits on another's row lock.

CREATE TABLE tickets (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE,
    enterprise_id uuid NOT NULL REFERENCES enterprises (id),
    kind text NOT NULL CHECK (kind IN ('complaint', 'request', 'consultation', 'suggestion')),
    urgency text NOT NULL CHECK (urgency IN ('emergency', 'utilities', 'general', 'complex')),
    category text NOT NULL REFERENCES categories (code),
    title text NOT NULL,
    status text NOT NULL CHECK (status IN ('submitted', 'in_progress', 'awaiting_info', 'resolved', 'explained', 'closed', 'withdrawn')),
    channel text NOT NULL CHECK (channel IN ('online', 'liaison', 'hotline', 'supervision')),
    created_by uuid REFERENCES users (id),
    first_responder_id uuid REFERENCES users (id),
    department_id uuid REFERENCES departments (id),
    assignee_id uuid REFERENCES users (id),
    accept_due_at timestamptz NOT NULL,
    contact_due_at timestamptz NOT NULL,
    resolve_due_at timestamptz NOT NULL,
    -- Some deadline assumed Monday to Friday for a year without calendar data.
    provisional boolean NOT NULL,
    accepted_at timestamptz,
    contacted_at timestamptz,
    resolved_at timestamptz,
    closed_at timestamptz,
    -- The contact deadline in force has been met (contacted_at keeps the first contact).
    contact_met boolean NOT NULL,
    supervised boolean NOT NULL,
    transfer_count integer NOT NULL CHECK (transfer_count >= 0),
    redo_count integer NOT NULL CHECK (redo_count >= 0),
    close_reason text CHECK (close_reason IN ('rated', 'rating_window_ended', 'redirect', 'duplicate', 'out_of_scope', 'withdrawn')),
    -- The earliest instant an alert could fall due; NULL when none can.
    next_alert_at timestamptz,
    version bigint NOT NULL CHECK (version >= 1),
    -- The seq of the ticket's latest event, so appending needs no extra read.
    last_seq integer NOT NULL CHECK (last_seq >= 1),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    state text NOT NULL
);
-- Keyset pagination on (created_at, id), whole and per scope.
CREATE INDEX tickets_created_at_id_idx ON tickets (created_at, id);
CREATE INDEX tickets_enterprise_id_idx ON tickets (enterprise_id, created_at, id);
CREATE INDEX tickets_department_id_idx ON tickets (department_id, created_at, id);
CREATE INDEX tickets_assignee_id_idx ON tickets (assignee_id, created_at, id);
CREATE INDEX tickets_first_responder_id_idx ON tickets (first_responder_id);
CREATE INDEX tickets_created_by_idx ON tickets (created_by);
CREATE INDEX tickets_category_idx ON tickets (category);
-- The scanner reads only open tickets whose next alert is due.
CREATE INDEX tickets_next_alert_at_idx ON tickets (next_alert_at)
    WHERE status IN ('submitted', 'in_progress', 'awaiting_info', 'resolved', 'explained');
-- Loading a year's calendar recomputes the provisional deadlines.
CREATE INDEX tickets_provisional_idx ON tickets (resolve_due_at) WHERE provisional;

-- The timeline (DESIGN.md rule 9): rows are only ever inserted.
CREATE TABLE ticket_events (
    id bigserial PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    seq integer NOT NULL CHECK (seq >= 1),
    version bigint NOT NULL CHECK (version >= 1),
    kind text NOT NULL,
    actor_id uuid REFERENCES users (id),
    at timestamptz NOT NULL,
    internal boolean NOT NULL,
    data text NOT NULL,
    UNIQUE (ticket_id, seq)
);
CREATE INDEX ticket_events_actor_id_idx ON ticket_events (actor_id);

CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ticket_events_append_only
    BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();
CREATE TRIGGER ticket_events_no_truncate
    BEFORE TRUNCATE ON ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_events_append_only();

-- SQLite's counter table exists here too, unused, so both backends have one schema.
CREATE TABLE ticket_numbers (
    year integer PRIMARY KEY,
    last_seq bigint NOT NULL
);

-- The alert ledger (DESIGN.md section 5): each alert decided once, whoever computes it.
CREATE TABLE alerts (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    deadline text NOT NULL CHECK (deadline IN ('accept', 'contact', 'resolve')),
    level text NOT NULL CHECK (level IN ('warning', 'overdue', 'escalation')),
    -- The deadline instant the alert is about: a moved deadline makes a new alert.
    due_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by uuid REFERENCES users (id),
    UNIQUE (ticket_id, deadline, level, due_at)
);
CREATE INDEX alerts_acknowledged_by_idx ON alerts (acknowledged_by);

CREATE TABLE alert_recipients (
    alert_id uuid NOT NULL REFERENCES alerts (id),
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (alert_id, user_id)
);
CREATE INDEX alert_recipients_user_id_idx ON alert_recipients (user_id);

-- 驻厂走访 (六必访): a liaison's visit to an enterprise, linked to the tickets it touched.
CREATE TABLE visits (
    id uuid PRIMARY KEY,
    enterprise_id uuid NOT NULL REFERENCES enterprises (id),
    liaison_id uuid NOT NULL REFERENCES users (id),
    visited_at timestamptz NOT NULL,
    purpose text NOT NULL,
    summary text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX visits_enterprise_id_idx ON visits (enterprise_id, visited_at);
CREATE INDEX visits_liaison_id_idx ON visits (liaison_id);

CREATE TABLE visit_tickets (
    visit_id uuid NOT NULL REFERENCES visits (id),
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (visit_id, ticket_id)
);
CREATE INDEX visit_tickets_ticket_id_idx ON visit_tickets (ticket_id);
