import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Hummingbird
import Logging
import ServiceLifecycle
import TestSupport
import Testing

/// FakeGmail with one mailbox, a topic Gmail may publish to and a subscription, and GmailCapture's
/// runtime over it in push or pull mode: the scheduler (on a manual clock: its timer fires only when a
/// test advances it), the push routes and the push service, as `serve` assembles them.
struct PushHarness: Sendable {
    static let alice = "alice@firm.example"
    static let topic = "projects/fake-gmail-project/topics/gmail"
    static let pullSubscription = "projects/fake-gmail-project/subscriptions/crm-pull"
    static let pushSubscription = "projects/fake-gmail-project/subscriptions/crm-push"
    static let secret = "push-secret-0123456789abcdef"

    let fake: FakeGmail
    let runtime: CaptureRuntime
    let scheduler: SyncScheduler
    let schedulerClock: ManualCaptureClock
    let routes: PushRoutes
    let push: PushService

    var db: CaptureDatabase { runtime.database }

    static func config(mode: CaptureConfig.PushMode, baseURL: String, attachments: URL) -> CaptureConfig {
        var c = CaptureConfig()
        c.integrationEnabled = true
        c.apiBaseURL = baseURL
        c.workspaceDomain = "firm.example"
        c.rateUnitsPerSecond = 5_000
        c.projectUnitsPerSecond = 20_000
        c.attachmentDirectory = attachments.path
        c.pushMode = mode
        c.pubsubTopic = topic
        c.pubsubSubscription = pullSubscription
        c.pubsubBaseURL = baseURL
        c.pushSecret = secret
        return c
    }

    /// A fake with alice and `initial` messages, the topic (Gmail may publish) and the pull subscription.
    static func fake(initial: Int = 3, seed: UInt64 = 18) async throws -> FakeGmail {
        let fake = FakeGmail(options: .init(seed: seed, baseURL: "http://fake.test"))
        await fake.addUser(alice)
        for i in 0..<initial { try await fake.insertMessage(user: alice, raw: mail(i), labelIds: ["INBOX"]) }
        try await fake.createTopic(topic)
        try await fake.grantGmailPublish(topic: topic)
        try await fake.createSubscription(pullSubscription, topic: topic, ackDeadlineSeconds: 10)
        return fake
    }

    /// A fake seeded from the Fixtures/history scenario `name` (its clock at the newest message, as
    /// `fakegmail-server --scenario` starts it), with the topic (Gmail may publish) and the pull
    /// subscription; and the replay of the scenario's steps.
    static func fake(scenario name: String, seed: UInt64 = 18) async throws -> (FakeGmail, ScenarioReplay) {
        let scenario = try Scenario.load(directory: TestPaths.fixtures.appendingPathComponent("history").appendingPathComponent(name))
        var options = FakeGmail.Options(seed: seed, baseURL: "http://fake.test")
        if let newest = scenario.users.flatMap(\.messages).compactMap(\.internalDate).max() {
            options.clockStartMillis = max(options.clockStartMillis, newest)
        }
        let fake = FakeGmail(options: options)
        let refs = try await scenario.seed(into: fake)
        try await fake.createTopic(topic)
        try await fake.grantGmailPublish(topic: topic)
        try await fake.createSubscription(pullSubscription, topic: topic, ackDeadlineSeconds: 10)
        return (fake, ScenarioReplay(scenario, fake: fake, refs: refs))
    }

