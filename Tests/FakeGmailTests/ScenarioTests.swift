import FakeGmail
import Foundation
import TestSupport
import Testing

@Suite struct ScenarioTests {
    static let historyDir = TestPaths.fixtures.appendingPathComponent("history")
    static let scenarios: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: historyDir.path)) ?? []).filter {
        FileManager.default.fileExists(atPath: historyDir.appendingPathComponent("\($0)/scenario.json").path)
    }.sorted()

    @Test func scenariosArePresent() { #expect(Self.scenarios.count >= 4) }

    @Test(arguments: scenarios)
    func everyScenarioSeedsAndReplays(_ name: String) async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent(name))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        var refs = try await scenario.seed(into: fake)
        // The push scenarios expect the client under test to have watched each mailbox.
        if name.hasPrefix("push-") { try await Self.watchEveryone(fake) }
        for step in scenario.steps { try await Scenario.apply(step, to: fake, refs: &refs) }
        #expect(!(await fake.users()).isEmpty)
    }

    /// A topic Gmail may publish to, a pull subscription on it, and a `users.watch` on it for every user.
    static func watchEveryone(_ fake: FakeGmail) async throws {
        try await fake.createTopic(PushFixture.topic)
        try await fake.grantGmailPublish(topic: PushFixture.topic)
        try await fake.createSubscription(PushFixture.subscription, topic: PushFixture.topic)
        for user in await fake.users() {
            try await PushFixture.watch(fake, token: await fake.accessToken(for: user))
        }
    }

    /// Writes `{"steps": [step]}` as a scenario and loads it.
    static func load(steps: String, users: String = "[]") throws -> Scenario {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"users\": \(users), \"steps\": [\(steps)]}".utf8).write(to: dir.appendingPathComponent("scenario.json"))
        return try Scenario.load(directory: dir)
    }

    @Test func pushStepsParse() throws {
        let a = "\"user\": \"alice@firm.example\""
        let s = try Self.load(
            steps: """
                {"op": "notificationFault", \(a), "kind": "duplicate", "count": 1},
                {"op": "notificationFault", "kind": "delay", "delayMs": 2500, "nth": 2, "probability": 0.5},
                {"op": "notificationFault", \(a), "kind": "stale", "historyId": 7},
                {"op": "clearNotificationFaults"},
                {"op": "notificationInterval", "millis": 0},
                {"op": "expireWatch", \(a)},
                {"op": "notify", \(a)},
                {"op": "notify", \(a), "stale": true},
                {"op": "notify", \(a), "historyId": "12"},
                {"op": "notify", \(a), "historyId": 13},
                {"op": "deliverPushes"}
                """)
        #expect(s.steps.count == 11)
        let faults: [NotificationFault] = s.steps.compactMap { if case .notificationFault(let f) = $0 { f } else { nil } }
        #expect(
            faults == [
                NotificationFault(kind: .duplicate, user: "alice@firm.example", count: 1),
                NotificationFault(kind: .delay, nth: 2, probability: 0.5, delayMs: 2500),
                NotificationFault(kind: .stale, user: "alice@firm.example", historyId: "7"),
            ])
        guard case .clearNotificationFaults = s.steps[3], case .notificationInterval(millis: 0) = s.steps[4],
            case .expireWatch(user: "alice@firm.example") = s.steps[5], case .deliverPushes = s.steps[10]
        else {
            Issue.record("\(s.steps)")
            return
        }
        let notified: [Scenario.NotifiedHistory] = s.steps.compactMap { if case .notify(_, let h) = $0 { h } else { nil } }
        #expect(notified == [.current, .watchStart, .id("12"), .id("13")])
    }

    @Test(arguments: [
        (#"{"op": "notificationFault", "kind": "explode"}"#, #""kind" must be one of drop, delay, duplicate, reorder, stale"#),
        (#"{"op": "notificationFault"}"#, #""kind" must be one of"#),
        (#"{"op": "notificationFault", "kind": "drop", "count": 0}"#, #""count" must be an integer from 1"#),
        (#"{"op": "notificationFault", "kind": "drop", "count": 1.5}"#, #""count" must be an integer"#),
        (#"{"op": "notificationFault", "kind": "drop", "count": true}"#, #""count" must be an integer"#),
        (#"{"op": "notificationFault", "kind": "drop", "probability": 2}"#, #""probability" must be a number from 0 to 1"#),
        (#"{"op": "notificationFault", "kind": "drop", "delayMs": 10}"#, #""delayMs" is only for kind delay"#),
        (#"{"op": "notificationFault", "kind": "drop", "historyId": "5"}"#, #""historyId" is only for kind stale"#),
        (#"{"op": "notificationFault", "kind": "stale", "historyId": "-5"}"#, #""historyId" must be an unsigned integer"#),
        (#"{"op": "notificationFault", "kind": "drop", "user": "nobody"}"#, #""user" must be an email address"#),
        (#"{"op": "notificationFault", "kind": "drop", "rule": {}}"#, #"unknown field "rule""#),
        (#"{"op": "clearNotificationFaults", "user": "a@b.example"}"#, #"unknown field "user""#),
        (#"{"op": "deliverPushes", "count": 2}"#, #"unknown field "count""#),
        (#"{"op": "notificationInterval"}"#, #"missing "millis""#),
        (#"{"op": "notificationInterval", "millis": -1}"#, #""millis" must be an integer from 0"#),
        (#"{"op": "expireWatch"}"#, #"missing "user""#),
        (#"{"op": "expireWatch", "user": 5}"#, #""user" must be a non-empty string"#),
        (#"{"op": "notify"}"#, #"missing "user""#),
        (#"{"op": "notify", "user": "a@b.example", "stale": false}"#, #""stale" must be true"#),
        (#"{"op": "notify", "user": "a@b.example", "stale": true, "historyId": "3"}"#, #"exclude each other"#),
        (#"{"op": "notify", "user": "a@b.example", "historyId": "x"}"#, #""historyId" must be an unsigned integer"#),
        (#"{"op": "notify", "user": "a@b.example", "historyid": "3"}"#, #"unknown field "historyid""#),
        (#"{"op": "deliverPush"}"#, #"unknown op "deliverPush""#),
    ])
    func badPushStepsNameTheStepAndTheProblem(step: String, problem: String) throws {
        do {
            _ = try Self.load(steps: step)
            Issue.record("expected an error for \(step)")
        } catch let e as Scenario.LoadError {
            #expect(e.description.contains("scenario.json: steps[0]"), "\(e)")
            #expect(e.description.contains(problem), "\(e)")
        }
    }

    @Test func pushStepsDriveTheNotifier() async throws {
        let (fake, token) = try await PushFixture.make()
        let alice = PushFixture.alice
        var refs: [String: FakeGmail.InsertedMessage] = [:]
        func apply(_ json: String) async throws {
            for step in try Self.load(steps: json).steps { try await Scenario.apply(step, to: fake, refs: &refs) }
        }
        // Without a watch, expireWatch and notify are errors naming the mailbox.
        await #expect(throws: Scenario.LoadError.self) { try await apply(#"{"op": "expireWatch", "user": "alice@firm.example"}"#) }
        await #expect(throws: Scenario.LoadError.self) { try await apply(#"{"op": "notify", "user": "alice@firm.example"}"#) }
        let watch = try await PushFixture.watch(fake, token: token)
        let start = try #require(watch["historyId"] as? String)

        // A dropped notification is never published; cleared faults let the next one through.
        try await apply(#"{"op": "notificationFault", "user": "alice@firm.example", "kind": "drop", "count": 1}"#)
        try await PushFixture.deliver(fake, 1)
        #expect(await PushFixture.published(fake).isEmpty)
        try await apply(#"{"op": "notificationFault", "kind": "drop"}, {"op": "clearNotificationFaults"}"#)
        await fake.advanceClock(seconds: 2)
        let second = try await PushFixture.deliver(fake, 2)
        #expect(await PushFixture.published(fake) == [second])

        // With no cap, a duplicate fault publishes each change twice.
        try await apply(#"{"op": "notificationInterval", "millis": 0}, {"op": "notificationFault", "kind": "duplicate", "count": 1}"#)
        let third = try await PushFixture.deliver(fake, 3)
        #expect(await PushFixture.published(fake) == [second, third, third])

        // notify: the current historyId, the watch's start, or the one given.
        try await apply(
            #"{"op": "notify", "user": "alice@firm.example"}, {"op": "notify", "user": "alice@firm.example", "stale": true},"#
                + #"{"op": "notify", "user": "alice@firm.example", "historyId": "1"}"#)
        #expect(await PushFixture.published(fake).suffix(3) == [third, start, "1"])

        // deliverPushes sends what is due to a push subscription's endpoint.
        let sender = RecordingPushSender()
        await fake.setPushSender(sender)
        try await fake.createSubscription(
            PushFixture.project + "/subscriptions/crm-push", topic: PushFixture.topic, pushEndpoint: "http://crm.test/push")
        try await apply(#"{"op": "notify", "user": "alice@firm.example"}, {"op": "deliverPushes"}"#)
        #expect(await sender.count == 1)

        // expireWatch: the watch lapses now, and later mail is not notified.
        try await apply(#"{"op": "expireWatch", "user": "alice@firm.example"}"#)
        #expect(await fake.watchStatus(user: alice) == nil)
        let published = await PushFixture.published(fake).count
        try await PushFixture.deliver(fake, 4)
        #expect(await PushFixture.published(fake).count == published)
    }

    /// The push-* fixtures do on a watched mailbox what their names say.
    @Test func pushFixturesPublishWhatTheirNamesSay() async throws {
        func replay(_ name: String) async throws -> FakeGmail {
            let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent(name))
            let fake = FakeGmail(options: .init(seed: 1, quota: .off))
            var refs = try await scenario.seed(into: fake)
            try await Self.watchEveryone(fake)
            for step in scenario.steps { try await Scenario.apply(step, to: fake, refs: &refs) }
            return fake
        }
        let alice = "alice@firm.example"
        // 100 messages in one second: the first notified at once, the rest coalesced into one.
        let burst = try await replay("push-burst")
        #expect(await burst.messageIDs(user: alice).count == 101)
        #expect(await burst.publishedNotifications().count == 2)
        #expect(try await replay("push-dropped").publishedNotifications().isEmpty)
        // The lapsed watch notifies nothing (re-watching is the client's part).
        #expect(try await replay("push-lapsed-watch").publishedNotifications().isEmpty)
        // The duplicated change, then the three stale ones.
        #expect(try await replay("push-duplicate-stale").publishedNotifications().count == 5)
        let latency = try await replay("push-latency")
        #expect(await latency.publishedNotifications().count == 40)
        #expect(await latency.messageIDs(user: alice).count == 42)
    }

    @Test func incrementalScenarioEndsWithTheNetEffect() async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent("incremental-basic"))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        var refs = try await scenario.seed(into: fake)
        let user = "alice@firm.example"
        let cursor = try #require(await fake.currentHistoryId(user: user))
        for step in scenario.steps { try await Scenario.apply(step, to: fake, refs: &refs) }
        let ids = Set(await fake.messageIDs(user: user))
        #expect(ids == Set(["m1", "m3", "m4", "m5", "late1", "late2"].map { refs[$0]!.id }))
        let token = await fake.accessToken(for: user)
        let r = await fake.handle(
            FakeRequest(
                method: "GET", target: "/gmail/v1/users/me/history?startHistoryId=\(cursor)",
                headers: [("Authorization", "Bearer \(token)")]))
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        // late1 added, m1 +STARRED, m1 -UNREAD, m2 deleted, transient added, transient deleted, late2 added.
        #expect((obj["history"] as? [Any])?.count == 7)
    }

    @Test func twoTeammatesThreadWithinEachMailbox() async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent("two-teammates"))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        let refs = try await scenario.seed(into: fake)
        #expect(refs["a3"]!.threadId == refs["a2"]!.threadId)
        #expect(refs["a4"]!.threadId == refs["a2"]!.threadId)
        #expect(refs["b2"]!.threadId == refs["b1"]!.threadId)
        #expect(refs["a2"]!.threadId != refs["b2"]!.threadId)  // thread ids are per mailbox
    }

    @Test func badScenariosNameTheFileAndTheProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: Scenario.LoadError.self) { try Scenario.load(directory: dir) }
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("scenario.json: missing"))
        }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("scenario.json"))
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("invalid JSON"))
        }
        try Data(#"{"users": [{"email": "a@b.example", "messages": [{"eml": "nope.eml"}]}]}"#.utf8).write(
            to: dir.appendingPathComponent("scenario.json"))
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("nope.eml") && e.description.contains("missing .eml"))
        }
    }
}

/// Counts push requests, answering 204.
actor RecordingPushSender: PushSender {
    var count = 0
    nonisolated func send(_ request: PushRequest) async throws -> Int {
        await bump()
        return 204
    }
    func bump() { count += 1 }
}

/// The standalone binary, started as a new user would.
@Suite(.serialized) struct FakeGmailServerBinaryTests {
    static var binary: URL {
        BuiltProduct.url("fakegmail-server")
    }

    @Test func printsListeningLineWritesKeyAndStopsOnSIGTERM() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = [
            "--port", "0", "--scenario", TestPaths.fixtures.appendingPathComponent("history/two-teammates").path,
            "--service-account-out", keyFile.path,
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = ""
        let handle = out.fileHandleForReading
        while !line.hasSuffix("\n") {
            let d = handle.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        let first = line.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("listening on http://127.0.0.1:"))
        let port = Int(first.split(separator: ":").last ?? "") ?? 0
        #expect(port > 0)
        let key = try JSONSerialization.jsonObject(with: Data(contentsOf: keyFile)) as? [String: Any]
        #expect(key?["token_uri"] as? String == "http://127.0.0.1:\(port)/token")
        #expect(key?["type"] as? String == "service_account")
        p.terminate()  // SIGTERM
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0)
    }

    @Test func badScenarioExitsNonZeroNamingTheFile() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["--port", "0", "--scenario", "/nonexistent-scenario-dir"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(message.contains("/nonexistent-scenario-dir/scenario.json: missing"))
    }
}
