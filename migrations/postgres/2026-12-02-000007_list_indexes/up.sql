-- Every filter of the ticket list has an index that leads with it and then gives the
-- list's order, so a filter that matches few tickets, or none, reads those few and not
-- the whole history (issue 9: `status=in_progress` with no match walked every ticket of
-- the department). status, urgency, kind and supervised join enterprise_id,
-- department_id and assignee_id, which had theirs; overdue has its partial index on
-- overdue_at, created_from/created_to use (created_at, id), number its unique index.
CREATE INDEX tickets_status_idx ON tickets (status, created_at, id);
CREATE INDEX tickets_urgency_idx ON tickets (urgency, created_at, id);
CREATE INDEX tickets_kind_idx ON tickets (kind, created_at, id);
CREATE INDEX tickets_supervised_idx ON tickets (supervised, created_at, id);
-- The other keyset lists, newest first: users, enterprises, visits.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX enterprises_created_at_id_idx ON enterprises (created_at, id);
CREATE INDEX visits_visited_at_id_idx ON visits (visited_at, id);
