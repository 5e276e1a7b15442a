DROP TABLE ticket_search;
