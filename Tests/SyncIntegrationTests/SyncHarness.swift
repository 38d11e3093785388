import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Logging
import TestSupport
import Testing

enum Door: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess, live
    var testDescription: String { rawValue }
}

/// Throws after a number of requests: a process killed mid-sync.
struct KillingTransport: HTTPTransport {
    struct Killed: Error {}
    let inner: any HTTPTransport
    let budget: Budget
    final class Budget: @unchecked Sendable {
        let lock = NSLock()
        var remaining: Int
        init(_ n: Int) { remaining = n }
        func take() -> Bool { lock.lock(); defer { lock.unlock() }; remaining -= 1; return remaining >= 0 }
    }
    func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard budget.take() else { throw Killed() }
        return try await inner.send(request)
    }
}

/// FakeGmail + a real SQLite store + the sync engine, on a virtual clock linked to the fake's. Engines
/// are built by `CaptureRuntime` from a `CaptureConfig`, as `sync` and `serve` build theirs; only the
/// transport, the credentials (the fake's service-account key), the clock and the database are injected.
struct SyncHarness: Sendable {
    let fake: FakeGmail
    let db: CaptureDatabase
    let clock: VirtualCaptureClock
    let baseURL: String
    let transport: any HTTPTransport
    /// What every engine of this harness is built from (page size 50, 4 retries, attachments into a
    /// directory of this harness's own).
    var config: CaptureConfig
    /// The recovery loop breaker (`SyncSettings.maxRecoveries`), which no configuration variable sets:
    /// when a test lowers it, the runtime's engine is rebuilt over the runtime's client and limiter with it.
    var maxRecoveries: Int?

    static let scenarios = TestPaths.fixtures.appendingPathComponent("history")

    static func fake(
        _ scenario: String?, seed: UInt64 = 1, quota: QuotaConfig = .classic
    ) async throws -> (FakeGmail, Scenario?, [String: FakeGmail.InsertedMessage]) {
        let fake = FakeGmail(options: .init(seed: seed, quota: quota, baseURL: "http://fake.test"))
        guard let name = scenario else { return (fake, nil, [:]) }
        let s = try Scenario.load(directory: scenarios.appendingPathComponent(name))
        let refs = try await s.seed(into: fake)
        return (fake, s, refs)
    }

    /// The harness's configuration: the integration on against `baseURL`, the firm's domain, 50-message
    /// backfill pages, 4 retries, 5,000 units/s per mailbox (20,000 for the project).
    static func config(baseURL: String, attachmentDirectory: URL) -> CaptureConfig {
        var c = CaptureConfig()
        c.integrationEnabled = true
        c.apiBaseURL = baseURL
        c.workspaceDomain = "firm.example"
        c.backfillPageSize = 50
        c.retryMax = 4
        c.rateUnitsPerSecond = 5_000
        c.projectUnitsPerSecond = 20_000
        c.attachmentDirectory = attachmentDirectory.path
        return c
    }

    /// Runs `body` with a harness over the chosen door (live: a real loopback socket, AsyncHTTPClient).
    static func with<T: Sendable>(
        _ fake: FakeGmail, door: Door = .inProcess, dbPath: String? = nil,
        _ body: @Sendable (SyncHarness) async throws -> T
    ) async throws -> T {
        let db = try dbPath.map { try CaptureDatabase(path: $0) } ?? CaptureDatabase(inMemory: nil)
        let clock = await VirtualCaptureClock.linked(to: fake)
        let attachments = FileManager.default.temporaryDirectory.appendingPathComponent("sync-harness-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: attachments) }
        switch door {
        case .inProcess:
            let base = "http://fake.test"
            return try await body(
                SyncHarness(
                    fake: fake, db: db, clock: clock, baseURL: base, transport: InProcessFakeTransport(fake: fake),
                    config: config(baseURL: base, attachmentDirectory: attachments)))
        case .live:
            var logger = Logger(label: "sync-live")
            logger.logLevel = .critical
            return try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger) { base in
                try await body(
                    SyncHarness(
                        fake: fake, db: db, clock: clock, baseURL: base, transport: AsyncHTTPClientTransport(),
                        config: config(baseURL: base, attachmentDirectory: attachments)))
            }
        }
    }

    /// The runtime over this harness's database, built from `config` (its per-mailbox rate replaced by
    /// `unitsPerSecond` when given), talking through `transport` (default: the harness's door).
    func runtime(transport: (any HTTPTransport)? = nil, unitsPerSecond: Int? = nil) async throws -> CaptureRuntime {
        let t = transport ?? self.transport
        var config = self.config
        if let unitsPerSecond { config.rateUnitsPerSecond = unitsPerSecond }
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: t, clock: clock)
        return try CaptureRuntime.build(config, database: db, transport: t, tokens: tokens, clock: clock)
    }

    func engine(transport: (any HTTPTransport)? = nil, unitsPerSecond: Int? = nil) async throws -> SyncEngine {
        let gmail = try #require(try await runtime(transport: transport, unitsPerSecond: unitsPerSecond).gmail)
        guard let maxRecoveries else { return gmail.engine }
        var settings = gmail.engine.settings
        settings.maxRecoveries = maxRecoveries
        return SyncEngine(database: db, client: gmail.client, limiter: gmail.limiter, settings: settings, clock: clock)
    }

    func enrollAll() async throws {
        for u in await fake.users() { try await db.upsertAccount(email: u, userId: nil) }
    }

    /// What the store should hold for a mailbox: the fake's messages minus the ones policy excludes.
    func expectedSet(_ user: String) async -> Set<String> {
        let skip: Set<String> = ["SPAM", "TRASH", "CHAT", "DRAFT"]
        return Set(await fake.messageLabels(user: user).filter { skip.isDisjoint(with: $0.value) }.keys)
    }

    func liveSet(_ user: String) async throws -> Set<String> {
        guard let a = try await db.account(email: user) else { return [] }
        return try await db.liveMessageSet(accountId: a.id)
    }

    func account(_ user: String) async throws -> CaptureDatabase.Account {
        try #require(try await db.account(email: user))
    }

    func gets() async -> Int { await fake.stats().requests["gmail.users.messages.get"] ?? 0 }
}
