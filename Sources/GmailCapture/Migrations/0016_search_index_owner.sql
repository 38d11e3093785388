-- Which capture file a search index file belongs to (SearchIndex): a random id, recorded by the index
-- when it is built. An index file beside a capture file with another id (the database was deleted and
-- started again, or another database copied in) is rebuilt, even when its queue position happens to be
-- within the new file's queue. A restored backup keeps the id of the file it copies (README "Search").
INSERT INTO email_meta (key, value) VALUES ('search_index_owner', lower(hex(randomblob(16))));
