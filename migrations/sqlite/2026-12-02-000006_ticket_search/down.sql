DROP TABLE ticket_search_grams;
DROP TABLE ticket_search;
