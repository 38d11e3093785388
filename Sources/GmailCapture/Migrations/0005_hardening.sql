-- Hardening (issue 11): attachment counts per run, token lifecycle, single-use OAuth states, message
-- fingerprints for canonical identity, and installation markers. Additive only.

-- Attachment downloads run inside each mailbox's sync; the run row counts them.
ALTER TABLE email_sync_runs ADD COLUMN attachments_stored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_sync_runs ADD COLUMN attachments_failed INTEGER NOT NULL DEFAULT 0;

-- API tokens expire and record their last use; tokens issued before this migration expire 90 days
-- after they were created.
ALTER TABLE email_api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE email_api_tokens ADD COLUMN last_used_at TEXT;
UPDATE email_api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+90 days') WHERE expires_at IS NULL;

-- OAuth consent states: one row per started flow; consumed (used_at) by the first callback.
CREATE TABLE email_oauth_states (
    nonce TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    mailbox TEXT NOT NULL COLLATE NOCASE,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- A fingerprint of what the message says (sender, date, subject, text): two sightings are one email
-- only when their Message-ID and their fingerprint agree. NULL on rows stored before this migration
-- (computed from the stored columns when first needed).
ALTER TABLE emails ADD COLUMN fingerprint TEXT;

-- Installation facts (for example the marker `serve --fake` writes into a database it seeded).
CREATE TABLE email_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
