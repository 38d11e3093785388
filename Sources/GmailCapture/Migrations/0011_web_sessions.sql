-- Web UI sessions (issue 16): a pasted API token is exchanged for a session cookie. The cookie's secret
-- is stored only as its SHA-256; each session expires, can be revoked (sign-out), and lives only as long
-- as the API token it was opened with (a revoked or expired token ends its sessions). The CSRF token of
-- the session's forms is random per session.
CREATE TABLE email_web_sessions (
    session_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    token_rowid INTEGER NOT NULL,                     -- email_api_tokens.rowid it was opened with
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at TEXT
);
CREATE INDEX email_web_sessions_user ON email_web_sessions(user_id);
