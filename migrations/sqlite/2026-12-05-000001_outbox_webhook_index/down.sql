DROP INDEX outbox_webhook_id_idx;
CREATE INDEX outbox_webhook_id_idx ON outbox (webhook_id);
