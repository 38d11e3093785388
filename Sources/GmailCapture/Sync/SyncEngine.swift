import Foundation
import CaptureParsing
public import Logging
import MIMEKit

/// Sync settings (from the configuration, plus the recovery loop breaker).
public struct SyncSettings: Sendable {
    public var pageSize = 500
    public var historyStaleDays = 5
    /// Re-list the gap from the last stored internalDate minus this margin.
    public var gapMarginSeconds: Int64 = 86_400
    /// Loop breaker: more than `maxRecoveries` within `recoveryWindowHours` -> needs attention.
    public var maxRecoveries = 3
    public var recoveryWindowHours = 24
    /// Sync attempts before a failing item is parked (and stops holding the cursor).
    public var maxItemAttempts = 3
    public var policy = CapturePolicy()
    public var workspaceDomain: String?
    /// Where attachments are stored. When set, each mailbox's sync downloads what it owes
    /// (`attachmentConcurrency` at a time, parts over `maxAttachmentMB` recorded as skipped).
    public var attachmentStore: AttachmentStore?
    public var attachmentConcurrency = 4
    public var maxAttachmentMB = 50

    public init() {}
}

/// How a mailbox's sync ended.
public struct SyncOutcome: Sendable, Equatable {
    public var mailbox: String
    public var status: RunStatus
    /// The mailbox's state after the run (nil when the mailbox is not enrolled).
    public var state: SyncState?
    public var counts: SyncCounts
    public var error: String?
}

/// Progress for terminals (`--progress`), never for logs.
public struct SyncProgress: Sendable {
    public var mailbox: String
    public var phase: String
    public var listed: Int
    public var stored: Int
}

/// One mailbox's sync: a resumable newest-first backfill from a cursor pinned before listing, then
/// incremental history folded to its net effect, with a cursor that only advances when every item of
/// the window is stored or terminally classified, and a bounded recovery when history has expired.
public struct SyncEngine: Sendable {
    public let database: CaptureDatabase
    public let client: GmailClient
    public let limiter: RateLimiter
    public let settings: SyncSettings
    public let clock: any CaptureClock
    public let logger: Logger
    public let progress: (@Sendable (SyncProgress) -> Void)?

