import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Testing

/// Push end to end against FakeGmail in process: watch → notifier → Pub/Sub push (to the capture's route)
/// or pull → the mailbox's sync. The Gmail side of each scenario is a Fixtures/history `push-*` scenario
/// (made by Scripts/make_history_fixtures.py), replayed checkpoint by checkpoint; the capture's side
/// (backfill, renewals, the scheduler's poll) and the assertions are here. Virtual time; real time only
/// for the scheduler's own task to run.
@Suite struct PushScenarioTests {
    static let alice = PushHarness.alice

    /// A push-mode harness over the scenario `name` whose fake pushes straight into the route, with the
    /// watch set (the backfill is the test's first act, at the scenario's first checkpoint).
    static func pushReady(_ name: String) async throws -> (PushHarness, ScenarioReplay) {
        let (fake, replay) = try await PushHarness.fake(scenario: name)
        try await fake.createSubscription(
            PushHarness.pushSubscription, topic: PushHarness.topic,
            pushEndpoint: "http://crm.test/api/email/push?token=\(PushHarness.secret)")
        let h = try await PushHarness.make(fake, mode: .push)
        await fake.setPushSender(RoutePushSender(routes: h.routes))
        let watched = await h.push.renewDue()
        guard case .watched(.missing, _)? = watched[alice] else {
            Issue.record("no watch: \(watched)")
            return (h, replay)
        }
        return (h, replay)
    }

    /// Replays up to `checkpoint` (the scenario's backfill point), then syncs everything once.
    static func backfill(_ h: PushHarness, _ replay: ScenarioReplay, at checkpoint: String = "backfill") async throws {
        try await replay.run(to: checkpoint)
        h.scheduler.runNow(.all)
        try await h.waitOutcomes(1)
    }

    /// push-latency (2 messages, then one new message a second): the first new one is pushed and stored.
    @Test func newMailIsWokenByPushAndStored() async throws {
        let (h, replay) = try await Self.pushReady("push-latency")
        try await h.running {
            try await Self.backfill(h, replay, at: "watched")
            #expect(try await h.stored() == 2)
            #expect(try await h.db.pushStates().first?.watchExpiresAt != nil)
            try await replay.run(to: "sample-1")
            try await h.waitStored(3, within: .seconds(2))
            try await h.waitOutcomes(2)
        }
        let state = try #require(try await h.db.pushStates().first)
        #expect(state.notificationsReceived == 1 && state.lastNotificationAt != nil)
        #expect(await h.fake.pushDeliveries().map(\.status) == [204])
    }

    /// push-burst: 1 message, then 100 within one virtual second (pushes delivered every 10).
    @Test func aBurstOf100DeliveriesInOneSecondIsOneOrTwoSyncs() async throws {
        let (h, replay) = try await Self.pushReady("push-burst")
        try await h.running {
            try await Self.backfill(h, replay)
            // The burst, then the second ends: the notifier sends the coalesced notification.
            try await replay.run(to: "burst")
            try await h.waitStored(101, within: .seconds(10))
            try await h.quiesce()
        }
        let syncs = await h.scheduler.outcomes().count - 1
        #expect((1...2).contains(syncs), "\(syncs) syncs for a burst of 100")
        #expect(await h.fake.publishedNotifications().count <= 2)
    }

    /// push-dropped: 3 messages; Gmail drops every notification, then one new message arrives.
    @Test func droppedNotificationsAreCaughtByThePoll() async throws {
        let (h, replay) = try await Self.pushReady("push-dropped")
        try await h.running {
            try await Self.backfill(h, replay)
            try await replay.run(to: "dropped")
            try await h.quiesce()
            #expect(await h.fake.publishedNotifications().isEmpty)
            #expect(try await h.stored() == 3)
            #expect(await h.scheduler.outcomes().count == 1)
            // The scheduler's interval (180 min ± 10 %) passes: the poll syncs everything.
            while h.schedulerClock.sleepers == 0 { try await Task.sleep(for: .milliseconds(1)) }
            h.schedulerClock.advance(by: .seconds(200 * 60))
            try await h.waitStored(4)
        }
        #expect(try await h.db.pushStates().first?.notificationsReceived == 0)
    }

