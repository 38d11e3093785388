-- The full-text index moves out of this file into its own SQLite file beside it (`<database>-search`),
-- written by its own connection (SearchIndex.swift). FTS5 tokenising used to run inside the store
-- path's write transaction, on the backfill's critical path (a fifth of a text-heavy backfill's time);
-- with its own file it has its own write lock and runs on the other core while mail is stored.
--
-- What stays here is a queue: every change that can add an email to the index or take it out (a
-- sighting added, deleted or undeleted, an email removed) appends the email's id. The indexer
-- reconciles each queued email with the truth in this file (indexed exactly when some mailbox still
-- holds it) and records how far it has read in its own file, in the same transaction as the index
-- changes, so a crash on either side loses nothing and repeats nothing wrongly. Search drains the queue
-- before answering, so answers stay complete. The side file is derived data: when it is missing or
-- older than this file's queue, the indexer rebuilds it from every email.

DROP TRIGGER IF EXISTS main.email_search_sighting_deleted;
DROP TRIGGER IF EXISTS main.email_search_sighting_removed;
DROP TRIGGER IF EXISTS main.email_search_email_removed;
DROP TABLE IF EXISTS main.email_search;
DROP VIEW IF EXISTS main.email_search_source;
DROP TABLE IF EXISTS main.email_search_docs;

CREATE TABLE email_search_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    email_id INTEGER NOT NULL
);

CREATE TRIGGER email_search_queue_sighting_added AFTER INSERT ON email_sightings
BEGIN
    INSERT INTO email_search_queue (email_id) VALUES (NEW.email_id);
END;

-- The store path's upsert sets deleted_at on every re-store; only a real change is queued.
CREATE TRIGGER email_search_queue_sighting_deleted AFTER UPDATE OF deleted_at ON email_sightings
WHEN OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    INSERT INTO email_search_queue (email_id) VALUES (NEW.email_id);
END;

CREATE TRIGGER email_search_queue_sighting_removed AFTER DELETE ON email_sightings
BEGIN
    INSERT INTO email_search_queue (email_id) VALUES (OLD.email_id);
END;

CREATE TRIGGER email_search_queue_email_removed AFTER DELETE ON emails
BEGIN
    INSERT INTO email_search_queue (email_id) VALUES (OLD.id);
END;
