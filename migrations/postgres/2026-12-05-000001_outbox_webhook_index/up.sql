-- Only webhook deliveries name a webhook: the index of outbox.webhook_id (its foreign key's,
-- and cancel_webhook's `webhook_id = $1`, which implies NOT NULL) need not hold the NULL of
-- every mail queued, so a create's or an alert's mail no longer writes an entry to it.
DROP INDEX outbox_webhook_id_idx;
CREATE INDEX outbox_webhook_id_idx ON outbox (webhook_id) WHERE webhook_id IS NOT NULL;
