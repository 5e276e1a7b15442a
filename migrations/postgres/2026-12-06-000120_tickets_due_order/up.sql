-- The ticket list's deadline order (`sort=due`, issue 12): earliest open deadline first,
-- in keyset pages over (overdue_at, id). It replaces the index on overdue_at alone, which
-- served the `overdue` filter's `overdue_at <= now` and serves it still from its first
-- column; with the id beside it, a page after a cursor starts inside the index and reads
-- its page's rows only, however many tickets are open.
DROP INDEX tickets_overdue_at_idx;
CREATE INDEX tickets_due_idx ON tickets (overdue_at, id) WHERE overdue_at IS NOT NULL;
