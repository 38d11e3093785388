-- Gmail push notifications (issue 18): one row per mailbox with a users.watch or a notification.
-- The watch (when Gmail says it lapses, the historyId it answered, when it was last renewed, the last
-- failure) and what arrived (when the last notification came, its historyId, how many, how many stale).
-- A notification is only a hint: the stored cursor (email_accounts.history_cursor) decides what a sync fetches.
CREATE TABLE email_push_state (
    account_id INTEGER PRIMARY KEY REFERENCES email_accounts(id) ON DELETE CASCADE,
    watch_expires_at TEXT,                            -- ISO 8601 UTC; NULL: no watch
    watch_history_id TEXT,                            -- what users.watch answered
    watched_at TEXT,                                  -- last successful users.watch
    watch_failures INTEGER NOT NULL DEFAULT 0,        -- consecutive failed users.watch calls
    watch_error TEXT,                                 -- the last failure (no secrets)
    watch_failed_at TEXT,                             -- when it failed (the retry backoff counts from here)
    last_notification_at TEXT,
    last_notification_history_id TEXT,
    notifications_received INTEGER NOT NULL DEFAULT 0,
    notifications_stale INTEGER NOT NULL DEFAULT 0    -- historyId at or below the cursor: nothing woken
);
