public import Foundation
import CaptureParsing
import GRDB

/// What tests read back and the states they set up, named by intent: tests assert through these (and
/// the public API), never through SQL of their own. `@_spi(Testing) import GmailCapture` to use them.
extension CaptureDatabase {
    /// How SQLite would run the read model's lookup of messages by Message-ID (`EXPLAIN QUERY PLAN`
    /// details), so a test can hold it to its indexes.
    @_spi(Testing) public func messageIdLookupPlan() async throws -> [String] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + ReadModel.listedIdSQL, arguments: ["<a@b>", "a@b"]).map {
                $0["detail"] as String
            }
        }
    }

    /// The plan of the search indexer's source query (what it indexes for a list of emails).
    @_spi(Testing) public func searchSourcePlan() async throws -> [String] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SearchIndex.source("main"), arguments: ["[1,2]"]).map {
                $0["detail"] as String
            }
        }
    }

    /// The query plans of who-knows' and suggestions' per-party reads: display names newest first, and
    /// the people's entries of the month a window starts in.
    @_spi(Testing) public func relationshipReadPlans() async throws -> (names: [String], window: [String]) {
        try await writer.read { db in
            func plan(_ sql: String, _ arguments: StatementArguments) throws -> [String] {
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            let people = RelationshipLedger.people
            return (
                try plan(ReadModel.lastNamesSQL, ["a@fund.example", 4, 0]),
                try plan(people.windowEntriesSQL(people.partiesClause()), ["cut": 0, "end": 1, "parties": "[\"fund.example\"]"])
            )
        }
    }

    /// One canonical email as stored.
    @_spi(Testing) public struct EmailRecord: Sendable, Equatable {
        public var id: Int64
        public var canonicalKey: String
        public var messageId: String?
        public var subject: String?
        public var threadId: Int64?
        /// The parse and identity problems recorded with it.
        public var problems: [String]
    }

    /// One mailbox's sighting of an email.
    @_spi(Testing) public struct SightingRecord: Sendable, Equatable {
        public var id: Int64
        public var emailId: Int64
        public var mailbox: String
        public var gmailId: String
        public var labelIds: [String]
        /// When the mailbox lost it (the row stays); nil while live.
        public var deletedAt: String?
    }

    /// One attachment row of one sighting.
    @_spi(Testing) public struct AttachmentRecord: Sendable, Equatable {
        public var id: Int64
        public var emailId: Int64
        public var sightingId: Int64
        public var partId: String
        public var filename: String?
        public var state: AttachmentState
        public var sha256: String?
        public var stateReason: String?
    }

    /// One email-to-investor link.
    @_spi(Testing) public struct InvestorLinkRecord: Sendable, Equatable {
        public var emailId: Int64
        public var investorId: String
        public var rule: MatchRule
        public var confidence: Double
    }

    /// One entry of the per-item ledger.
    @_spi(Testing) public struct LedgerEntry: Sendable, Equatable {
        public var mailbox: String
        public var gmailId: String
        public var state: LedgerState
        public var reason: String
    }

    /// One sync run.
    @_spi(Testing) public struct SyncRunRecord: Sendable, Equatable {
        public var mailbox: String
        public var kind: RunKind
        public var status: RunStatus
        public var stored: Int
    }

    /// One history-gap recovery.
    @_spi(Testing) public struct RecoveryRecord: Sendable, Equatable {
        public var mailbox: String
        public var reason: String
        public var listed: Int
        public var deleted: Int
    }

    /// Every canonical email, by id.
    /// Holds the writer in a transaction: `started` is signalled once it has it, and the transaction
    /// ends when `release` is signalled (tests of work that must go on while the writer is busy).
    @_spi(Testing) public func holdWriter(started: DispatchSemaphore, release: DispatchSemaphore) async throws {
        try await writer.write { _ in
            started.signal()
            release.wait()
        }
    }

    @_spi(Testing) public func emails() async throws -> [EmailRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, canonical_key, message_id, subject, thread_id, problems FROM emails ORDER BY id").map {
                EmailRecord(
                    id: $0["id"], canonicalKey: $0["canonical_key"], messageId: $0["message_id"], subject: $0["subject"],
                    threadId: $0["thread_id"], problems: Self.decodeList($0["problems"]))
            }
        }
    }

    /// Every sighting (or those of one Gmail id), ordered by Gmail id.
    @_spi(Testing) public func sightings(gmailId: String? = nil) async throws -> [SightingRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.email_id, a.email AS mailbox, s.gmail_id, s.label_ids, s.deleted_at
                    FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id
                    WHERE ?1 IS NULL OR s.gmail_id = ?1 ORDER BY s.gmail_id, s.id
                    """, arguments: [gmailId]
            ).map {
                SightingRecord(
                    id: $0["id"], emailId: $0["email_id"], mailbox: $0["mailbox"], gmailId: $0["gmail_id"],
                    labelIds: Self.decodeList($0["label_ids"]), deletedAt: $0["deleted_at"])
            }
        }
    }

    /// Every attachment row, by id.
    @_spi(Testing) public func attachments() async throws -> [AttachmentRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, email_id, sighting_id, part_id, filename, download_state, sha256, state_reason FROM email_attachments ORDER BY id
                    """
            ).map {
                AttachmentRecord(
                    id: $0["id"], emailId: $0["email_id"], sightingId: $0["sighting_id"], partId: $0["part_id"],
                    filename: $0["filename"], state: $0["download_state"], sha256: $0["sha256"], stateReason: $0["state_reason"])
            }
        }
    }

    /// Every investor link, by investor then email.
    @_spi(Testing) public func investorLinks() async throws -> [InvestorLinkRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT email_id, investor_id, rule, confidence FROM email_investor_links ORDER BY investor_id, email_id"
            ).map {
                InvestorLinkRecord(emailId: $0["email_id"], investorId: $0["investor_id"], rule: $0["rule"], confidence: $0["confidence"])
            }
        }
    }

    /// Every per-item ledger entry, by mailbox then Gmail id.
    @_spi(Testing) public func ledgerEntries() async throws -> [LedgerEntry] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.email AS mailbox, l.gmail_id, l.state, l.reason FROM email_item_ledger l JOIN email_accounts a ON a.id = l.account_id
                    ORDER BY a.email, l.gmail_id
                    """
            ).map { LedgerEntry(mailbox: $0["mailbox"], gmailId: $0["gmail_id"], state: $0["state"], reason: $0["reason"]) }
        }
    }

    /// Every sync run, in the order they started.
    @_spi(Testing) public func syncRuns() async throws -> [SyncRunRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.email AS mailbox, r.kind, r.status, r.stored FROM email_sync_runs r JOIN email_accounts a ON a.id = r.account_id ORDER BY r.id
                    """
            ).map { SyncRunRecord(mailbox: $0["mailbox"], kind: $0["kind"], status: $0["status"], stored: $0["stored"]) }
        }
    }

    /// Every history-gap recovery, in the order they happened.
    @_spi(Testing) public func recoveries() async throws -> [RecoveryRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.email AS mailbox, r.reason, r.listed, r.deleted FROM email_recoveries r JOIN email_accounts a ON a.id = r.account_id ORDER BY r.id
                    """
            ).map { RecoveryRecord(mailbox: $0["mailbox"], reason: $0["reason"], listed: $0["listed"], deleted: $0["deleted"]) }
        }
    }

    /// Every refresh token exactly as the table holds it (to prove none is stored in the clear).
    @_spi(Testing) public func storedRefreshTokens() async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT sealed_refresh_token FROM email_oauth_tokens ORDER BY account_email")
        }
    }

    /// Catches the full-text index up, then checks it: FTS5's own integrity check (throws
    /// `SQLITE_CORRUPT_VTAB` when a deletion left tokens behind), and the index compared with the capture
    /// file, document by document (`SearchIndex.check`). Returns the number of documents.
    @_spi(Testing) public func checkSearchIndex() async throws -> Int {
        guard let searchIndex else { return 0 }
        try await searchIndex.catchUp()
        return try searchIndex.check()
    }

    /// Catches the search index up, then closes every connection to the database and to the index file
    /// (their WAL files are checkpointed into the files), so a test can move or copy the files.
    @_spi(Testing) public func closeFiles() async throws {
        try await searchIndex?.catchUp()
        if let pool = writer as? DatabasePool { try pool.close() }
        // In memory the index shares the database's one queue; on disk it has its own.
        if let queue = searchIndex?.writer as? DatabaseQueue, queue !== (writer as AnyObject) { try queue.close() }
    }

    /// Rows in the capture file's search queue (applied rows are deleted by later stores).
    @_spi(Testing) public func searchQueueLength() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM email_search_queue") ?? 0 }
    }

    /// Holds the write lock of the full-text index's file (the one its indexer takes) from another
    /// connection until `release()`: the store path must not need it.
    @_spi(Testing) public final class SearchIndexFileLock: Sendable {
        let released = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        init(databasePath: String) throws {
            let queue = try DatabaseQueue(path: SearchIndex.path(for: databasePath))
            let held = DispatchSemaphore(value: 0)
            let (released, finished) = (released, finished)
            // A thread of its own sits inside an IMMEDIATE transaction until released.
            Thread.detachNewThread {
                do {
                    try queue.inDatabase { db in
                        try db.inTransaction(.immediate) {
                            held.signal()
                            released.wait()
                            return .commit
                        }
                    }
                } catch {
                    held.signal()  // never locked: the test's expectations say so
                }
                finished.signal()
            }
            held.wait()
        }
        public func release() {
            released.signal()
            finished.wait()
        }
    }

    @_spi(Testing) public static func lockSearchIndexFile(databasePath: String) throws -> SearchIndexFileLock {
        try SearchIndexFileLock(databasePath: databasePath)
    }

    /// The email tables (the ones `dropEmailTables` removes) present in the file, sorted.
    @_spi(Testing) public func emailTableNames() throws -> [String] {
        try writer.read { db in try MigrationRunner.emailTables(db).sorted() }
    }

    /// The rows of one of the CRM's own tables, each column as text (NULLs left out), in rowid order.
    /// `table` must be a plain identifier.
    @_spi(Testing) public func crmTableRows(_ table: String) throws -> [[String: String]] {
        let quoted = try CRMSchema().q(table)
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(quoted) ORDER BY rowid").map { row in
                var out: [String: String] = [:]
                for (column, value) in row {
                    switch value.storage {
                    case .null: break
                    case .int64(let n): out[column] = String(n)
                    case .double(let d): out[column] = String(d)
                    case .string(let s): out[column] = s
                    case .blob(let b): out[column] = b.map { String(format: "%02x", $0) }.joined()
                    }
                }
                return out
            }
        }
    }

    /// Makes every stored email look as if stored before fingerprints existed (migration 0005).
    @_spi(Testing) public func simulateRowsFromBeforeFingerprints() async throws {
        try await writer.write { db in try db.execute(sql: "UPDATE emails SET fingerprint = NULL") }
    }

    /// Makes the database refuse (abort with "refused") any sighting with this Gmail id, as a constraint would.
    @_spi(Testing) public func simulateRefusedSighting(gmailId: String) async throws {
        // A trigger cannot take bound parameters: the id goes in as a quoted SQL string literal.
        let literal = "'" + gmailId.replacingOccurrences(of: "'", with: "''") + "'"
        let name = "refuse_sighting_" + gmailId.utf8.map { String(format: "%02x", $0) }.joined()
        try await writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER IF NOT EXISTS \(name) BEFORE INSERT ON email_sightings WHEN NEW.gmail_id = \(literal)
                    BEGIN SELECT RAISE(ABORT, 'refused'); END
                    """)
        }
    }

    static func decodeList(_ json: String?) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data((json ?? "[]").utf8))) ?? []
    }
}
