import Foundation
import CaptureParsing
import MIMEKit
import NIOPosix

/// Downloads pending attachment stubs with bounded concurrency, stores them by content hash, and
/// records the outcome on each row: stored, skipped (over the size limit) or failed (with the reason).
/// A stale attachmentId (404) triggers one refetch of the message for a fresh id. Writing a blob
/// (write, fsync, rename, directory fsync) blocks on the disk, so it runs on a thread pool of its own,
/// one thread per download in flight: on Swift's cooperative pool (one thread per core) two fsyncs
/// stalled every other task of the process, downloads and decoding included.
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
        guard !jobs.isEmpty else { return report }
        let io = NIOThreadPool(numberOfThreads: concurrency)
        io.start()
        defer { io.shutdownGracefully { _ in } }
        try await withThrowingTaskGroup(of: Event.self) { group in
            var it = jobs.makeIterator()
            var downloading = 0
            var pending: [(id: Int64, record: CaptureDatabase.AttachmentOutcome)] = []
            var recording = false
            func next() {
                guard let job = it.next() else { return }
                downloading += 1
                group.addTask { .downloaded(job.id, await self.process(job, io: io)) }
            }
            // Outcomes are recorded by one child task at a time, in batches: downloads go on while the
            // writer is busy (with a batch, or another writer's long transaction).
            func record(all: Bool) {
                guard !recording, !pending.isEmpty, all || pending.count >= Self.recordBatch else { return }
                let batch = pending
                pending = []
                recording = true
                group.addTask { [database] in
                    try await database.recordAttachments(batch)
                    return .recorded
                }
            }
            for _ in 0..<concurrency { next() }
            while let event = try await group.next() {
                switch event {
                case .downloaded(let id, let outcome):
                    downloading -= 1
                    report.count(outcome)
                    pending.append((id, outcome.record))
                    // Cancelled (shutdown): no new downloads; those in flight are still recorded.
                    if !Task.isCancelled { next() }
                case .recorded:
                    recording = false
                }
                record(all: downloading == 0)
            }
        }
        return report
    }

    /// Outcomes recorded per transaction.
    static let recordBatch = 32

    enum Event: Sendable {
        case downloaded(Int64, Outcome)
        case recorded
    }

    enum Outcome: Sendable {
        case stored(sha256: String, size: Int, fresh: Bool)
        case skipped(String)
        case failed(String)
    }

    func process(_ job: Job, io: NIOThreadPool) async -> Outcome {
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
                let store = self.store
                let (sha, fresh) = try await io.runIfActive { try store.store(bytes, expectedSize: job.size) }
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

}

extension AttachmentDownloader.Outcome {
    var record: CaptureDatabase.AttachmentOutcome {
        switch self {
        case .stored(let sha, let size, _): .stored(sha256: sha, size: size)
        case .skipped(let why): .skipped(reason: why)
        case .failed(let why): .failed(reason: why)
        }
    }
}

extension AttachmentDownloader.Report {
    mutating func count(_ outcome: AttachmentDownloader.Outcome) {
        switch outcome {
        case .stored(_, _, let fresh): if fresh { stored += 1 } else { deduplicated += 1 }
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
    }
}
