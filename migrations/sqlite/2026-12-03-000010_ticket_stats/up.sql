-- The statistics' facts per ticket: see migrations/postgres, same version, in SQLite's types.
CREATE TABLE ticket_stats (
    ticket_id BLOB PRIMARY KEY NOT NULL REFERENCES tickets (id),
    received_at TEXT NOT NULL,
    department_id BLOB,
    assignee_id BLOB,
    overdue_at TEXT,
    filled INTEGER NOT NULL CHECK (filled IN (0, 1)),
    disposed INTEGER NOT NULL CHECK (disposed IN (0, 1)),
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    withdrawn INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
    responded_on_time INTEGER NOT NULL CHECK (responded_on_time IN (0, 1)),
    resolved_now INTEGER NOT NULL CHECK (resolved_now IN (0, 1)),
    has_outcome INTEGER NOT NULL CHECK (has_outcome IN (0, 1)),
    rated INTEGER NOT NULL CHECK (rated IN (0, 1)),
    on_time INTEGER NOT NULL CHECK (on_time IN (0, 1)),
    supervised_now INTEGER NOT NULL CHECK (supervised_now IN (0, 1)),
    rating_tenths INTEGER NOT NULL CHECK (rating_tenths BETWEEN 0 AND 10),
    minutes_to_contact INTEGER,
    minutes_to_outcome INTEGER
) STRICT;
CREATE INDEX ticket_stats_received_at_idx ON ticket_stats (received_at);
CREATE INDEX ticket_stats_department_id_idx ON ticket_stats (department_id, received_at);
CREATE INDEX ticket_stats_unfilled_idx ON ticket_stats (ticket_id) WHERE NOT filled;
INSERT INTO ticket_stats (ticket_id, received_at, department_id, assignee_id, overdue_at, filled,
    disposed, accepted, withdrawn, responded_on_time, resolved_now, has_outcome, rated, on_time, supervised_now, rating_tenths)
SELECT id, created_at, department_id, assignee_id, overdue_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM tickets;
