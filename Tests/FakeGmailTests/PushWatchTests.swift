import FakeGmail
import Foundation
import Testing

/// A fake with Alice's mailbox, a topic in the fake's project that has (or has not) granted publish to
/// Gmail's push account, and a pull subscription on it.
enum PushFixture {
    static let alice = RouteTests.alice
    static let project = "projects/fake-gmail-project"
    static let topic = project + "/topics/gmail-push"
    static let subscription = project + "/subscriptions/crm-pull"

    static func make(seed: UInt64 = 9, grant: Bool = true) async throws -> (FakeGmail, String) {
        let fake = FakeGmail(options: .init(seed: seed, quota: .off))
        await fake.addUser(alice)
        try await fake.createTopic(topic)
        if grant { try await fake.grantGmailPublish(topic: topic) }
        try await fake.createSubscription(subscription, topic: topic)
        return (fake, await fake.accessToken(for: alice))
    }

    static func watchRequest(_ body: String, token: String, path: String = "/gmail/v1/users/me/watch") -> FakeRequest {
        FakeRequest(
            method: "POST", target: path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: Array(body.utf8))
    }

    /// Watches Alice's mailbox on the fixture's topic.
    @discardableResult
    static func watch(_ fake: FakeGmail, token: String, extra: String = "") async throws -> [String: Any] {
        let r = await fake.handle(watchRequest("{\"topicName\": \"\(topic)\"\(extra)}", token: token))
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
        return try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    /// Delivers one message to Alice with the given labels; returns the mailbox's historyId after it.
    @discardableResult
    static func deliver(_ fake: FakeGmail, _ n: Int, labels: [String] = ["INBOX", "UNREAD"]) async throws -> String {
        try await fake.insertMessage(user: alice, raw: eml(subject: "Update \(n)", messageID: "push-\(n)@lumen"), labelIds: labels)
            .historyId
    }

    /// The historyIds Gmail published for Alice, in order.
    static func published(_ fake: FakeGmail) async -> [String] {
        await fake.publishedNotifications().map(\.historyId)
    }

    /// `{"emailAddress", "historyId"}` from a base64 Pub/Sub `data` field.
    static func notification(_ data: String) throws -> [String: Any] {
        let bytes = try #require(Data(base64Encoded: data))
        return try #require(JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    }
}

@Suite struct PushWatchTests {
    typealias F = PushFixture

    @Test(arguments: Door.allCases)
    func watchAnswersHistoryIdAndExpirationAndStopIsEmpty(door: Door) async throws {
        let (fake, token) = try await F.make()
        let now = await fake.nowMillis()
        let current = try #require(await fake.currentHistoryId(user: F.alice))
        try await withFake(fake, door: door) { s in
            let body = "{\"topicName\": \"\(F.topic)\", \"labelIds\": [\"INBOX\"], \"labelFilterBehavior\": \"INCLUDE\"}"
            let r = try await s.send(F.watchRequest(body, token: token))
            #expect(r.status == 200)
            // int64 and uint64 fields are JSON strings, in Gmail's order.
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(text == "{\n  \"historyId\": \"\(current)\",\n  \"expiration\": \"\(now + 7 * 86_400_000)\"\n}\n")
            let stop = try await s.send(F.watchRequest("", token: token, path: "/gmail/v1/users/me/stop"))
            #expect(stop.status == 204)
            #expect(stop.body.isEmpty)
        }
        #expect(await fake.watchStatus(user: F.alice) == nil)
        #expect(await fake.stats().requests["gmail.users.watch"] == 1)
        #expect(await fake.stats().requests["gmail.users.stop"] == 1)
    }

    @Test(arguments: Door.allCases)
    func watchErrorsAreGmails(door: Door) async throws {
        let (fake, token) = try await F.make(grant: false)
        try await fake.createTopic(F.project + "/topics/granted")
        try await fake.grantGmailPublish(topic: F.project + "/topics/granted")
        try await withFake(fake, door: door) { s in
            func check(_ body: String, _ code: Int, _ status: String, _ reason: String, _ message: String) async throws {
                let r = try await s.send(F.watchRequest(body, token: token))
                #expect(r.status == code, "\(body)")
                let e = try #require(try s.json(r)["error"] as? [String: Any])
                #expect(e["status"] as? String == status)
                #expect(e["message"] as? String == message)
                let first = try #require((e["errors"] as? [[String: Any]])?.first)
                #expect(first["reason"] as? String == reason)
            }
            try await check("{}", 400, "INVALID_ARGUMENT", "invalidArgument", "topicName required")
            let mismatch = "Invalid topicName does not match projects/fake-gmail-project/topics/*"
            try await check(
                "{\"topicName\": \"projects/other-project/topics/gmail-push\"}", 400, "INVALID_ARGUMENT", "invalidArgument", mismatch)
            try await check("{\"topicName\": \"gmail-push\"}", 400, "INVALID_ARGUMENT", "invalidArgument", mismatch)
            try await check(
                "{\"topicName\": \"\(F.project)/topics/nope\"}", 404, "NOT_FOUND", "notFound",
                "Error sending test message to Cloud PubSub \(F.project)/topics/nope : Resource not found (resource=nope).")
            try await check(
                "{\"topicName\": \"\(F.topic)\"}", 403, "PERMISSION_DENIED", "forbidden",
                "Error sending test message to Cloud PubSub \(F.topic) : User not authorized to perform this action.")
            try await check(
                "{\"topicName\": \"\(F.project)/topics/granted\", \"labelFilterBehavior\": \"sometimes\"}", 400, "INVALID_ARGUMENT",
                "invalidArgument", "Invalid value at 'labelFilterBehavior' (sometimes)")
        }
        #expect(await fake.watchStatus(user: F.alice) == nil)
    }

    /// `labelFilterBehavior` in either case; the deprecated `labelFilterAction` alone, and ignored when both are set.
    @Test func labelFilterBehaviorAndTheDeprecatedAction() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token, extra: ", \"labelIds\": [\"SPAM\"], \"labelFilterAction\": \"exclude\"")
        #expect(await fake.watchStatus(user: F.alice)?.labelFilterBehavior == "exclude")
        try await F.watch(
            fake, token: token,
            extra: ", \"labelIds\": [\"SPAM\"], \"labelFilterAction\": \"exclude\", \"labelFilterBehavior\": \"include\"")
        #expect(await fake.watchStatus(user: F.alice)?.labelFilterBehavior == "include")
        try await F.watch(fake, token: token, extra: ", \"labelIds\": [\"SPAM\"], \"labelFilterBehavior\": \"EXCLUDE\"")
        let w = try #require(await fake.watchStatus(user: F.alice))
        #expect(w.labelFilterBehavior == "exclude" && w.labelIds == ["SPAM"] && w.topicName == F.topic)
    }

