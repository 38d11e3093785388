import Foundation
import CaptureParsing
import GRDB

/// Migrations, dropping, and the figures commands print: the CLI reaches the file only through these.
extension CaptureDatabase {
    /// Applies what `runner` holds that is pending; returns the names applied now.
    @discardableResult
    public func applyMigrations(_ runner: MigrationRunner) throws -> [String] { try runner.migrate(writer) }

    /// Names of the migrations recorded in the ledger, in order.
    public func appliedMigrations() async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM \(MigrationRunner.ledgerTable) ORDER BY name")
        }
    }

    /// Removes every email table and the ledger from the file at `path` (never migrating it first);
    /// the CRM's own tables are untouched. Returns the tables dropped.
    public static func dropEmailTables(path: String) throws -> [String] {
        let pool = try DatabasePool(path: path)
        defer { try? pool.close() }
        var dropped = try MigrationRunner.drop(pool)
        // The full-text index's own file (SearchIndex) goes with the tables it indexes.
        let index = SearchIndex.path(for: path)
        if FileManager.default.fileExists(atPath: index) {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
            dropped = (dropped + ["email_search"]).sorted()
        }
        return dropped
    }

    /// What the demo's summary reports.
    public struct Summary: Sendable, Equatable {
        public var emails = 0
        public var liveSightings = 0
        public var deletedSightings = 0
        public var threads = 0
        /// Threads seen by more than one mailbox.
        public var crossTeamThreads = 0
        public var linkedInvestors = 0
        public var linkedThreads = 0
        public var linksByRule: [MatchRule: Int] = [:]
        public var blobs = 0
        public var recoveries = 0
        /// Sum of Gmail's size estimates of every stored email.
        public var bytes = 0
    }

    public func summary() async throws -> Summary {
        try await writer.read { db in
            func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
                try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            }
            var s = Summary()
            s.emails = try count("SELECT COUNT(*) FROM emails")
            s.liveSightings = try count("SELECT COUNT(*) FROM email_sightings WHERE deleted_at IS NULL")
            s.deletedSightings = try count("SELECT COUNT(*) FROM email_sightings WHERE deleted_at IS NOT NULL")
            s.threads = try count("SELECT COUNT(*) FROM email_threads")
            s.crossTeamThreads = try count(
                """
                SELECT COUNT(*) FROM (SELECT e.thread_id FROM emails e JOIN email_sightings s ON s.email_id = e.id
                GROUP BY e.thread_id HAVING COUNT(DISTINCT s.account_id) > 1)
                """)
            s.linkedInvestors = try count("SELECT COUNT(DISTINCT investor_id) FROM email_investor_links")
            s.linkedThreads = try count("SELECT COUNT(DISTINCT e.thread_id) FROM emails e JOIN email_investor_links l ON l.email_id = e.id")
            for rule in MatchRule.allCases {
                s.linksByRule[rule] = try count("SELECT COUNT(*) FROM email_investor_links WHERE rule = ?", [rule])
            }
            s.blobs = try count("SELECT COUNT(*) FROM email_attachment_blobs")
            s.recoveries = try count("SELECT COUNT(*) FROM email_recoveries")
            s.bytes = try count("SELECT COALESCE(SUM(size_estimate), 0) FROM emails")
            return s
        }
    }
}

/// The attachment downloader's bookkeeping.
extension CaptureDatabase {
    /// One download owed: an attachment row and where to fetch it.
    public struct AttachmentJob: Sendable, Equatable {
        public var id: Int64
        public var mailbox: String
        public var gmailId: String
        public var partId: String
        public var size: Int
        public var attachmentId: String?
    }

    /// Attachments still owed a download (pending, or failed with attempts left) of live sightings, of
    /// one mailbox or all, oldest first.
    public func owedAttachmentDownloads(mailbox: String?) async throws -> [AttachmentJob] {
        try await writer.read { db in
            var sql = """
                SELECT at.id, acc.email, s.gmail_id, at.part_id, at.size, at.gmail_attachment_id FROM email_attachments at
                JOIN email_sightings s ON s.id = at.sighting_id JOIN email_accounts acc ON acc.id = s.account_id
                WHERE (\(Self.attachmentOwedCondition)) AND s.deleted_at IS NULL
                """
            var args: StatementArguments = []
            if let m = mailbox { sql += " AND acc.email = ?"; args = [m] }
            return try Row.fetchAll(db, sql: sql + " ORDER BY at.id", arguments: args).map {
                AttachmentJob(id: $0[0], mailbox: $0[1], gmailId: $0[2], partId: $0[3], size: $0[4], attachmentId: $0[5])
            }
        }
    }

    /// What a download came to, for `recordAttachments`.
    public enum AttachmentOutcome: Sendable, Equatable {
        /// Stored (or found stored) under its content hash.
        case stored(sha256: String, size: Int)
        /// Not downloaded on purpose (over the size limit).
        case skipped(reason: String)
        /// A failed attempt (retried by later syncs until `maxAttachmentAttempts`).
        case failed(reason: String)
    }

    /// Records several downloads' outcomes in one transaction (the downloader records in batches, so a
    /// long write elsewhere, such as the relationship drain, does not hold its downloads back).
    public func recordAttachments(_ records: [(id: Int64, record: AttachmentOutcome)]) async throws {
        guard !records.isEmpty else { return }
        try await writer.write { db in
            for (id, r) in records { try Self.record(db, attachment: id, r) }
        }
    }

    /// Records a stored blob for an attachment row (and the blob row, once).
    public func recordAttachmentStored(id: Int64, sha256: String, size: Int) async throws {
        try await recordAttachments([(id, .stored(sha256: sha256, size: size))])
    }

    static func record(_ db: Database, attachment id: Int64, _ record: AttachmentOutcome) throws {
        switch record {
        case .stored(let sha256, let size):
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO email_attachment_blobs (sha256, size, stored_path) VALUES (?, ?, ?)")
                .execute(arguments: [sha256, size, AttachmentStore.relativePath(sha256: sha256)])
            try db.cachedStatement(
                sql:
                    "UPDATE email_attachments SET sha256 = ?, download_state = ?, state_reason = NULL, attempts = attempts + 1 WHERE id = ?"
            ).execute(arguments: [sha256, AttachmentState.stored, id])
        case .skipped(let reason):
            try db.cachedStatement(sql: "UPDATE email_attachments SET download_state = ?, state_reason = ? WHERE id = ?")
                .execute(arguments: [AttachmentState.skipped, reason, id])
        case .failed(let reason):
            try db.cachedStatement(
                sql: "UPDATE email_attachments SET download_state = ?, state_reason = ?, attempts = attempts + 1 WHERE id = ?"
            ).execute(arguments: [AttachmentState.failed, reason, id])
        }
    }
}
