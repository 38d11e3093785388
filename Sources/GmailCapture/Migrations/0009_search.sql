-- Full-text search over captured mail (SQLite FTS5, BM25 ranking). One document per email that some
-- mailbox still holds (rowid = emails.id): its subject, text body, sender (name and address), To/Cc
-- recipients (names and addresses) and attachment filenames. Visibility is not stored here: the read
-- model decides, per viewer and per message, which columns a query may match (ReadModel+Search.swift).
--
-- The index is external-content: it holds no copy of the text, which it reads back from
-- `email_search_source` for snippets and for deletions. A deletion must give FTS5 exactly the values
-- that were indexed, so everything the source reads is immutable once indexed: the email's subject and
-- body and its participants never change, and the filenames are written once into `email_search_docs`
-- (whose row is also the record that the email is indexed).

CREATE TABLE email_search_docs (
    email_id INTEGER PRIMARY KEY REFERENCES emails(id) ON DELETE CASCADE,
    filenames TEXT NOT NULL
);

CREATE VIEW email_search_source AS
SELECT
    e.id AS id,
    COALESCE(e.subject, '') AS subject,
    COALESCE(e.text_body, '') AS body,
    COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
              FROM email_participants p WHERE p.email_id = e.id AND p.role = 'from'), '') AS sender,
    COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
              FROM email_participants p WHERE p.email_id = e.id AND p.role IN ('to', 'cc')), '') AS recipients,
    d.filenames AS filenames
FROM emails e JOIN email_search_docs d ON d.email_id = e.id;

CREATE VIRTUAL TABLE email_search USING fts5(
    subject, body, sender, recipients, filenames,
    content = 'email_search_source', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Built for the mail already captured.
INSERT INTO email_search_docs (email_id, filenames)
SELECT e.id, COALESCE((SELECT group_concat(f, ' ') FROM (SELECT DISTINCT a.filename AS f FROM email_attachments a
                       WHERE a.email_id = e.id AND a.filename IS NOT NULL AND a.filename <> '' ORDER BY a.filename)), '')
FROM emails e
WHERE EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = e.id AND g.deleted_at IS NULL);

INSERT INTO email_search (rowid, subject, body, sender, recipients, filenames)
SELECT id, subject, body, sender, recipients, filenames FROM email_search_source;

-- Mail no mailbox holds any more leaves the index (the store path adds it back if it is seen again).
CREATE TRIGGER email_search_sighting_deleted AFTER UPDATE OF deleted_at ON email_sightings
WHEN NEW.deleted_at IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = NEW.email_id AND g.deleted_at IS NULL)
BEGIN
    INSERT INTO email_search (email_search, rowid, subject, body, sender, recipients, filenames)
    SELECT 'delete', id, subject, body, sender, recipients, filenames FROM email_search_source WHERE id = NEW.email_id;
    DELETE FROM email_search_docs WHERE email_id = NEW.email_id;
END;

CREATE TRIGGER email_search_sighting_removed AFTER DELETE ON email_sightings
WHEN NOT EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = OLD.email_id AND g.deleted_at IS NULL)
BEGIN
    INSERT INTO email_search (email_search, rowid, subject, body, sender, recipients, filenames)
    SELECT 'delete', id, subject, body, sender, recipients, filenames FROM email_search_source WHERE id = OLD.email_id;
    DELETE FROM email_search_docs WHERE email_id = OLD.email_id;
END;

-- Before the row goes, while its participants are still there to give the indexed values.
CREATE TRIGGER email_search_email_removed BEFORE DELETE ON emails
BEGIN
    INSERT INTO email_search (email_search, rowid, subject, body, sender, recipients, filenames)
    SELECT 'delete', id, subject, body, sender, recipients, filenames FROM email_search_source WHERE id = OLD.id;
    DELETE FROM email_search_docs WHERE email_id = OLD.id;
END;
