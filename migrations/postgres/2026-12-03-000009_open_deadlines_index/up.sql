-- The tickets with an open deadline (overdue_at is set), newest first: the list's
-- `overdue=true` walks them in its order and stops at the page's end. With only the index
-- on overdue_at it read every overdue ticket and sorted them, and the overdue tickets a
-- county never closes pile up over the years (issue 9: 2.5 times slower at 100,000
-- tickets than at 10,000). What this walk skips is the open tickets not yet overdue, which
-- the intake rate bounds, not the history.
CREATE INDEX tickets_open_deadline_created_idx ON tickets (created_at, id)
    WHERE overdue_at IS NOT NULL;
