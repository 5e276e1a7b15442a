-- The statistics of DESIGN.md section 6 (issue 10): what each ticket contributes,
-- computed by the domain (jiban_domain::stats::TicketFacts) at every save and kept here,
-- one narrow row per ticket, so a period's counts are SUMs over its rows (found by
-- received_at) and never a replay of timelines. A table of its own: the ticket row is
-- already 32 columns wide, and a year of these rows is a few megabytes to aggregate.
-- Flags are integers 0 or 1 so that SUM is the same on both backends. department_id,
-- assignee_id and overdue_at repeat the ticket's, written in the same transaction: the
-- tables are grouped by the holder now, and "overdue now" is overdue_at <= now. Copies
-- need no foreign keys of their own: the ticket's guard them.
--
-- The tickets written before this table get a row with filled = false: the store fills
-- them in at start (persistence::stats::backfill), reading the timeline where the
-- snapshot lacks the first round.
CREATE TABLE ticket_stats (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    received_at timestamptz NOT NULL,
    department_id uuid,
    assignee_id uuid,
    overdue_at timestamptz,
    filled boolean NOT NULL,
    disposed integer NOT NULL CHECK (disposed IN (0, 1)),
    accepted integer NOT NULL CHECK (accepted IN (0, 1)),
    withdrawn integer NOT NULL CHECK (withdrawn IN (0, 1)),
    responded_on_time integer NOT NULL CHECK (responded_on_time IN (0, 1)),
    resolved_now integer NOT NULL CHECK (resolved_now IN (0, 1)),
    has_outcome integer NOT NULL CHECK (has_outcome IN (0, 1)),
    rated integer NOT NULL CHECK (rated IN (0, 1)),
    on_time integer NOT NULL CHECK (on_time IN (0, 1)),
    supervised_now integer NOT NULL CHECK (supervised_now IN (0, 1)),
    rating_tenths integer NOT NULL CHECK (rating_tenths BETWEEN 0 AND 10),
    minutes_to_contact bigint,
    minutes_to_outcome bigint
);
CREATE INDEX ticket_stats_received_at_idx ON ticket_stats (received_at);
CREATE INDEX ticket_stats_department_id_idx ON ticket_stats (department_id, received_at);
CREATE INDEX ticket_stats_unfilled_idx ON ticket_stats (ticket_id) WHERE NOT filled;
INSERT INTO ticket_stats (ticket_id, received_at, department_id, assignee_id, overdue_at, filled,
    disposed, accepted, withdrawn, responded_on_time, resolved_now, has_outcome, rated, on_time, supervised_now, rating_tenths)
SELECT id, created_at, department_id, assignee_id, overdue_at, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM tickets;
