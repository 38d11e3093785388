import Foundation
import CaptureParsing
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

    typealias Job = CaptureDatabase.AttachmentJob

    public struct Report: Sendable, Equatable {
        public var stored = 0
        public var deduplicated = 0
        public var skipped = 0
        public var failed = 0
    }

    /// Processes every attachment still owed a download (pending, or failed with attempts left) of
    /// `mailbox` (or of all mailboxes).
    public func run(mailbox: String? = nil) async throws -> Report {
        let jobs = try await database.owedAttachmentDownloads(mailbox: mailbox)
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
                guard let aid = attachmentId else {
                    throw GmailAPIError(
                        classification: .messageGone, method: .messagesAttachmentsGet,
                        status: 404, reason: "notFound", message: "no attachment id")
                }
                let body = try await client.getAttachment(mailbox: job.mailbox, messageId: job.gmailId, attachmentId: aid)
                let bytes = Base64.decode((body.data ?? "").utf8)
                let (sha, fresh) = try store.store(bytes, expectedSize: job.size)
                return .stored(sha256: sha, size: bytes.count, fresh: fresh)
            } catch let e as GmailAPIError where e.classification == .messageGone && !refetched {
                // attachmentIds are ephemeral: fetch the message again for a fresh one, once.
                refetched = true
                guard let m = try? await client.getMessage(mailbox: job.mailbox, id: job.gmailId, format: .full),
                    let part = Self.find(job.partId, in: m.payload)
                else { return .failed("message gone (404)") }
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
            try await database.recordAttachmentStored(id: id, sha256: sha, size: size)
        case .skipped(let why):
            report.skipped += 1
            try await database.recordAttachmentSkipped(id: id, reason: why)
        case .failed(let why):
            report.failed += 1
            try await database.recordAttachmentFailed(id: id, reason: why)
        }
    }
}
