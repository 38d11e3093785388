import Foundation
import GRDB
import MIMEKit

/// Downloads pending attachment stubs with bounded concurrency, stores them by content hash, and
/// records the outcome on each row: stored, skipped (over the size limit) or failed (with the reason).
/// A stale attachmentId (404) triggers one refetch of the message for a fresh id.
public struct AttachmentDownloader: Sendable {
    public let database: CaptureDatabase
    public let store: AttachmentStore
    public let client: GmailClient
    public let concurrency: Int
    public let maxBytes: Int

    public init(database: CaptureDatabase, store: AttachmentStore, client: GmailClient, concurrency: Int, maxMegabytes: Int) {
        self.database = database
        self.store = store
        self.client = client
        self.concurrency = max(1, concurrency)
        maxBytes = maxMegabytes * 1024 * 1024
    }

    struct Job: Sendable {
        var id: Int64
        var mailbox: String
        var gmailId: String
        var partId: String
        var size: Int
        var attachmentId: String?
    }

    public struct Report: Sendable, Equatable {
        public var stored = 0
        public var deduplicated = 0
        public var skipped = 0
        public var failed = 0
    }

    /// Processes every attachment still owed a download (pending, or failed with attempts left) of
    /// `mailbox` (or of all mailboxes).
    public func run(mailbox: String? = nil) async throws -> Report {
        let jobs: [Job] = try await database.writer.read { db in
            var sql = """
                SELECT at.id, acc.email, s.gmail_id, at.part_id, at.size, at.gmail_attachment_id FROM email_attachments at
                JOIN email_sightings s ON s.id = at.sighting_id JOIN email_accounts acc ON acc.id = s.account_id
                WHERE (\(CaptureDatabase.attachmentOwedCondition)) AND s.deleted_at IS NULL
                """
            var args: StatementArguments = []
            if let m = mailbox { sql += " AND acc.email = ?"; args = [m] }
            return try Row.fetchAll(db, sql: sql + " ORDER BY at.id", arguments: args).map {
                Job(id: $0[0], mailbox: $0[1], gmailId: $0[2], partId: $0[3], size: $0[4], attachmentId: $0[5])
            }
        }
        var report = Report()
        try await withThrowingTaskGroup(of: (Int64, Outcome).self) { group in
            var it = jobs.makeIterator()
            func next() -> Bool {
                guard let job = it.next() else { return false }
                group.addTask { (job.id, await self.process(job)) }
                return true
            }
            for _ in 0..<concurrency where !next() { break }
            while let (id, outcome) = try await group.next() {
                try await record(id, outcome, &report)
                if Task.isCancelled { break }
                _ = next()
            }
        }
        return report
    }

    enum Outcome: Sendable {
        case stored(sha256: String, size: Int, fresh: Bool)
        case skipped(String)
        case failed(String)
    }

    func process(_ job: Job) async -> Outcome {
        if job.size > maxBytes { return .skipped("larger than CRM_GMAIL_MAX_ATTACHMENT_MB (\(job.size) bytes)") }
        var attachmentId = job.attachmentId
        var refetched = false
        while true {
            do {
                guard let aid = attachmentId else { throw GmailAPIError(classification: .messageGone, method: "gmail.users.messages.attachments.get",
                                                                         status: 404, reason: "notFound", message: "no attachment id") }
                let body = try await client.getAttachment(mailbox: job.mailbox, messageId: job.gmailId, attachmentId: aid)
                let bytes = Base64.decode(Array((body.data ?? "").utf8))
                let existed = FileManager.default.fileExists(atPath: store.url(sha256: AttachmentStore.hex(bytes)).path)
                let sha = try store.put(bytes, expectedSize: job.size)
                return .stored(sha256: sha, size: bytes.count, fresh: !existed)
            } catch let e as GmailAPIError where e.classification == .messageGone && !refetched {
                // attachmentIds are ephemeral: fetch the message again for a fresh one, once.
                refetched = true
                guard let m = try? await client.getMessage(mailbox: job.mailbox, id: job.gmailId, format: .full),
                      let part = Self.find(job.partId, in: m.payload) else { return .failed("message gone (404)") }
                attachmentId = part.body?.attachmentId
            } catch let e as GmailAPIError {
                return .failed(e.shortDescription)
            } catch {
                return .failed("\(error)")
            }
        }
    }

    static func find(_ partId: String, in p: GmailMessagePart?) -> GmailMessagePart? {
        guard let p else { return nil }
        if (p.partId ?? "") == partId { return p }
        for c in p.parts ?? [] { if let f = find(partId, in: c) { return f } }
        return nil
    }

    func record(_ id: Int64, _ outcome: Outcome, _ report: inout Report) async throws {
        switch outcome {
        case .stored(let sha, let size, let fresh):
            if fresh { report.stored += 1 } else { report.deduplicated += 1 }
            let relative = AttachmentStore.relativePath(sha256: sha)
            try await database.writer.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO email_attachment_blobs (sha256, size, stored_path) VALUES (?, ?, ?)",
                               arguments: [sha, size, relative])
                try db.execute(sql: "UPDATE email_attachments SET sha256 = ?, download_state = 'stored', state_reason = NULL, attempts = attempts + 1 WHERE id = ?",
                               arguments: [sha, id])
            }
        case .skipped(let why):
            report.skipped += 1
            try await database.writer.write { db in
                try db.execute(sql: "UPDATE email_attachments SET download_state = 'skipped', state_reason = ? WHERE id = ?", arguments: [why, id])
            }
        case .failed(let why):
            report.failed += 1
            try await database.writer.write { db in
                try db.execute(sql: "UPDATE email_attachments SET download_state = 'failed', state_reason = ?, attempts = attempts + 1 WHERE id = ?",
                               arguments: [why, id])
            }
        }
    }
}
