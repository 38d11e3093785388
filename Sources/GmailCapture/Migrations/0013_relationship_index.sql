-- Relationship figures maintained as mail is stored, deleted and rematched (issue 14), so a query reads
-- a few hundred rows instead of every message.
--
-- email_rel_entries: one row per investor, scope ('' for the team, else a teammate's mailbox, lowercased)
-- and message that is an interaction of theirs, derived by RelationshipCalculator.contributions (the same
-- rules the per-query path applies): time (Unix seconds), direction (0 neither, 1 inbound, 2 outbound),
-- weight, and the teammate the message is credited to (lastContactBy).
CREATE TABLE email_rel_entries (
    investor_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    email_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    at REAL NOT NULL,
    dir INTEGER NOT NULL CHECK (dir IN (0, 1, 2)),
    weight REAL NOT NULL,
    credited TEXT,
    PRIMARY KEY (investor_id, scope, email_id)
) WITHOUT ROWID;
CREATE INDEX email_rel_entries_email ON email_rel_entries(email_id);
CREATE INDEX email_rel_entries_thread ON email_rel_entries(investor_id, scope, thread_id);
CREATE INDEX email_rel_entries_at ON email_rel_entries(at);

-- Per investor and scope: what does not depend on the clock.
CREATE TABLE email_rel_summary (
    investor_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    last_email INTEGER NOT NULL,                      -- the latest interaction (ties: the higher id)
    last_by TEXT,
    last_in REAL,
    last_out REAL,
    n INTEGER NOT NULL,
    n_in INTEGER NOT NULL,
    n_out INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    PRIMARY KEY (investor_id, scope)
) WITHOUT ROWID;

-- Per investor, scope and calendar month (UTC, year * 12 + month - 1): the counts and weights the
-- 30/90/365-day windows add up; the month a window starts in is read from the entries.
CREATE TABLE email_rel_months (
    investor_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    month INTEGER NOT NULL,
    n_in INTEGER NOT NULL DEFAULT 0,
    n_out INTEGER NOT NULL DEFAULT 0,
    w_in REAL NOT NULL DEFAULT 0,
    w_out REAL NOT NULL DEFAULT 0,
    w_cc REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (investor_id, scope, month)
) WITHOUT ROWID;

-- Messages whose entries must be derived again: every new or changed mailbox copy, every removed email.
-- (NOT EXISTS rather than INSERT OR IGNORE: a trigger's statements take the outer statement's conflict
-- policy, so OR IGNORE would not hold inside an upsert's trigger.)
CREATE TABLE email_rel_dirty (email_id INTEGER PRIMARY KEY);
CREATE TRIGGER email_rel_sighting_added AFTER INSERT ON email_sightings
BEGIN
    INSERT INTO email_rel_dirty (email_id) SELECT NEW.email_id WHERE NOT EXISTS (SELECT 1 FROM email_rel_dirty WHERE email_id = NEW.email_id);
END;
CREATE TRIGGER email_rel_sighting_changed AFTER UPDATE OF deleted_at, internal_date ON email_sightings
BEGIN
    INSERT INTO email_rel_dirty (email_id) SELECT NEW.email_id WHERE NOT EXISTS (SELECT 1 FROM email_rel_dirty WHERE email_id = NEW.email_id);
END;
CREATE TRIGGER email_rel_email_removed AFTER DELETE ON emails
BEGIN
    INSERT INTO email_rel_dirty (email_id) SELECT OLD.id WHERE NOT EXISTS (SELECT 1 FROM email_rel_dirty WHERE email_id = OLD.id);
END;

-- Mail already captured: everything is derived on first use (the index records what it was built for in
-- email_meta, and rebuilds when the investors, the teammates or the workspace domain change).
INSERT INTO email_rel_dirty (email_id) SELECT id FROM emails;
