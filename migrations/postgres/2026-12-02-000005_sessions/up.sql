-- Sessions (issue 8): every refresh token of one login shares its session_id, so logout
-- revokes the whole chain in one statement, and session_started_at bounds the chain's
-- life (JIBAN_SESSION_DAYS) however often it is refreshed. Tokens from before this step
-- each start a session of their own at their creation.
ALTER TABLE refresh_tokens ADD COLUMN session_id uuid;
ALTER TABLE refresh_tokens ADD COLUMN session_started_at timestamptz;
UPDATE refresh_tokens SET session_id = id, session_started_at = created_at;
ALTER TABLE refresh_tokens ALTER COLUMN session_id SET NOT NULL;
ALTER TABLE refresh_tokens ALTER COLUMN session_started_at SET NOT NULL;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