    @Test func aWatchLapsesSilentlyAtItsExpiration() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token)
        let h1 = try await F.deliver(fake, 1)
        #expect(await F.published(fake) == [h1])
        await fake.advanceClock(seconds: 7 * 86_400 - 1)
        let h2 = try await F.deliver(fake, 2)
        #expect(await F.published(fake) == [h1, h2])
        await fake.advanceClock(seconds: 1)
        try await F.deliver(fake, 3)
        #expect(await F.published(fake) == [h1, h2])
        #expect(await fake.watchStatus(user: F.alice) == nil)

        // Expired now through the control route: nothing more either (a fresh token: a week has passed).
        try await F.watch(fake, token: await fake.accessToken(for: F.alice))
        let expire = await fake.handle(FakeRequest(method: "POST", target: "/__fake/users/\(F.alice)/watch/expire"))
        #expect(expire.status == 200)
        await fake.advanceClock(seconds: 2)
        try await F.deliver(fake, 4)
        #expect(await F.published(fake) == [h1, h2])
        let gone = await fake.handle(FakeRequest(method: "GET", target: "/__fake/users/\(F.alice)/watch"))
        #expect(gone.status == 404)
    }

    /// At most one notification per second per mailbox: the first change is published at once, the rest of
    /// the second is coalesced into one notification carrying the latest historyId when the second is over.
    @Test func oneNotificationPerSecondCoalescedToTheLatestHistoryId() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token)
        let first = try await F.deliver(fake, 0)
        var last = first
        for n in 1..<100 {
            await fake.advanceClock(millis: 9)
            last = try await F.deliver(fake, n)
        }
        #expect(await F.published(fake) == [first])
        await fake.advanceClock(millis: 100)  // 991 ms after the first
        #expect(await F.published(fake) == [first])
        await fake.advanceClock(millis: 9)
        #expect(await F.published(fake) == [first, last])
        let times = await fake.publishedNotifications().map(\.atMillis)
        #expect(times[1] - times[0] == 1000)
        // A quiet mailbox publishes nothing more; the next change after the cap goes out at once.
        await fake.advanceClock(seconds: 5)
        #expect(await fake.publishedNotifications().count == 2)
        let next = try await F.deliver(fake, 100)
        #expect(await F.published(fake) == [first, last, next])
    }

    @Test func labelFiltersIncludeAndExclude() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token, extra: ", \"labelIds\": [\"INBOX\"], \"labelFilterBehavior\": \"include\"")
        try await F.deliver(fake, 1, labels: ["SENT"])
        #expect(await F.published(fake).isEmpty)
        await fake.advanceClock(seconds: 2)
        let inbox = try await F.deliver(fake, 2, labels: ["INBOX"])
        #expect(await F.published(fake) == [inbox])
        // A label change that touches INBOX, and deleting an INBOX message, are changes "relating to" it.
        await fake.advanceClock(seconds: 2)
        let sent = try #require(await fake.messageIDs(user: F.alice).last)
        try await fake.modifyLabels(user: F.alice, id: sent, add: ["INBOX"])
        let relabelled = try #require(await fake.currentHistoryId(user: F.alice))
        await fake.advanceClock(seconds: 2)
        try await fake.deleteMessage(user: F.alice, id: sent)
        let deleted = try #require(await fake.currentHistoryId(user: F.alice))
        #expect(await F.published(fake) == [inbox, relabelled, deleted])

        try await F.watch(fake, token: token, extra: ", \"labelIds\": [\"SPAM\"], \"labelFilterBehavior\": \"exclude\"")
        await fake.advanceClock(seconds: 2)
        try await F.deliver(fake, 3, labels: ["SPAM"])
        #expect(await fake.publishedNotifications().count == 3)
        await fake.advanceClock(seconds: 2)
        let ham = try await F.deliver(fake, 4, labels: ["INBOX"])
        #expect(await F.published(fake) == [inbox, relabelled, deleted, ham])
    }

    /// Each scripted fault on the first notification; the second (a second later) goes out normally.
    @Test(arguments: NotificationFault.Kind.allCases)
    func notificationFaults(kind: NotificationFault.Kind) async throws {
        let (fake, token) = try await F.make()
        let watched = try await F.watch(fake, token: token)
        let start = try #require(watched["historyId"] as? String)
        let rule = NotificationFault(kind: kind, user: F.alice, count: 1, delayMs: 3000)
        if kind == .delay {
            // Through the control route, as a test over a socket would script it.
            let body = try JSONEncoder().encode(rule)
            #expect(await fake.handle(FakeRequest(method: "POST", target: "/__fake/push/faults", body: Array(body))).status == 200)
        } else {
            await fake.addNotificationFault(rule)
        }
        let h1 = try await F.deliver(fake, 1)
        await fake.advanceClock(seconds: 1)
        let h2 = try await F.deliver(fake, 2)
        await fake.advanceClock(seconds: 5)
        let expected: [String]
        switch kind {
        case .drop: expected = [h2]
        case .delay: expected = [h2, h1]
        case .duplicate: expected = [h1, h1, h2]
        case .reorder: expected = [h2, h1]
        case .stale: expected = [start, h2]
        }
        #expect(await F.published(fake) == expected)
        // What reached the subscription is exactly what was published, in order.
        let pulled = try PubSubTests.pull(await fake.handle(PubSubTests.pullRequest(F.subscription, max: 10)))
        let ids = try pulled.map { m -> String in
            let data = try #require((m["message"] as? [String: Any])?["data"] as? String)
            return "\(try F.notification(data)["historyId"] ?? "")"
        }
        #expect(ids == expected)
    }

    /// A delayed notification reaches Pub/Sub exactly `delayMs` later on the virtual clock.
    @Test func aDelayedNotificationArrivesOnTheVirtualClock() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token)
        await fake.addNotificationFault(NotificationFault(kind: .delay, count: 1, delayMs: 2500))
        let h1 = try await F.deliver(fake, 1)
        let t0 = await fake.nowMillis()
        await fake.advanceClock(millis: 2499)
        #expect(await F.published(fake).isEmpty)
        await fake.advanceClock(millis: 1)
        #expect(await F.published(fake) == [h1])
        #expect(await fake.publishedNotifications().first?.atMillis == t0 + 2500)
    }

    /// The notification's data is `{"emailAddress", "historyId"}`; the control route injects one outside
    /// the cap and the filter.
    @Test func theNotificationPayloadAndAnInjectedOne() async throws {
        let (fake, token) = try await F.make()
        try await F.watch(fake, token: token, extra: ", \"labelIds\": [\"STARRED\"]")
        let inject = await fake.handle(
            FakeRequest(method: "POST", target: "/__fake/users/\(F.alice)/watch/notify", body: Array("{\"historyId\": \"12345\"}".utf8)))
        #expect(inject.status == 200)
        let injectedDefault = await fake.handle(FakeRequest(method: "POST", target: "/__fake/users/\(F.alice)/watch/notify"))
        #expect(injectedDefault.status == 200)
        let pulled = try PubSubTests.pull(await fake.handle(PubSubTests.pullRequest(F.subscription, max: 10)))
        #expect(pulled.count == 2)
        let message = try #require(pulled.first?["message"] as? [String: Any])
        let data = try F.notification(try #require(message["data"] as? String))
        #expect(data["emailAddress"] as? String == F.alice)
        #expect(data["historyId"] as? Int == 12345)
        #expect(message["attributes"] == nil)
        let current = try #require(await fake.currentHistoryId(user: F.alice))
        let second = try #require(pulled.last?["message"] as? [String: Any])
        #expect(try F.notification(try #require(second["data"] as? String))["historyId"] as? Int == Int(current))
        // Without a watch there is nothing to notify.
        #expect(await fake.handle(F.watchRequest("", token: token, path: "/gmail/v1/users/me/stop")).status == 204)
        #expect(await fake.handle(FakeRequest(method: "POST", target: "/__fake/users/\(F.alice)/watch/notify")).status == 404)
    }
}
