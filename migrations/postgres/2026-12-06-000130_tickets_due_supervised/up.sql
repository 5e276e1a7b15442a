-- The dashboard's 超期与督办 list (`sort=due&supervised=true`, issue 12): the supervised
-- open tickets, earliest deadline first. Walking `tickets_due_idx` (every open ticket)
-- and keeping the supervised ones read more rows per page as the open backlog grew (1.63
-- times slower at 100,000 tickets than at 10,000, docs/BENCHMARKS.md); this index holds
-- those tickets only, so a page reads its own rows. Few tickets are supervised, so
-- writes barely pay for it.
CREATE INDEX tickets_due_supervised_idx ON tickets (overdue_at, id)
    WHERE overdue_at IS NOT NULL AND supervised;
