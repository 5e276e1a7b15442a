-- 主办/协办 (issue 13): see migrations/postgres, same version, in SQLite's types.
CREATE TABLE ticket_co_handlers (
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    department_id BLOB NOT NULL REFERENCES departments (id),
    requested_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    replied_at TEXT,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'replied', 'not_replied', 'became_lead')),
    PRIMARY KEY (ticket_id, seq)
) STRICT;
CREATE INDEX ticket_co_handlers_department_idx ON ticket_co_handlers (department_id, ticket_id);
CREATE INDEX ticket_co_handlers_requested_at_idx ON ticket_co_handlers (requested_at);

-- A co-handling department's reply limit runs the alert ladder (issue 13): the ledger's
-- deadline may be 'reply'. SQLite cannot change a CHECK in place: the ledger is rebuilt,
-- rows kept, as in 2026-12-02-000004_alerts.
DROP INDEX alert_recipients_user_id_idx;
DROP INDEX alerts_unacknowledged_idx;
DROP INDEX alerts_created_at_id_idx;
DROP INDEX alerts_acknowledged_by_idx;
ALTER TABLE alert_recipients RENAME TO alert_recipients_old;
ALTER TABLE alerts RENAME TO alerts_old;
CREATE TABLE alerts (
    id BLOB PRIMARY KEY NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets (id),
    deadline TEXT NOT NULL CHECK (deadline IN ('accept', 'contact', 'resolve', 'reply')),
    -- Whom the deadline binds: 'handler', the handling department, or
    -- 'co_handler:<department id>' for a co-handling department's reply limit.
    party TEXT NOT NULL DEFAULT 'handler',
    level TEXT NOT NULL CHECK (level IN ('warning', 'overdue', 'escalation')),
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by BLOB REFERENCES users (id),
    CONSTRAINT alerts_key UNIQUE (ticket_id, deadline, party, level, due_at)
) STRICT;
CREATE INDEX alerts_acknowledged_by_idx ON alerts (acknowledged_by);
CREATE INDEX alerts_created_at_id_idx ON alerts (created_at, id);
CREATE INDEX alerts_unacknowledged_idx ON alerts (created_at, id)
    WHERE level = 'escalation' AND acknowledged_at IS NULL;
CREATE TABLE alert_recipients (
    alert_id BLOB NOT NULL REFERENCES alerts (id),
    user_id BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (alert_id, user_id)
) STRICT;
CREATE INDEX alert_recipients_user_id_idx ON alert_recipients (user_id);
INSERT INTO alerts (id, ticket_id, deadline, party, level, due_at, created_at, acknowledged_at, acknowledged_by)
    SELECT id, ticket_id, deadline, party, level, due_at, created_at, acknowledged_at, acknowledged_by
      FROM alerts_old;
INSERT INTO alert_recipients (alert_id, user_id)
    SELECT alert_id, user_id FROM alert_recipients_old WHERE alert_id IN (SELECT id FROM alerts);
DROP TABLE alert_recipients_old;
DROP TABLE alerts_old;
