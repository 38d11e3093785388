-- Team visibility (issue 13): each teammate's sharing level, their private/shared marks, and the log of
-- reads of one teammate's mail by another. Additive only.

-- A teammate's sharing level for the mail their mailbox holds (absent: the firm default,
-- CRM_GMAIL_DEFAULT_SHARING). Values match the Swift enum SharingLevel.
CREATE TABLE email_sharing_levels (
    teammate TEXT PRIMARY KEY COLLATE NOCASE,
    level TEXT NOT NULL CHECK (level IN ('metadata', 'subject', 'full')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- An owner's override: a thread, an external address or a domain made private (their mail in it, or with
-- it, hidden from everyone else) or shared (shown in full). `value`: the thread id, the canonical
-- address, or the domain.
CREATE TABLE email_privacy_marks (
    id INTEGER PRIMARY KEY,
    teammate TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL CHECK (kind IN ('thread', 'address', 'domain')),
    value TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('private', 'shared')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (teammate, kind, value)
);
CREATE INDEX email_privacy_marks_value ON email_privacy_marks(kind, value);

-- Every read by one teammate of another teammate's message at subject or full level.
CREATE TABLE email_access_log (
    id INTEGER PRIMARY KEY,
    viewer TEXT NOT NULL COLLATE NOCASE,
    owner TEXT NOT NULL COLLATE NOCASE,
    email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    message_id TEXT,
    level TEXT NOT NULL CHECK (level IN ('subject', 'full')),
    surface TEXT NOT NULL CHECK (surface IN ('cli', 'api', 'mcp', 'ui')),
    at TEXT NOT NULL
);
CREATE INDEX email_access_log_viewer ON email_access_log(viewer, at);
CREATE INDEX email_access_log_owner ON email_access_log(owner, at);
