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
            var pending: [(id: Int64, record: Outcome)] = []
            var recording = false
            func next() {
                guard let job = it.next() else { return }
                downloading += 1
                group.addTask {
                    let (outcome, fresh) = await self.process(job, io: io)
                    return .downloaded(job.id, outcome, fresh: fresh)
                }
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
                case .downloaded(let id, let outcome, let fresh):
                    downloading -= 1
                    report.count(outcome, fresh: fresh)
                    pending.append((id, outcome))
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
        /// `fresh`: the blob was written now (not found stored already).
        case downloaded(Int64, Outcome, fresh: Bool)
        case recorded
    }

    typealias Outcome = CaptureDatabase.AttachmentOutcome

    /// What one download came to, and whether its blob was written now.
    func process(_ job: Job, io: NIOThreadPool) async -> (Outcome, fresh: Bool) {
        if job.size > maxBytes { return (.skipped(reason: "larger than CRM_GMAIL_MAX_ATTACHMENT_MB (\(job.size) bytes)"), false) }
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
                return (.stored(sha256: sha, size: bytes.count), fresh)
            } catch let e as GmailAPIError where e.classification == .messageGone && !refetched {
                // attachmentIds are ephemeral: fetch the message again for a fresh one, once.
                refetched = true
                guard let m = try? await client.getMessage(mailbox: job.mailbox, id: job.gmailId, format: .full),
                    let part = Self.find(job.partId, in: m.payload)
                else { return (.failed(reason: "message gone (404)"), false) }
                attachmentId = part.body?.attachmentId
            } catch let e as GmailAPIError {
                return (.failed(reason: e.shortDescription), false)
            } catch {
                return (.failed(reason: "\(error)"), false)
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

extension AttachmentDownloader.Report {
    mutating func count(_ outcome: AttachmentDownloader.Outcome, fresh: Bool) {
        switch outcome {
        case .stored: if fresh { stored += 1 } else { deduplicated += 1 }
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
    }
}
