-- 主办/协办 (issue 13): a ticket's requests to co-handling departments. The ticket's
-- `state` holds them whole (the domain's `Ticket::co_handlers`); this table repeats what
-- SQL asks of them, written from the same value in the same transaction whenever they
-- change: the co-handling departments' officers' scope and the `co_handling` filter
-- (department_id), and the statistics (requested_at, due_at, replied_at, status). A table
-- of its own: the ticket row is at diesel's 32 columns, and a ticket may have several.
-- `seq` is the request's place in the ticket's list, from 1; the rows are rewritten as a
-- whole, so no row outlives its place. No earlier ticket has any request: nothing to fill.
CREATE TABLE ticket_co_handlers (
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    seq integer NOT NULL CHECK (seq >= 1),
    department_id uuid NOT NULL REFERENCES departments (id),
    requested_at timestamptz NOT NULL,
    -- The reply limit in force.
    due_at timestamptz NOT NULL,
    -- The first reply: on time when at or before due_at.
    replied_at timestamptz,
    ended_at timestamptz,
    status text NOT NULL CHECK (status IN ('open', 'replied', 'not_replied', 'became_lead')),
    PRIMARY KEY (ticket_id, seq)
);
-- Scope and the filter: the tickets a department co-handles.
CREATE INDEX ticket_co_handlers_department_idx ON ticket_co_handlers (department_id, ticket_id);
-- The statistics: a period's requests by when they were made.
CREATE INDEX ticket_co_handlers_requested_at_idx ON ticket_co_handlers (requested_at);

-- A co-handling department's reply limit runs the alert ladder (issue 13): the ledger's
-- deadline may be 'reply', with the party 'co_handler:<department id>'.
ALTER TABLE alerts DROP CONSTRAINT alerts_deadline_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_deadline_check
    CHECK (deadline IN ('accept', 'contact', 'resolve', 'reply'));
