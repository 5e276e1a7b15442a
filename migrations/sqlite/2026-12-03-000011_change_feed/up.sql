-- The change feed's position: see migrations/postgres, same version. SQLite runs one
-- writer at a time, so a counter (the largest position plus one, written by the store in
-- the event's transaction) grows in commit order and the feed serves all of it.
ALTER TABLE ticket_stats ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ticket_stats_changed_idx ON ticket_stats (changed, ticket_id);