    public init(
        database: CaptureDatabase, client: GmailClient, limiter: RateLimiter, settings: SyncSettings, clock: any CaptureClock,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() }),
        progress: (@Sendable (SyncProgress) -> Void)? = nil
    ) {
        self.database = database
        self.client = client
        self.limiter = limiter
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.progress = progress
    }

    static let metadataHeaders = ["From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject"]

    /// Syncs one mailbox (backfill first when needed) and writes its sync-run row.
    public func sync(mailbox: String) async -> SyncOutcome {
        do {
            guard let account = try await database.account(email: mailbox) else {
                return SyncOutcome(mailbox: mailbox, status: .error, state: nil, counts: SyncCounts(), error: "mailbox is not enrolled")
            }
            if !account.enabled || account.syncState.blocksSync {
                return SyncOutcome(
                    mailbox: mailbox, status: .skipped, state: account.syncState, counts: SyncCounts(), error: account.stateReason)
            }
            let kind: RunKind = account.backfillComplete ? .incremental : .backfill
            let runId = try await database.startRun(accountId: account.id, kind: kind, at: clock.now())
            var counts = SyncCounts()
            let unitsBefore = await limiter.unitsSpent(mailbox)
            var status = RunStatus.ok
            var errorText: String?
            var state = SyncState.idle
            do {
                let investors = try await CRMDirectory(database: database).investors()
                let index = InvestorIndex(investors: investors, workspaceDomain: settings.workspaceDomain)
                if !account.backfillComplete { try await backfill(account, index, &counts) }
                state = try await incremental(mailbox, index, &counts)
                // The relationship figures follow the mail just stored or deleted (RelationshipIndex), derived
                // while the attachments download (the drain is one write; the downloader records in batches
                // around it).
                async let drained = database.refreshRelationshipIndex(investors: investors, workspaceDomain: settings.workspaceDomain)
                if let store = settings.attachmentStore {
                    let downloader = AttachmentDownloader(
                        database: database, store: store, client: client, concurrency: settings.attachmentConcurrency,
                        maxMegabytes: settings.maxAttachmentMB)
                    let report = try await downloader.run(mailbox: mailbox)
                    counts.attachmentsStored += report.stored + report.deduplicated
                    counts.attachmentsFailed += report.failed
                    counts.attachmentsSkipped += report.skipped
                }
                _ = try await drained
                // The full-text index has been filling in the background since the first chunk was stored
                // (SearchIndex); the run ends with it complete. Its failure loses no mail (the queue keeps
                // every change, and search catches up before answering), so it is logged, not fatal.
                do { try await database.catchUpSearchIndex() } catch is CancellationError { throw CancellationError() } catch {
                    logger.error("search index not caught up: \(error)", metadata: ["mailbox": "\(mailbox)"])
                }
                if counts.failed > 0 || counts.parked > 0 || state == .needsAttention { status = .partial }
                if state == .idle { try await database.markSuccess(accountId: account.id, at: clock.now()) }
            } catch let e as GmailAPIError where e.classification == .needsAdmin {
                status = .error
                state = .needsAdmin
                errorText = "needs admin: \(e.reason ?? "error"): \(e.message)"
                try await database.setSyncState(accountId: account.id, .needsAdmin, reason: errorText)
            } catch is CancellationError {
                status = .partial
                errorText = "cancelled (shutdown)"
                state = .idle
            } catch {
                status = .error
                errorText = (error as? GmailAPIError)?.description ?? "\(error)"
                state = .error
                try await database.setSyncState(accountId: account.id, .error, reason: errorText)
            }
            counts.quotaUnits = await limiter.unitsSpent(mailbox) - unitsBefore
            try await database.finishRun(runId, status: status, counts: counts, error: errorText, at: clock.now())
            return SyncOutcome(mailbox: mailbox, status: status, state: state, counts: counts, error: errorText)
        } catch {
            return SyncOutcome(mailbox: mailbox, status: .error, state: .error, counts: SyncCounts(), error: "\(error)")
        }
    }

    // MARK: - Backfill

    func backfill(_ account: CaptureDatabase.Account, _ index: InvestorIndex, _ counts: inout SyncCounts) async throws {
        let mailbox = account.email
        if account.historyCursor == nil {
            // Pin the cursor before listing anything: changes made during the backfill are replayed later.
            let profile = try await client.getProfile(mailbox: mailbox)
            try await database.advanceCursor(accountId: account.id, to: profile.historyId)
        }
        try await database.setSyncState(accountId: account.id, .backfilling, reason: nil)
        var token = account.backfillPageToken
        repeat {
            try Task.checkCancellation()
            let page = try await client.listMessages(mailbox: mailbox, pageToken: token, maxResults: settings.pageSize)
            let ids = (page.messages ?? []).map(\.id)
            counts.listed += ids.count
            let known = try await database.knownGmailIds(accountId: account.id)
            try await ingest(account, ids.filter { !known.contains($0) }, index, &counts)
            token = page.nextPageToken
            try await database.saveBackfillCheckpoint(accountId: account.id, pageToken: token, complete: token == nil)
            progress?(SyncProgress(mailbox: mailbox, phase: "backfill", listed: counts.listed, stored: counts.stored))
        } while token != nil
    }

    // MARK: - Incremental

    /// Returns the mailbox state after the run.
    func incremental(_ mailbox: String, _ index: InvestorIndex, _ counts: inout SyncCounts) async throws -> SyncState {
        guard let account = try await database.account(email: mailbox), let cursor = account.historyCursor else { return .idle }
        if let last = account.lastSuccessAt.flatMap(Self.parseISO),
            clock.now().timeIntervalSince(last) > Double(settings.historyStaleDays) * 86_400
        {
            return try await recover(account, reason: "last success older than \(settings.historyStaleDays) days", index, &counts)
        }
        var records: [GmailHistoryRecord] = []
        var token: String?
        var windowEnd = cursor
        do {
            repeat {
                try Task.checkCancellation()
                let page = try await client.listHistory(mailbox: mailbox, startHistoryId: cursor, pageToken: token)
                records += page.history ?? []
                token = page.nextPageToken
                windowEnd = page.historyId
            } while token != nil
        } catch let e as GmailAPIError where e.classification == .historyExpired {
            return try await recover(account, reason: "history expired (404 on history.list)", index, &counts)
        }
        let net = HistoryFold.fold(records)
        let known = try await database.knownGmailIds(accountId: account.id)
        let owed = Set(try await database.owedItems(accountId: account.id))
        let toFetch =
            net.added.filter { !known.contains($0) || owed.contains($0) }
            + owed.filter { !net.added.contains($0) && !net.deleted.contains($0) }.sorted()
        counts.listed += net.added.count
        try await ingest(account, toFetch, index, &counts)
        counts.deleted += try await database.markDeleted(
            accountId: account.id, gmailIds: net.deleted.filter { known.contains($0) }, at: clock.now())
        for (id, labels) in net.labels.sorted(by: { $0.key < $1.key }) where known.contains(id) && !net.deleted.contains(id) {
            try await database.updateLabels(accountId: account.id, gmailId: id, labels: labels)
        }
        // The gate: the cursor moves only when nothing of the window is still owed.
        if try await database.owedItems(accountId: account.id).isEmpty {
            try await database.advanceCursor(accountId: account.id, to: windowEnd)
        }
        progress?(SyncProgress(mailbox: mailbox, phase: "incremental", listed: counts.listed, stored: counts.stored))
        return .idle
    }

    // MARK: - Recovery

    /// Pins a new cursor from getProfile, re-lists only the gap (after the last stored internalDate minus
    /// a margin), reconciles deletions in that range, then moves the cursor. Too many recoveries in the
    /// window: the mailbox goes to `needs_attention` instead of looping.
    func recover(
        _ account: CaptureDatabase.Account, reason: String, _ index: InvestorIndex, _ counts: inout SyncCounts
    ) async throws -> SyncState {
        let since = clock.now().addingTimeInterval(-Double(settings.recoveryWindowHours) * 3600)
        let recent = try await database.recoveries(accountId: account.id, since: since)
        if recent >= settings.maxRecoveries {
            let why =
                "history recovery needed \(recent + 1) times within \(settings.recoveryWindowHours) h (\(reason)); paused to avoid a loop"
            try await database.setSyncState(accountId: account.id, .needsAttention, reason: why)
            logger.warning("mailbox needs attention: repeated history recovery", metadata: ["sync.recoveries": "\(recent + 1)"])
            return .needsAttention
        }
        try await database.setSyncState(accountId: account.id, .recovering, reason: reason)
        let pinned = try await client.getProfile(mailbox: account.email).historyId
        let gapFromMillis = max(0, (account.lastInternalDate ?? 0) - settings.gapMarginSeconds * 1000)
        var listed: [String] = []
        var token: String?
        repeat {
            try Task.checkCancellation()
            let page = try await client.listMessages(
                mailbox: account.email, q: "after:\(gapFromMillis / 1000)", includeSpamTrash: true,
                pageToken: token, maxResults: settings.pageSize)
            listed += (page.messages ?? []).map(\.id)
            token = page.nextPageToken
        } while token != nil
        counts.listed += listed.count
        let known = try await database.knownGmailIds(accountId: account.id)
        try await ingest(account, listed.filter { !known.contains($0) }, index, &counts)
        // Deletions in the gap: what we hold live in that range but Gmail no longer lists.
        let listedSet = Set(listed)
        let live = try await database.liveGmailIds(accountId: account.id, since: gapFromMillis)
        let vanished = live.subtracting(listedSet).sorted()
        let deleted = try await database.markDeleted(accountId: account.id, gmailIds: vanished, at: clock.now())
        counts.deleted += deleted
        try await database.pinCursor(accountId: account.id, to: pinned)
        try await database.recordRecovery(
            accountId: account.id, at: clock.now(), reason: reason, gapFrom: gapFromMillis,
            listed: listed.count, deleted: deleted)
        logger.info("history recovered", metadata: ["sync.gap_listed": "\(listed.count)", "sync.gap_deleted": "\(deleted)"])
        return .idle
    }

    // MARK: - Ingest

    /// One chunk as fetched: the metadata answers (policy decided, nothing written yet) and the
    /// captured messages, already parsed (parsing runs in the fetch task, off the storing path).
    struct FetchedChunk: Sendable {
        var meta: [(id: String, result: Result<CapturePolicy.Decision, GmailAPIError>)]
        /// Parsed, matched and prepared for storing (keys, fingerprint, thread keys), in the fetch task.
        var full: [(id: String, result: Result<CaptureDatabase.Prepared, GmailAPIError>)]
    }

    /// Metadata first (policy), then full messages for what is captured, 100 ids at a time. Fetching,
    /// parsing, matching and preparing the rows (canonical key, fingerprint, thread keys) run up to
    /// `lookahead` chunks ahead of storing, so the network, the server, the CPU work and the database's
    /// writer overlap while memory stays bounded; each chunk is stored in one transaction.
    /// Failures are recorded per item; gone and excluded items are terminal; items failing
    /// `maxItemAttempts` syncs are parked.
    func ingest(_ account: CaptureDatabase.Account, _ ids: [String], _ index: InvestorIndex, _ counts: inout SyncCounts) async throws {
        guard !ids.isEmpty else { return }
        let chunks = stride(from: 0, to: ids.count, by: 100).map { Array(ids[$0..<min(ids.count, $0 + 100)]) }
        let lookahead = 2
        var ahead: [Task<FetchedChunk, any Error>] = chunks.prefix(lookahead).map { fetchTask(account, index, $0) }
        defer { for t in ahead { t.cancel() } }
        for n in chunks.indices {
            try Task.checkCancellation()
            let fetched = try await ahead.removeFirst().value
            if n + lookahead < chunks.count { ahead.append(fetchTask(account, index, chunks[n + lookahead])) }
            try await store(fetched, account, &counts)
            progress?(SyncProgress(mailbox: account.email, phase: "fetch", listed: counts.listed, stored: counts.stored))
        }
    }

    func fetchTask(_ account: CaptureDatabase.Account, _ index: InvestorIndex, _ chunk: [String]) -> Task<FetchedChunk, any Error> {
        Task { try await fetch(account, index, chunk) }
    }

    func fetch(_ account: CaptureDatabase.Account, _ index: InvestorIndex, _ chunk: [String]) async throws -> FetchedChunk {
        let mailbox = account.email
        let meta = try await client.batchGetMessages(mailbox: mailbox, ids: chunk, format: .metadata, metadataHeaders: Self.metadataHeaders)
        let decided = zip(chunk, meta).map { id, r in
            (id: id, result: r.map { m in settings.policy.decide(labels: m.labelIds ?? [], participants: CapturePolicy.participants(m)) })
        }
        let capture = decided.compactMap { d -> String? in
            if case .success(.capture) = d.result { return d.id }
            return nil
        }
        guard !capture.isEmpty else { return FetchedChunk(meta: decided, full: []) }
        let full = try await client.batchGetMessages(mailbox: mailbox, ids: capture, format: .full)
        var parsed: [(id: String, result: Result<CaptureDatabase.Prepared, GmailAPIError>)] = []
        parsed.reserveCapacity(capture.count)
        for (id, r) in zip(capture, full) {
            switch r {
            case .success(let m):
                let message = try MessageParser().parse(gmail: m)
                let participants = ([message.from].compactMap { $0 } + message.to + message.cc + message.bcc).map(\.address)
                parsed.append((id, .success(CaptureDatabase.Prepared(message, account: account, links: index.links(for: participants)))))
            case .failure(let e): parsed.append((id, .failure(e)))
            }
        }
        return FetchedChunk(meta: decided, full: parsed)
    }

    func store(_ chunk: FetchedChunk, _ account: CaptureDatabase.Account, _ counts: inout SyncCounts) async throws {
        for (id, r) in chunk.meta {
            switch r {
            case .success(.capture): break
            case .success(.exclude(let why)):
                counts.skipped += 1
                try await database.classify(accountId: account.id, gmailId: id, state: .excluded, reason: why)
            case .failure(let e):
                try await handle(e, id: id, account, &counts)
            }
        }
        var batch: [CaptureDatabase.Prepared] = []
        for (id, r) in chunk.full {
            switch r {
            case .success(let prepared):
                counts.fetched += 1
                batch.append(prepared)
            case .failure(let e):
                try await handle(e, id: id, account, &counts)
            }
        }
        counts.stored += try await database.store(prepared: batch).count
    }

    func handle(_ e: GmailAPIError, id: String, _ account: CaptureDatabase.Account, _ counts: inout SyncCounts) async throws {
        switch e.classification {
        case .messageGone:
            counts.gone += 1
            try await database.classify(accountId: account.id, gmailId: id, state: .gone, reason: "404 while fetching")
        case .needsAdmin:
            throw e
        default:
            let attempts = try await database.recordFailure(accountId: account.id, gmailId: id, reason: e.shortDescription)
            if attempts >= settings.maxItemAttempts {
                counts.parked += 1
                try await database.classify(
                    accountId: account.id, gmailId: id, state: .parked, reason: "\(attempts) attempts: \(e.shortDescription)")
            } else {
                counts.failed += 1
            }
        }
    }

    static func parseISO(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s) ?? ISO8601DateFormatter().date(from: s)
    }
}

/// History records folded to their net effect.
public enum HistoryFold {
    public struct Net: Sendable, Equatable {
        /// Added and not deleted later in the window, in order.
        public var added: [String] = []
        /// Deleted in the window (whether or not added in it).
        public var deleted: Set<String> = []
        /// Final labels of messages whose labels changed or that were added.
        public var labels: [String: [String]] = [:]
    }

    public static func fold(_ records: [GmailHistoryRecord]) -> Net {
        var net = Net()
        var addedOrder: [String] = []
        var added = Set<String>()
        for r in records.sorted(by: { (UInt64($0.id) ?? 0) < (UInt64($1.id) ?? 0) }) {
            for a in r.messagesAdded ?? [] {
                if added.insert(a.message.id).inserted { addedOrder.append(a.message.id) }
                if let l = a.message.labelIds { net.labels[a.message.id] = l }
            }
            for c in (r.labelsAdded ?? []) + (r.labelsRemoved ?? []) {
                if let l = c.message.labelIds { net.labels[c.message.id] = l }
            }
            for d in r.messagesDeleted ?? [] {
                net.deleted.insert(d.message.id)
                net.labels[d.message.id] = nil
            }
        }
        net.added = addedOrder.filter { !net.deleted.contains($0) }
        return net
    }
}