    /// push-duplicate-stale: 3 messages; one new message notified twice; then notifications at the
    /// cursor, at the watch's start and at historyId 1.
    @Test func duplicateAndStaleNotificationsCostAtMostOneHistoryList() async throws {
        let (h, replay) = try await Self.pushReady("push-duplicate-stale")
        try await h.running {
            try await Self.backfill(h, replay)
            // A duplicated notification for one new message.
            let before = await h.gmailCalls().count
            try await replay.run(to: "duplicate")
            try await h.waitStored(4)
            try await h.quiesce()
            try await replay.run(to: "redelivery")
            try await h.quiesce()
            let calls = await h.gmailCalls().dropFirst(before)
            let histories = calls.filter { $0.method == "gmail.users.history.list" }.count
            #expect((1...2).contains(histories), "history.list \(histories) times")
            #expect(!calls.contains { $0.method == "gmail.users.messages.list" || $0.method == "gmail.users.getProfile" })
            // The one new message was fetched once per format (metadata, then full), never twice.
            #expect(calls.filter { $0.method == "gmail.users.messages.get" }.count <= 2)
            #expect(await h.fake.pushDeliveries().count >= 2)

            // Stale: a notification at or below the stored cursor wakes nothing, so costs nothing.
            try await h.quiesce()
            let mark = await h.gmailCalls().count
            let syncs = await h.scheduler.outcomes().count
            let cursor = try #require(try await h.db.account(email: Self.alice)?.historyCursor)
            // The scenario's plain `notify` carries the mailbox's current historyId: the cursor, once synced.
            #expect(await h.fake.currentHistoryId(user: Self.alice) == cursor)
            let watchStart = try #require(await h.fake.watchStatus(user: Self.alice)?.historyId)
            let (start, at) = (try #require(UInt64(watchStart)), try #require(UInt64(cursor)))
            #expect(start <= at)
            let published = await h.fake.publishedNotifications().count
            try await replay.run(to: "stale")
            try await h.quiesce()
            #expect(await h.fake.publishedNotifications().dropFirst(published).map(\.historyId) == [cursor, watchStart, "1"])
            #expect(await h.gmailCalls().count == mark)
            #expect(await h.scheduler.outcomes().count == syncs)
        }
        let state = try #require(try await h.db.pushStates().first)
        #expect(state.notificationsStale >= 3)
    }

    /// push-lapsed-watch: 3 messages; the watch lapses silently, new mail is not notified; a day later
    /// the daily renewal re-establishes it and the next new message is pushed.
    @Test func aLapsedWatchIsRenewed() async throws {
        let (h, replay) = try await Self.pushReady("push-lapsed-watch")
        try await h.running {
            try await Self.backfill(h, replay)
            let published = await h.fake.publishedNotifications().count
            try await replay.run(to: "lapsed")
            #expect(await h.fake.watchStatus(user: Self.alice) == nil)
            #expect(await h.fake.publishedNotifications().count == published)
            // Not due yet: the stored watch looks alive until the daily renewal.
            guard case .notDue? = await h.push.renewDue()[Self.alice] else {
                Issue.record("renewed too early")
                return
            }
            // A day later (the fake's clock, which the capture's follows) the daily renewal re-establishes it.
            try await replay.run(to: "a-day-later")
            guard case .watched(.daily, _)? = await h.push.renewDue()[Self.alice] else {
                Issue.record("not renewed")
                return
            }
            #expect(await h.fake.watchStatus(user: Self.alice) != nil)
            try await replay.run(to: "renewed")
            try await h.waitStored(5)
        }
    }

    @Test func aWatchThatFailsIsRetriedAndA404ForgetsIt() async throws {
        let fake = try await PushHarness.fake(initial: 0)
        let h = try await PushHarness.make(fake, mode: .push)
        // The topic's grant is missing: Gmail answers 403.
        let other = "projects/fake-gmail-project/topics/ungranted"
        try await fake.createTopic(other)
        var config = h.runtime.config
        config.pubsubTopic = other
        let runtime = try CaptureRuntime.build(
            config, database: h.db, transport: InProcessFakeTransport(fake: fake),
            tokens: try ServiceAccountTokenProvider(
                keyJSON: try await fake.serviceAccountKeyJSON(), transport: InProcessFakeTransport(fake: fake), clock: h.runtime.clock),
            clock: h.runtime.clock)
        let push = try #require(try runtime.pushService(scheduler: h.scheduler))
        guard case .failed(.missing, _)? = await push.renewDue()[Self.alice] else {
            Issue.record("expected a failure")
            return
        }
        #expect(try await h.db.pushStates().first?.watchFailures == 1)
        guard case .notDue? = await push.renewDue()[Self.alice] else {
            Issue.record("retried before the backoff")
            return
        }
        try await fake.grantGmailPublish(topic: other)
        try await h.runtime.clock.sleep(for: .seconds(61))
        guard case .watched(.retry, _)? = await push.renewDue()[Self.alice] else {
            Issue.record("not retried")
            return
        }
        #expect(try await h.db.pushStates().first?.watchFailures == 0)
    }

    /// push-latency in pull mode: the first new message is pulled, stored and acknowledged.
    @Test func pullModeRecordsWakesAndAcknowledges() async throws {
        let (fake, replay) = try await PushHarness.fake(scenario: "push-latency")
        let h = try await PushHarness.make(fake, mode: .pull)
        #expect(await h.push.renewDue()[Self.alice] != nil)
        try await h.running {
            try await Self.backfill(h, replay, at: "watched")
            try await replay.run(to: "sample-1")
            #expect(try await h.push.pullOnce() == 1)
            try await h.waitStored(3)
            // Acknowledged: nothing is redelivered after the ack deadline.
            await fake.advanceClock(seconds: 30)
            #expect(try await h.push.pullOnce() == 0)
        }
        // The Pub/Sub token is the service account's own (no subject), with the pubsub scope.
        #expect(await fake.journal().contains { $0.method == "pubsub.projects.subscriptions.acknowledge" && $0.status == 200 })
    }
}
