DROP INDEX outbox_webhooks_due_idx;
DROP INDEX outbox_webhook_id_idx;
ALTER TABLE outbox DROP COLUMN webhook_id;
DROP TABLE webhook_events;
DROP TABLE webhooks;
