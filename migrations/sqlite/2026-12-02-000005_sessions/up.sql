-- Sessions (issue 8): the same columns as migrations/postgres. SQLite adds a NOT NULL
-- column only with a default; every insert sets both, so the defaults never stay.
ALTER TABLE refresh_tokens ADD COLUMN session_id BLOB NOT NULL DEFAULT x'';
ALTER TABLE refresh_tokens ADD COLUMN session_started_at TEXT NOT NULL DEFAULT '';
UPDATE refresh_tokens SET session_id = id, session_started_at = created_at;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
