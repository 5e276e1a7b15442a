-- Deadline alerts (DESIGN.md section 5, issue 7).
--
-- tickets.overdue_at: the instant from which the ticket is overdue if nothing changes
-- (the domain's Ticket::overdue_since: its earliest open deadline whose clock runs; NULL
-- while none can pass, e.g. while the clock is stopped for missing information), so the
-- `overdue` filter is one comparison that agrees with the ticket and the scanner. It
-- replaces contact_met, which only that filter read.
ALTER TABLE tickets DROP COLUMN contact_met;
ALTER TABLE tickets ADD COLUMN overdue_at timestamptz;
CREATE INDEX tickets_overdue_at_idx ON tickets (overdue_at) WHERE overdue_at IS NOT NULL;

-- The ledger's key names the party a deadline binds as well as the deadline, so the
-- co-handling departments' reply deadlines fit later: 'handler' for the handling
-- department today.
ALTER TABLE alerts ADD COLUMN party text NOT NULL DEFAULT 'handler';
ALTER TABLE alerts DROP CONSTRAINT alerts_ticket_id_deadline_level_due_at_key;
ALTER TABLE alerts ADD CONSTRAINT alerts_key UNIQUE (ticket_id, deadline, party, level, due_at);
-- Keyset pages of the ledger, newest first; and the escalations nobody acknowledged.
CREATE INDEX alerts_created_at_id_idx ON alerts (created_at, id);
CREATE INDEX alerts_unacknowledged_idx ON alerts (created_at, id)
    WHERE level = 'escalation' AND acknowledged_at IS NULL;

-- Permanent rejections (SMTP 5xx) so far: JIBAN_MAIL_MAX_ATTEMPTS of them make a row
-- dead. Transient failures (no connection, 4xx) never do, however long an outage lasts.
ALTER TABLE outbox ADD COLUMN rejections integer NOT NULL DEFAULT 0 CHECK (rejections >= 0);

-- Open tickets written before the alert schedule existed have no next_alert_at (nor an
-- overdue_at): make them due now, so the scanner's first pass records whatever alerts
-- they are owed and stores both instants.
UPDATE tickets SET next_alert_at = created_at
 WHERE status IN ('submitted', 'in_progress', 'awaiting_info') AND next_alert_at IS NULL;
