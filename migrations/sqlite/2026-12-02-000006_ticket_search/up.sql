-- Text search on tickets (issue 9, point 3): the same design as migrations/postgres, with
-- an FTS5 table as the gram index. Its tokens are the grams the server computed
-- (jiban_domain::search), separated by spaces; the `ascii` tokenizer keeps each one whole
-- (every non-ASCII character is part of a token, and a gram's ASCII characters are
-- letters or digits, already lowercase). Contentless, without positions or sizes: it
-- only answers which rows hold every gram.
--
-- `id` is a rowid alias, so the FTS rowids that point at it survive VACUUM (an implicit
-- rowid may change).
CREATE TABLE ticket_search (
    id INTEGER PRIMARY KEY NOT NULL,
    ticket_id BLOB NOT NULL UNIQUE REFERENCES tickets (id),
    -- NULL only until the server's first start after this step fills it in.
    folded TEXT
) STRICT;
CREATE INDEX ticket_search_pending_idx ON ticket_search (id) WHERE folded IS NULL;
CREATE VIRTUAL TABLE ticket_search_grams USING fts5 (
    grams, content = '', detail = none, columnsize = 0, tokenize = 'ascii'
);
INSERT INTO ticket_search (ticket_id) SELECT id FROM tickets;
