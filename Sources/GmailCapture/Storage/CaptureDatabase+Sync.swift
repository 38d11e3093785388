public import Foundation
import CaptureParsing
import GRDB

/// Counts of one sync run.
public struct SyncCounts: Sendable, Equatable, Codable {
    public var listed = 0
    public var fetched = 0
    public var stored = 0
    public var skipped = 0
    public var gone = 0
    public var parked = 0
    public var failed = 0
    public var deleted = 0
    public var quotaUnits = 0
    /// Attachments downloaded and stored in this run (content already held counts too).
    public var attachmentsStored = 0
    /// Attachment downloads that failed in this run (retried by later runs, up to the attempt limit).
    public var attachmentsFailed = 0
    /// Attachments over the size limit, recorded as skipped in this run (not kept on the run row).
    public var attachmentsSkipped = 0
    public init() {}
}

/// Sync bookkeeping: cursor, checkpoints, per-item ledger, runs, recoveries. Each method one transaction.
extension CaptureDatabase {
    public func setSyncState(accountId: Int64, _ state: SyncState, reason: String?) async throws {
        try await writer.write { db in
            try db.execute(
                sql:
                    "UPDATE email_accounts SET sync_state = ?, state_reason = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                arguments: [state, reason, accountId])
        }
    }

    public func setEnabled(accountId: Int64, _ enabled: Bool) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_accounts SET enabled = ?, sync_state = ? WHERE id = ?",
                arguments: [enabled, enabled ? SyncState.idle : SyncState.paused, accountId])
        }
    }

    /// Moves the history cursor forward only (compare-and-set); returns false when it would go back.
    @discardableResult
    public func advanceCursor(accountId: Int64, to historyId: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE email_accounts SET history_cursor = ?1 WHERE id = ?2
                    AND (history_cursor IS NULL OR CAST(history_cursor AS INTEGER) < CAST(?1 AS INTEGER))
                    """, arguments: [historyId, accountId])
            return db.changesCount > 0
        }
    }

    /// Recovery pins a new cursor from getProfile (always later than the expired one).
    public func pinCursor(accountId: Int64, to historyId: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE email_accounts SET history_cursor = ? WHERE id = ?", arguments: [historyId, accountId])
        }
    }

    public func saveBackfillCheckpoint(accountId: Int64, pageToken: String?, complete: Bool) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_accounts SET backfill_page_token = ?, backfill_complete = ? WHERE id = ?",
                arguments: [pageToken, complete, accountId])
        }
    }

    public func markSuccess(accountId: Int64, at: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_accounts SET last_success_at = ?, sync_state = ?, state_reason = NULL WHERE id = ?",
                arguments: [Self.iso(at), SyncState.idle, accountId])
        }
    }

    /// Gmail ids this mailbox already has stored (deleted ones included).
    public func knownGmailIds(accountId: Int64) async throws -> Set<String> {
        try await writer.read { db in
            Set(try String.fetchAll(db, sql: "SELECT gmail_id FROM email_sightings WHERE account_id = ?", arguments: [accountId]))
        }
    }

    /// Live (not deleted) Gmail ids of this mailbox with internalDate at or after `since` (ms).
    public func liveGmailIds(accountId: Int64, since: Int64) async throws -> Set<String> {
        try await writer.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT gmail_id FROM email_sightings WHERE account_id = ? AND deleted_at IS NULL AND internal_date >= ?",
                    arguments: [accountId, since]))
        }
    }

    public func updateLabels(accountId: Int64, gmailId: String, labels: [String]) async throws {
        let json = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_sightings SET label_ids = ? WHERE account_id = ? AND gmail_id = ?",
                arguments: [json, accountId, gmailId])
        }
    }

    /// Marks sightings deleted (the rows stay, with the time of deletion). Returns how many changed.
    @discardableResult
    public func markDeleted(accountId: Int64, gmailIds: [String], at: Date) async throws -> Int {
        guard !gmailIds.isEmpty else { return 0 }
        return try await writer.write { db in
            var n = 0
            for id in gmailIds {
                try db.execute(
                    sql: "UPDATE email_sightings SET deleted_at = ? WHERE account_id = ? AND gmail_id = ? AND deleted_at IS NULL",
                    arguments: [Self.iso(at), accountId, id])
                n += db.changesCount
            }
            return n
        }
    }

    // MARK: Per-item ledger

    /// Records a failed attempt; returns the attempts so far.
    public func recordFailure(accountId: Int64, gmailId: String, reason: String) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_item_ledger (account_id, gmail_id, state, reason) VALUES (?1, ?2, ?4, ?3)
                    ON CONFLICT(account_id, gmail_id) DO UPDATE SET attempts = attempts + 1, reason = excluded.reason, state = ?4,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [accountId, gmailId, reason, LedgerState.failed])
            return try Int.fetchOne(
                db, sql: "SELECT attempts FROM email_item_ledger WHERE account_id = ? AND gmail_id = ?", arguments: [accountId, gmailId])
                ?? 1
        }
    }

    /// Terminal classification of an item: `parked`, `gone` or `excluded`.
    public func classify(accountId: Int64, gmailId: String, state: LedgerState, reason: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_item_ledger (account_id, gmail_id, state, reason) VALUES (?, ?, ?, ?)
                    ON CONFLICT(account_id, gmail_id) DO UPDATE SET state = excluded.state, reason = excluded.reason,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [accountId, gmailId, state, reason])
        }
    }

    /// Items still owed (failed, not yet parked): the cursor waits for them.
    public func owedItems(accountId: Int64) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT gmail_id FROM email_item_ledger WHERE account_id = ? AND state = ? ORDER BY gmail_id",
                arguments: [accountId, LedgerState.failed])
        }
    }

    public func ledgerCounts(accountId: Int64) async throws -> [String: Int] {
        try await writer.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM email_item_ledger WHERE account_id = ? GROUP BY state", arguments: [accountId])
            {
                out[r["state"]] = r["n"]
            }
            return out
        }
    }

    // MARK: Runs and recoveries

    public func startRun(accountId: Int64, kind: RunKind, at: Date) async throws -> Int64 {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO email_sync_runs (account_id, kind, started_at) VALUES (?, ?, ?)",
                arguments: [accountId, kind, Self.iso(at)])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, status: RunStatus, counts: SyncCounts, error: String?, at: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE email_sync_runs SET finished_at = ?, status = ?, listed = ?, fetched = ?, stored = ?, skipped = ?, gone = ?,
                        parked = ?, quota_units = ?, error = ?, attachments_stored = ?, attachments_failed = ? WHERE id = ?
                    """,
                arguments: [
                    Self.iso(at), status, counts.listed, counts.fetched, counts.stored, counts.skipped, counts.gone,
                    counts.parked, counts.quotaUnits, error, counts.attachmentsStored, counts.attachmentsFailed, id,
                ])
        }
    }

    public func recordRecovery(accountId: Int64, at: Date, reason: String, gapFrom: Int64?, listed: Int, deleted: Int) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO email_recoveries (account_id, at, reason, gap_from, listed, deleted) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [accountId, Self.iso(at), reason, gapFrom, listed, deleted])
        }
    }

    public func recoveries(accountId: Int64, since: Date) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM email_recoveries WHERE account_id = ? AND at >= ?", arguments: [accountId, Self.iso(since)])
                ?? 0
        }
    }

    /// Live Gmail ids per mailbox, for assertions: what this store believes each mailbox holds.
    public func liveMessageSet(accountId: Int64) async throws -> Set<String> {
        try await writer.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT gmail_id FROM email_sightings WHERE account_id = ? AND deleted_at IS NULL", arguments: [accountId]))
        }
    }
}
