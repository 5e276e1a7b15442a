-- Webhooks (DESIGN.md section 5; issue 10, point 4). See the PostgreSQL step for the why.
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    include_internal INTEGER NOT NULL CHECK (include_internal IN (0, 1)),
    created_by BLOB REFERENCES users (id),
    created_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;
CREATE INDEX webhooks_created_by_idx ON webhooks (created_by);

CREATE TABLE webhook_events (
    webhook_id BLOB NOT NULL REFERENCES webhooks (id),
    event TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event)
) STRICT;
CREATE INDEX webhook_events_event_idx ON webhook_events (event, webhook_id);

ALTER TABLE outbox ADD COLUMN webhook_id BLOB REFERENCES webhooks (id);
CREATE INDEX outbox_webhook_id_idx ON outbox (webhook_id);
-- A node without a mail server claims only webhook rows (outbox::claim_due_webhooks, which
-- repeats this predicate word for word), without walking the mail queued meanwhile.
CREATE INDEX outbox_webhooks_due_idx ON outbox (next_attempt_at, id)
    WHERE status IN ('pending', 'sending') AND kind = 'webhook';
