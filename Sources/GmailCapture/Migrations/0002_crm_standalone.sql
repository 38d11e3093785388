-- Minimal CRM tables for standalone use. In an existing CRM database these already exist and are left
-- as they are (IF NOT EXISTS); point the table/column mapping at them instead if they differ.
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    admin INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS investors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    emails TEXT NOT NULL DEFAULT '[]',                -- JSON array; the first is the primary address
    domains TEXT NOT NULL DEFAULT '[]'                -- JSON array of firm domains
);
