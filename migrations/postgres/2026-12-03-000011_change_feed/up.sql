-- The change feed (GET /v1/tickets/changes, DESIGN.md section 7, issue 10): where each
-- ticket last changed, so an export can follow every ticket changed after a cursor.
-- Every event on a ticket saves its ticket_stats row in the event's transaction, so the
-- position lives there and costs no statement of its own.
--
-- On PostgreSQL the position is the id of the transaction that wrote the row (xid8, as
-- bigint): transactions commit out of order, so the feed serves only positions below the
-- oldest transaction still in flight (pg_snapshot_xmin), and a row written later always
-- lands beyond what was served. The tickets before this migration start the feed at 0.
ALTER TABLE ticket_stats
    ADD COLUMN changed bigint NOT NULL DEFAULT 0;
ALTER TABLE ticket_stats
    ALTER COLUMN changed SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX ticket_stats_changed_idx ON ticket_stats (changed, ticket_id);
