-- History-expiry recoveries per mailbox, for the loop breaker (K recoveries within T hours -> needs attention).
CREATE TABLE email_recoveries (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES email_accounts(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    gap_from INTEGER,                                 -- internalDate (ms) the gap was re-listed from
    listed INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX email_recoveries_account ON email_recoveries(account_id, at);
