-- Full-text search over captured mail (SQLite FTS5, BM25 ranking). One row per email that some mailbox
-- still holds (rowid = emails.id): its subject, text body, sender (name and address), To/Cc recipients
-- (names and addresses) and attachment filenames. Visibility is not stored here: the read model decides,
-- per viewer and per message, which columns a query may match (ReadModel+Search.swift).

-- What the index holds for one email, in one place (the migration, the store path and the tests use it).
CREATE VIEW email_search_source AS
SELECT
    e.id AS id,
    COALESCE(e.subject, '') AS subject,
    COALESCE(e.text_body, '') AS body,
    COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
              FROM email_participants p WHERE p.email_id = e.id AND p.role = 'from'), '') AS sender,
    COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
              FROM email_participants p WHERE p.email_id = e.id AND p.role IN ('to', 'cc')), '') AS recipients,
    COALESCE((SELECT group_concat(f, ' ') FROM (SELECT DISTINCT a.filename AS f FROM email_attachments a
              WHERE a.email_id = e.id AND a.filename IS NOT NULL AND a.filename <> '' ORDER BY a.filename)), '') AS filenames
FROM emails e;

CREATE VIRTUAL TABLE email_search USING fts5(
    subject, body, sender, recipients, filenames,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Built for the mail already captured.
INSERT INTO email_search (rowid, subject, body, sender, recipients, filenames)
SELECT s.id, s.subject, s.body, s.sender, s.recipients, s.filenames FROM email_search_source s
WHERE EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = s.id AND g.deleted_at IS NULL);

-- Mail no mailbox holds any more leaves the index (the store path adds it back if it is seen again).
CREATE TRIGGER email_search_sighting_deleted AFTER UPDATE OF deleted_at ON email_sightings
WHEN NEW.deleted_at IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = NEW.email_id AND g.deleted_at IS NULL)
BEGIN
    DELETE FROM email_search WHERE rowid = NEW.email_id;
END;

CREATE TRIGGER email_search_sighting_removed AFTER DELETE ON email_sightings
WHEN NOT EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = OLD.email_id AND g.deleted_at IS NULL)
BEGIN
    DELETE FROM email_search WHERE rowid = OLD.email_id;
END;

CREATE TRIGGER email_search_email_removed AFTER DELETE ON emails
BEGIN
    DELETE FROM email_search WHERE rowid = OLD.id;
END;
