-- GmailCapture email tables. Additive: creates only email_* / emails tables, never touches the CRM's own.
-- Applied once by the ledgered runner (table email_schema_migrations); never edit after release.

CREATE TABLE email_accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    user_id TEXT,
    auth_method TEXT NOT NULL DEFAULT 'dwd' CHECK (auth_method IN ('dwd', 'oauth')),
    enabled INTEGER NOT NULL DEFAULT 1,
    sync_state TEXT NOT NULL DEFAULT 'new',          -- new, backfilling, idle, syncing, needs_attention, needs_admin, paused
    state_reason TEXT,
    history_cursor TEXT,                              -- only moves forward (compare-and-set)
    backfill_page_token TEXT,
    backfill_complete INTEGER NOT NULL DEFAULT 0,
    last_success_at TEXT,
    last_internal_date INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE email_threads (
    id INTEGER PRIMARY KEY,
    subject TEXT,
    first_at TEXT,
    last_at TEXT,
    message_count INTEGER NOT NULL DEFAULT 0
);

-- One row per real email, whoever received it.
CREATE TABLE emails (
    id INTEGER PRIMARY KEY,
    canonical_key TEXT NOT NULL UNIQUE,               -- mid:<Message-ID> or hash:<sha256>
    message_id TEXT,
    in_reply_to TEXT,
    subject TEXT,
    from_name TEXT,
    from_address TEXT,
    sent_at TEXT,                                     -- Date header, ISO 8601 UTC
    text_body TEXT,
    html_body TEXT,
    snippet TEXT,
    has_calendar INTEGER NOT NULL DEFAULT 0,
    size_estimate INTEGER,
    thread_id INTEGER REFERENCES email_threads(id),
    problems TEXT NOT NULL DEFAULT '[]',              -- JSON array
    first_seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX emails_thread ON emails(thread_id);
CREATE INDEX emails_sent_at ON emails(sent_at);

-- Which mailbox saw which email (Gmail id, threadId, labels, direction, deletion).
CREATE TABLE email_sightings (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES email_accounts(id) ON DELETE CASCADE,
    gmail_id TEXT NOT NULL,
    gmail_thread_id TEXT,
    label_ids TEXT NOT NULL DEFAULT '[]',
    direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    internal_date INTEGER,
    history_id TEXT,
    deleted_at TEXT,
    stored_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (account_id, gmail_id)
);
CREATE INDEX email_sightings_email ON email_sightings(email_id);

CREATE TABLE email_participants (
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc', 'reply_to')),
    position INTEGER NOT NULL,
    name TEXT,
    address TEXT NOT NULL,
    address_canonical TEXT,
    PRIMARY KEY (email_id, role, position)
);
CREATE INDEX email_participants_address ON email_participants(address_canonical);

-- Thread membership keys: RFC Message-IDs (rfc:<id>) and per-mailbox Gmail thread ids (gmail:<mailbox>:<id>).
CREATE TABLE email_thread_keys (
    key TEXT PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES email_threads(id) ON DELETE CASCADE
);
CREATE INDEX email_thread_keys_thread ON email_thread_keys(thread_id);

-- Attachment content, stored once by SHA-256 (path derived from the hash, never from a filename).
CREATE TABLE email_attachment_blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    stored_path TEXT NOT NULL,
    stored_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Attachments as each sighting carries them (stub rows at ingest; the download worker fills sha256).
CREATE TABLE email_attachments (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    sighting_id INTEGER NOT NULL REFERENCES email_sightings(id) ON DELETE CASCADE,
    part_id TEXT NOT NULL,
    filename TEXT,                                    -- data only
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_id TEXT,
    inline INTEGER NOT NULL DEFAULT 0,
    gmail_attachment_id TEXT,                         -- ephemeral; refreshed by refetching the message
    sha256 TEXT REFERENCES email_attachment_blobs(sha256),
    download_state TEXT NOT NULL DEFAULT 'pending' CHECK (download_state IN ('pending', 'stored', 'skipped', 'failed')),
    state_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sighting_id, part_id)
);
CREATE INDEX email_attachments_state ON email_attachments(download_state);

-- Message <-> investor links, each with the rule that made it.
CREATE TABLE email_investor_links (
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    investor_id TEXT NOT NULL,
    rule TEXT NOT NULL CHECK (rule IN ('exact', 'alias', 'domain', 'manual')),
    confidence REAL NOT NULL,
    matched_address TEXT,
    PRIMARY KEY (email_id, investor_id)
);
CREATE INDEX email_investor_links_investor ON email_investor_links(investor_id);

CREATE TABLE email_sync_runs (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES email_accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                               -- backfill, incremental, recovery
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'partial', 'error')),
    listed INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    gone INTEGER NOT NULL DEFAULT 0,
    parked INTEGER NOT NULL DEFAULT 0,
    quota_units INTEGER NOT NULL DEFAULT 0,
    error TEXT
);

-- Items that failed or were parked after their retry budget (the cursor waits for them).
CREATE TABLE email_item_ledger (
    account_id INTEGER NOT NULL REFERENCES email_accounts(id) ON DELETE CASCADE,
    gmail_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('failed', 'parked', 'gone', 'excluded')),
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (account_id, gmail_id)
);

CREATE TABLE email_oauth_tokens (
    account_email TEXT PRIMARY KEY COLLATE NOCASE,
    sealed_refresh_token TEXT NOT NULL,               -- AES-256-GCM, v1:base64
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
