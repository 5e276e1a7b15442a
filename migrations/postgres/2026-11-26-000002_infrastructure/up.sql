-- Infrastructure: sessions, login throttling, the notification outbox and idempotent
-- ticket creation. Tickets come in a later step; ticket_id columns get their foreign keys
-- then.

-- Refresh tokens are stored hashed and rotated on use: the successor is replaced_by.
CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    replaced_by uuid REFERENCES refresh_tokens (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_replaced_by_idx ON refresh_tokens (replaced_by);

-- One row per failed login, keyed 'account:<name>' or 'address:<ip>': throttling lives in
-- the database so every node sees the same count. Old rows are pruned by attempted_at.
CREATE TABLE login_attempts (
    id uuid PRIMARY KEY,
    key text NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX login_attempts_key_attempted_at_idx ON login_attempts (key, attempted_at);
CREATE INDEX login_attempts_attempted_at_idx ON login_attempts (attempted_at);

-- Every notification (email or webhook) is one row per recipient. The dedupe key makes
-- deciding a notification twice insert nothing; delivery is at least once.
CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    dedupe_key text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('email', 'webhook')),
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    -- JSON as text: jsonb cannot pass through diesel's MultiConnection.
    payload text,
    ticket_id uuid,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When pending: due time; when sending: end of the claimer's lease.
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    sent_at timestamptz
);
-- The sender reads only rows that may be due, in claim order. outbox::MAYBE_DUE repeats
-- this predicate word for word in the query's text (not as bound parameters), so the
-- planner can always prove the index usable.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_status_created_at_idx ON outbox (status, created_at);
CREATE INDEX outbox_ticket_id_idx ON outbox (ticket_id);

-- Idempotency-Key of POST /v1/tickets, per user: the fingerprint of the first request and,
-- once it finished, its response. Expires after 24 h.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL,
    fingerprint text NOT NULL,
    response_status integer,
    response_body text,
    ticket_id uuid,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_ticket_id_idx ON idempotency_keys (ticket_id);
