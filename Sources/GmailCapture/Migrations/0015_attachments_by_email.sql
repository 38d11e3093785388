-- Attachments by email: the search indexer reads each email's filenames, and the read model each
-- message's attachments. Without this index every such lookup scanned every attachment row: rebuilding
-- the search index of 104,598 emails took 181 s, nearly all of it here (1.6 s with it). The store path
-- paid the same scan for every message it indexed before migration 0014.
CREATE INDEX email_attachments_email ON email_attachments(email_id);
