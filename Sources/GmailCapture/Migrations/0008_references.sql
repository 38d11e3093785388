-- The References header of each email (a JSON array of normalised Message-IDs), for reply detection in the
-- relationship figures. NULL on rows stored before this migration (In-Reply-To is used for those).
ALTER TABLE emails ADD COLUMN reference_ids TEXT;
