DROP INDEX tickets_due_idx;
CREATE INDEX tickets_overdue_at_idx ON tickets (overdue_at) WHERE overdue_at IS NOT NULL;
