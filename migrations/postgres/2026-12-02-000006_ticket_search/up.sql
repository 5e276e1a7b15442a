-- Text search on tickets (issue 9, point 3; docs/ARCHITECTURE.md, "Text search"):
-- `GET /v1/tickets?q=停电` finds the tickets whose title or description contains the
-- query. The server computes each ticket's character bigrams (jiban_domain::search, the
-- same code on both backends) when it files the ticket, and a GIN index over them finds
-- the candidates; `folded` (the lowercased title, a line break, the lowercased
-- description) is then searched for the query itself, so the answer is exact. Bigrams,
-- not pg_trgm's trigrams: most Chinese words are two characters, from which a trigram
-- index extracts nothing.
--
-- A table of its own, written once: titles and descriptions never change, so the many
-- updates of a ticket's row never touch this index.
CREATE TABLE ticket_search (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    -- NULL (with grams) only until the server's first start after this step fills it in.
    folded text,
    grams text[]
);
CREATE INDEX ticket_search_grams_idx ON ticket_search USING gin (grams);
-- The tickets filed before this step: the server computes their grams in Rust when it
-- starts (SQL could not repeat the Rust normalisation exactly), finding them here.
CREATE INDEX ticket_search_pending_idx ON ticket_search (ticket_id) WHERE folded IS NULL;
INSERT INTO ticket_search (ticket_id) SELECT id FROM tickets;
