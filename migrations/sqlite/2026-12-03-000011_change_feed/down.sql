DROP INDEX ticket_stats_changed_idx;
ALTER TABLE ticket_stats DROP COLUMN changed;
