DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE login_attempts;
DROP TABLE refresh_tokens;
