-- Infrastructure: the same tables as migrations/postgres, in SQLite's types.
-- Tickets come in a later step; ticket_id columns get their foreign keys then.

-- Refresh tokens are stored hashed and rotated on use: the successor is replaced_by.
CREATE TABLE refresh_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    replaced_by BLOB REFERENCES refresh_tokens (id),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_replaced_by_idx ON refresh_tokens (replaced_by);

-- One row per failed login, keyed 'account:<name>' or 'address:<ip>': throttling lives in
-- the database so every node sees the same count. Old rows are pruned by attempted_at.
CREATE TABLE login_attempts (
    id BLOB PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    attempted_at TEXT NOT NULL
) STRICT;
CREATE INDEX login_attempts_key_attempted_at_idx ON login_attempts (key, attempted_at);
CREATE INDEX login_attempts_attempted_at_idx ON login_attempts (attempted_at);

-- Every notification (email or webhook) is one row per recipient. The dedupe key makes
-- deciding a notification twice insert nothing; delivery is at least once.
CREATE TABLE outbox (
    id BLOB PRIMARY KEY NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT,
    ticket_id BLOB,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When pending: due time; when sending: end of the claimer's lease.
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
) STRICT;
-- The sender reads only rows that may be due, in claim order. outbox::MAYBE_DUE repeats
-- this predicate word for word in the query's text (not as bound parameters), so the
-- planner can always prove the index usable.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_status_created_at_idx ON outbox (status, created_at);
CREATE INDEX outbox_ticket_id_idx ON outbox (ticket_id);

-- Idempotency-Key of POST /v1/tickets, per user: the fingerprint of the first request and,
-- once it finished, its response. Expires after 24 h.
CREATE TABLE idempotency_keys (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    ticket_id BLOB,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_ticket_id_idx ON idempotency_keys (ticket_id);
