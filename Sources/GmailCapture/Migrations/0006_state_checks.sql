-- The states the code writes, enforced by the schema (SQLite cannot add a CHECK to an existing column, so
-- triggers do it; the other state columns have had CHECK constraints since 0001). Values match the Swift
-- enums SyncState and RunKind exactly.
CREATE TRIGGER email_accounts_sync_state_insert BEFORE INSERT ON email_accounts
WHEN NEW.sync_state NOT IN ('new', 'backfilling', 'recovering', 'idle', 'error', 'needs_admin', 'needs_attention', 'paused')
BEGIN SELECT RAISE(ABORT, 'email_accounts.sync_state: not a sync state'); END;

CREATE TRIGGER email_accounts_sync_state_update BEFORE UPDATE OF sync_state ON email_accounts
WHEN NEW.sync_state NOT IN ('new', 'backfilling', 'recovering', 'idle', 'error', 'needs_admin', 'needs_attention', 'paused')
BEGIN SELECT RAISE(ABORT, 'email_accounts.sync_state: not a sync state'); END;

CREATE TRIGGER email_sync_runs_kind_insert BEFORE INSERT ON email_sync_runs
WHEN NEW.kind NOT IN ('backfill', 'incremental')
BEGIN SELECT RAISE(ABORT, 'email_sync_runs.kind: not a run kind'); END;

CREATE TRIGGER email_sync_runs_kind_update BEFORE UPDATE OF kind ON email_sync_runs
WHEN NEW.kind NOT IN ('backfill', 'incremental')
BEGIN SELECT RAISE(ABORT, 'email_sync_runs.kind: not a run kind'); END;
