-- Webhooks (DESIGN.md section 5; issue 10, point 4): an admin registers a URL and the
-- events it wants; each event is then one outbox row of kind 'webhook' per subscriber,
-- delivered, retried and dead-lettered like the mail (api/src/webhook).
--
-- The secret signs every delivery (HMAC-SHA256), so it is kept as given, not hashed; the
-- API shows it once, at creation. DELETE keeps the row (deleted_at, secret blanked): the
-- outbox rows queued for the webhook keep their foreign key, and the admin's view of the
-- outbox still says where they were going. A deleted webhook is sent nothing more.
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    secret text NOT NULL,
    -- Whether internal entries (DESIGN.md rule 8) are delivered too.
    include_internal boolean NOT NULL,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    deleted_at timestamptz
);
CREATE INDEX webhooks_created_by_idx ON webhooks (created_by);

-- The event names a webhook subscribed to (jiban_domain::webhook: ticket.<kind>,
-- alert.<level>, ticket.*, alert.*, *). Looked up by name for every event queued.
CREATE TABLE webhook_events (
    webhook_id uuid NOT NULL REFERENCES webhooks (id),
    event text NOT NULL,
    PRIMARY KEY (webhook_id, event)
);
CREATE INDEX webhook_events_event_idx ON webhook_events (event, webhook_id);

-- Which webhook a delivery is for: its secret signs the delivery.
ALTER TABLE outbox ADD COLUMN webhook_id uuid REFERENCES webhooks (id);
CREATE INDEX outbox_webhook_id_idx ON outbox (webhook_id);
-- A node without a mail server claims only webhook rows (outbox::claim_due_webhooks, which
-- repeats this predicate word for word), without walking the mail queued meanwhile.
CREATE INDEX outbox_webhooks_due_idx ON outbox (next_attempt_at, id)
    WHERE status IN ('pending', 'sending') AND kind = 'webhook';
