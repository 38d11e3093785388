-- Relationship figures of every external correspondent and every domain (issue 14): who-knows and
-- contact suggestions read maintained summaries instead of every message of the party.
--
-- The same three tables as the investors' (0013), keyed by party instead of investor:
--   party = a canonical external address (contains '@'), or a domain with at least two labels (every
--           suffix of an external address's host: b@eu.fund.example gives eu.fund.example and
--           fund.example, so a domain's figures include its subdomains and count each message once).
-- Teammates' addresses and the workspace domain are never parties. Derived by
-- RelationshipCalculator.contributions from the same queue (email_rel_dirty) as the investors' entries.
CREATE TABLE email_rel_people_entries (
    party TEXT NOT NULL,
    scope TEXT NOT NULL,
    email_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    at REAL NOT NULL,
    dir INTEGER NOT NULL CHECK (dir IN (0, 1, 2)),
    weight REAL NOT NULL,
    credited TEXT,
    PRIMARY KEY (party, scope, email_id)
) WITHOUT ROWID;
CREATE INDEX email_rel_people_entries_email ON email_rel_people_entries(email_id);
CREATE INDEX email_rel_people_entries_thread ON email_rel_people_entries(party, scope, thread_id);
-- The month a window starts in is read per party (the investors' table reads it across all of them).
CREATE INDEX email_rel_people_entries_at ON email_rel_people_entries(party, at);

CREATE TABLE email_rel_people_summary (
    party TEXT NOT NULL,
    scope TEXT NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    last_email INTEGER NOT NULL,
    last_by TEXT,
    last_in REAL,
    last_out REAL,
    n INTEGER NOT NULL,
    n_in INTEGER NOT NULL,
    n_out INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    PRIMARY KEY (party, scope)
) WITHOUT ROWID;

CREATE TABLE email_rel_people_months (
    party TEXT NOT NULL,
    scope TEXT NOT NULL,
    month INTEGER NOT NULL,
    n_in INTEGER NOT NULL DEFAULT 0,
    n_out INTEGER NOT NULL DEFAULT 0,
    w_in REAL NOT NULL DEFAULT 0,
    w_out REAL NOT NULL DEFAULT 0,
    w_cc REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (party, scope, month)
) WITHOUT ROWID;

-- Every address party by its host with the labels reversed (b@eu.fund.example: example.fund.eu), so a
-- domain's people are one range read: the host itself or anything under '<reversed>.'.
CREATE TABLE email_rel_people_hosts (
    address TEXT PRIMARY KEY,
    rhost TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX email_rel_people_hosts_rhost ON email_rel_people_hosts(rhost);

-- Mail already captured is derived on first use (the people's entries record what they were derived for
-- in email_meta, like the investors').
INSERT OR IGNORE INTO email_rel_dirty (email_id) SELECT id FROM emails;
