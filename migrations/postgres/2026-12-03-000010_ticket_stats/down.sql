DROP TABLE ticket_stats;
