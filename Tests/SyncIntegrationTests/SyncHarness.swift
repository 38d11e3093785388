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

/// FakeGmail + a real SQLite store + the sync engine, on a virtual clock linked to the fake's.
struct SyncHarness: Sendable {
    let fake: FakeGmail
    let db: CaptureDatabase
    let clock: VirtualCaptureClock
    let baseURL: String
    let transport: any HTTPTransport
    var settings: SyncSettings

    static let scenarios = TestPaths.fixtures.appendingPathComponent("history")

    static func fake(_ scenario: String?, seed: UInt64 = 1, quota: QuotaConfig = .classic) async throws -> (FakeGmail, Scenario?, [String: FakeGmail.InsertedMessage]) {
        let fake = FakeGmail(options: .init(seed: seed, quota: quota, baseURL: "http://fake.test"))
        guard let name = scenario else { return (fake, nil, [:]) }
        let s = try Scenario.load(directory: scenarios.appendingPathComponent(name))
        let refs = try await s.seed(into: fake)
        return (fake, s, refs)
    }

    /// Runs `body` with a harness over the chosen door (live: a real loopback socket, AsyncHTTPClient).
    static func with<T: Sendable>(_ fake: FakeGmail, door: Door = .inProcess, dbPath: String? = nil,
                                  _ body: @Sendable (SyncHarness) async throws -> T) async throws -> T {
        let db = try dbPath.map { try CaptureDatabase(path: $0) } ?? CaptureDatabase(inMemory: nil)
        let clock = await VirtualCaptureClock.linked(to: fake)
        var settings = SyncSettings()
        settings.workspaceDomain = "firm.example"
        settings.pageSize = 50
        let fixed = settings
        switch door {
        case .inProcess:
            return try await body(SyncHarness(fake: fake, db: db, clock: clock, baseURL: "http://fake.test",
                                              transport: InProcessFakeTransport(fake: fake), settings: settings))
        case .live:
            var logger = Logger(label: "sync-live")
            logger.logLevel = .critical
            return try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger) { base in
                try await body(SyncHarness(fake: fake, db: db, clock: clock, baseURL: base, transport: AsyncHTTPClientTransport(), settings: fixed))
            }
        }
    }

    func engine(transport: (any HTTPTransport)? = nil, unitsPerSecond: Int = 5_000) async throws -> SyncEngine {
        let t = transport ?? self.transport
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: t, clock: clock)
        let limiter = RateLimiter(unitsPerSecondPerMailbox: unitsPerSecond, unitsPerSecondPerProject: 20_000, clock: clock)
        let client = GmailClient(baseURL: baseURL, transport: t, tokens: tokens, limiter: limiter, retry: RetryPolicy(maxRetries: 4), clock: clock)
        return SyncEngine(database: db, client: client, limiter: limiter, settings: settings, clock: clock)
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
