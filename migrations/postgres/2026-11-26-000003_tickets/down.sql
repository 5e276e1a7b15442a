DROP TABLE visit_tickets;
DROP TABLE visits;
DROP TABLE alert_recipients;
DROP TABLE alerts;
DROP TABLE ticket_numbers;
DROP TABLE ticket_events;
DROP FUNCTION ticket_events_append_only();
DROP TABLE tickets;
DO $$
DECLARE s record;
BEGIN
    FOR s IN SELECT sequencename FROM pg_sequences
             WHERE schemaname = current_schema() AND sequencename LIKE 'ticket\_number\_%'
    LOOP
        EXECUTE format('DROP SEQUENCE %I', s.sequencename);
    END LOOP;
END
$$;