    /// The runtime over `fake` (in process, virtual clock linked to the fake's, unless `transport`/`clock` given).
    static func make(
        _ fake: FakeGmail, mode: CaptureConfig.PushMode, baseURL: String = "http://fake.test", transport: (any HTTPTransport)? = nil,
        clock: (any CaptureClock)? = nil, pacing: PushService.PullPacing = .init()
    ) async throws -> PushHarness {
        let transport = transport ?? InProcessFakeTransport(fake: fake)
        let linked = await VirtualCaptureClock.linked(to: fake)
        let clock: any CaptureClock = clock ?? linked
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString)")
        let key = try await fake.serviceAccountKeyJSON()
        let tokens = try ServiceAccountTokenProvider(keyJSON: key, transport: transport, clock: clock)
        let pubsubTokens = try ServiceAccountTokenProvider(
            keyJSON: key, scope: PubSubClient.scope, delegated: false, transport: transport, clock: clock)
        let runtime = try CaptureRuntime.build(
            config(mode: mode, baseURL: baseURL, attachments: dir), database: try CaptureDatabase(inMemory: nil), transport: transport,
            tokens: tokens, clock: clock)
        try await runtime.database.upsertAccount(email: alice, userId: nil)
        let schedulerClock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
        let scheduler = try #require(runtime.scheduler(clock: schedulerClock))
        let routes = runtime.pushRoutes(runNow: { scheduler.runNow($0) })
        let push = try #require(try runtime.pushService(scheduler: scheduler, pubsubTokens: pubsubTokens, pacing: pacing))
        return PushHarness(fake: fake, runtime: runtime, scheduler: scheduler, schedulerClock: schedulerClock, routes: routes, push: push)
    }

    /// Runs the scheduler (and, with `service`, the push service) while `body` runs.
    func running<T: Sendable>(service: Bool = false, _ body: @Sendable () async throws -> T) async throws -> T {
        let logger = Logger(label: "push-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let services: [any Service] = service ? [scheduler, push] : [scheduler]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// Live mail stored for alice.
    func stored() async throws -> Int {
        try await db.status().first { $0.email == Self.alice }?.messagesStored ?? 0
    }

    /// Waits (real time) until alice has `count` messages stored; returns the time it took.
    @discardableResult
    func waitStored(_ count: Int, within limit: Duration = .seconds(10)) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while try await stored() < count {
            guard start.duration(to: clock.now) < limit else {
                Issue.record("only \(try await stored()) of \(count) messages stored after \(limit)")
                return limit
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return start.duration(to: clock.now)
    }

    /// Waits until the scheduler has recorded `count` outcomes and is idle.
    func waitOutcomes(_ count: Int, within limit: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while await scheduler.outcomes().count < count {
            guard start.duration(to: clock.now) < limit else {
                Issue.record("only \(await scheduler.outcomes().count) of \(count) syncs after \(limit)")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Lets queued work settle (real time), for "nothing more happens" checks.
    static func settle() async throws { try await Task.sleep(for: .milliseconds(150)) }

    /// Waits until nothing moves: no sync run in progress, and no new Gmail call and no new sync outcome
    /// for 300 ms (at most 10 s), so a "nothing more happens" check does not depend on how loaded the
    /// machine is (a run's last Gmail call can come long before its outcome).
    func quiesce() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var last = (await gmailCalls().count, await scheduler.outcomes().count)
        var stableSince = clock.now
        while stableSince.duration(to: clock.now) < .milliseconds(300), start.duration(to: clock.now) < .seconds(10) {
            try await Task.sleep(for: .milliseconds(25))
            let now = (await gmailCalls().count, await scheduler.outcomes().count)
            let running = try await db.status().contains { $0.lastRun?.status == .running }
            if now != last || running {
                last = now
                stableSince = clock.now
            }
        }
    }

    /// Gmail API calls the fake has journaled (batch parts included; tokens and Pub/Sub excluded).
    func gmailCalls() async -> [FakeGmail.JournalEntry] {
        await fake.journal().filter { $0.method.hasPrefix("gmail.") }
    }

    static func mail(_ i: Int) -> [UInt8] {
        Array(
            """
            From: Investor \(i) <lp\(i)@harborline.example>\r
            To: Alice <alice@firm.example>\r
            Subject: Update \(i)\r
            Date: Tue, 02 Apr 2024 09:30:00 +0000\r
            Message-ID: <push-\(i)@harborline.example>\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Note \(i).\r

            """.utf8)
    }
}

/// A Fixtures/history scenario replayed against its fake in order: `run(to:)` applies the steps up to a
/// checkpoint, where the test acts (syncs, asserts), as `SyncScenarioTests.replay` does.
actor ScenarioReplay {
    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    let scenario: Scenario
    let fake: FakeGmail
    private(set) var refs: [String: FakeGmail.InsertedMessage]
    private var next = 0

    init(_ scenario: Scenario, fake: FakeGmail, refs: [String: FakeGmail.InsertedMessage]) {
        self.scenario = scenario
        self.fake = fake
        self.refs = refs
    }

    /// Applies the steps from where the replay stands up to the checkpoint `name`; returns when the last
    /// `insert` among them had returned (for latency measured from delivery), if there was one. Passing
    /// another checkpoint first, or reaching the end, is an error: the test and the fixture disagree.
    @discardableResult
    func run(to name: String) async throws -> ContinuousClock.Instant? {
        var refs = self.refs
        defer { self.refs = refs }
        var delivered: ContinuousClock.Instant?
        while next < scenario.steps.count {
            let step = scenario.steps[next]
            next += 1
            if case .checkpoint(let at) = step {
                guard at == name else {
                    throw Mismatch(description: "\(scenario.directory.lastPathComponent): checkpoint \"\(at)\" before \"\(name)\"")
                }
                return delivered
            }
            try await Scenario.apply(step, to: fake, refs: &refs)
            if case .insert = step { delivered = ContinuousClock.now }
        }
        throw Mismatch(description: "\(scenario.directory.lastPathComponent): no checkpoint \"\(name)\"")
    }
}

/// Pub/Sub's push requests answered by the capture's push route, in process.
struct RoutePushSender: PushSender {
    let routes: PushRoutes

    func send(_ request: PushRequest) async throws -> Int {
        let token = URLComponents(string: request.url)?.queryItems?.first { $0.name == "token" }?.value
        let r = await routes.answer(token: token, authorization: request.header("Authorization"), body: request.body)
        return Int(r.status.code)
    }
}

/// Records push requests without answering them to anyone (tests replay them).
actor CapturingPushSender: PushSender {
    var requests: [PushRequest] = []
    nonisolated func send(_ request: PushRequest) async throws -> Int {
        await record(request)
        return 204
    }
    func record(_ r: PushRequest) { requests.append(r) }
}
