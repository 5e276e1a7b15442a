DROP INDEX visits_visited_at_id_idx;
DROP INDEX enterprises_created_at_id_idx;
DROP INDEX users_created_at_id_idx;
DROP INDEX tickets_supervised_idx;
DROP INDEX tickets_kind_idx;
DROP INDEX tickets_urgency_idx;
DROP INDEX tickets_status_idx;
