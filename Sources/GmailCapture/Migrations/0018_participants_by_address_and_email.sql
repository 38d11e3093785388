-- Participants by address and then email (was: by address alone), so "the newest emails of this address"
-- is read in index order and stops early: the display names who-knows and suggestions show (the name last
-- seen among the emails a viewer may see) read a few rows per address instead of all of them (55,724 rows
-- for the 64 suggestion candidates of the 104,598-email demo firm). Every lookup by address alone still
-- uses it as a prefix; the store path keeps one index, as before.
DROP INDEX email_participants_address;
CREATE INDEX email_participants_address ON email_participants(address_canonical, email_id);
