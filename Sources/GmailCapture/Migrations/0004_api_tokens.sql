-- Bearer API tokens for the /api/email routes, stored as SHA-256 hashes (the token itself is shown once).
CREATE TABLE email_api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at TEXT
);
CREATE INDEX email_api_tokens_user ON email_api_tokens(user_id);
