import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Testing

/// Push end to end against FakeGmail in process: watch → notifier → Pub/Sub push (to the capture's route)
/// or pull → the mailbox's sync. Virtual time; real time only for the scheduler's own task to run.
@Suite struct PushScenarioTests {
    static let alice = PushHarness.alice

    /// A push-mode harness whose fake pushes straight into the route, with the backfill done and the watch set.
    static func pushReady(initial: Int = 3) async throws -> PushHarness {
        let fake = try await PushHarness.fake(initial: initial)
        try await fake.createSubscription(
            PushHarness.pushSubscription, topic: PushHarness.topic,
            pushEndpoint: "http://crm.test/api/email/push?token=\(PushHarness.secret)")
        let h = try await PushHarness.make(fake, mode: .push)
        await fake.setPushSender(RoutePushSender(routes: h.routes))
        let watched = await h.push.renewDue()
        guard case .watched(.missing, _)? = watched[alice] else {
            Issue.record("no watch: \(watched)")
            return h
        }
        return h
    }

    @Test func newMailIsWokenByPushAndStored() async throws {
        let h = try await Self.pushReady()
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            #expect(try await h.stored() == 3)
            #expect(try await h.db.pushStates().first?.watchExpiresAt != nil)
            try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(10))
            await h.fake.deliverPushes()
            try await h.waitStored(4, within: .seconds(2))
            try await h.waitOutcomes(2)
        }
        let state = try #require(try await h.db.pushStates().first)
        #expect(state.notificationsReceived == 1 && state.lastNotificationAt != nil)
        #expect(await h.fake.pushDeliveries().map(\.status) == [204])
    }

    @Test func aBurstOf100DeliveriesInOneSecondIsOneOrTwoSyncs() async throws {
        let h = try await Self.pushReady(initial: 1)
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            for i in 0..<100 {
                try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(100 + i))
                if i % 10 == 0 { await h.fake.deliverPushes() }
            }
            // The second ends: the notifier sends the coalesced notification.
            await h.fake.advanceClock(seconds: 1)
            await h.fake.deliverPushes()
            try await h.waitStored(101, within: .seconds(10))
            try await PushHarness.settle()
        }
        let syncs = await h.scheduler.outcomes().count - 1
        #expect((1...2).contains(syncs), "\(syncs) syncs for a burst of 100")
        #expect(await h.fake.publishedNotifications().count <= 2)
    }

    @Test func droppedNotificationsAreCaughtByThePoll() async throws {
        let h = try await Self.pushReady()
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            await h.fake.addNotificationFault(NotificationFault(kind: .drop, user: Self.alice))
            try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(20))
            await h.fake.deliverPushes()
            try await PushHarness.settle()
            #expect(try await h.stored() == 3)
            #expect(await h.scheduler.outcomes().count == 1)
            // The scheduler's interval (180 min ± 10 %) passes: the poll syncs everything.
            while h.schedulerClock.sleepers == 0 { try await Task.sleep(for: .milliseconds(1)) }
            h.schedulerClock.advance(by: .seconds(200 * 60))
            try await h.waitStored(4)
        }
        #expect(try await h.db.pushStates().first?.notificationsReceived == 0)
    }

    @Test func duplicateAndStaleNotificationsCostAtMostOneHistoryList() async throws {
        let h = try await Self.pushReady()
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            // A duplicated notification for one new message.
            await h.fake.addNotificationFault(NotificationFault(kind: .duplicate, user: Self.alice, count: 1))
            let before = await h.gmailCalls().count
            try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(30))
            await h.fake.deliverPushes()
            try await h.waitStored(4)
            try await PushHarness.settle()
            await h.fake.deliverPushes()
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
            try await h.fake.injectNotification(user: Self.alice, historyId: cursor)
            try await h.fake.injectNotification(user: Self.alice, historyId: "1")
            await h.fake.deliverPushes()
            try await h.quiesce()
            #expect(await h.gmailCalls().count == mark)
            #expect(await h.scheduler.outcomes().count == syncs)
        }
        let state = try #require(try await h.db.pushStates().first)
        #expect(state.notificationsStale >= 2)
    }

    @Test func aLapsedWatchIsRenewed() async throws {
        let h = try await Self.pushReady()
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            // Gmail lets the watch lapse silently: new mail is not notified.
            try await h.fake.expireWatch(user: Self.alice)
            let published = await h.fake.publishedNotifications().count
            try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(40))
            await h.fake.deliverPushes()
            #expect(await h.fake.publishedNotifications().count == published)
            // Not due yet: the stored watch looks alive until the daily renewal.
            guard case .notDue? = await h.push.renewDue()[Self.alice] else {
                Issue.record("renewed too early")
                return
            }
            // A day later the daily renewal re-establishes it; the next change is pushed.
            try await h.runtime.clock.sleep(for: .seconds(86_400))
            guard case .watched(.daily, _)? = await h.push.renewDue()[Self.alice] else {
                Issue.record("not renewed")
                return
            }
            #expect(await h.fake.watchStatus(user: Self.alice) != nil)
            try await h.fake.insertMessage(user: Self.alice, raw: PushHarness.mail(41))
            await h.fake.deliverPushes()
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

    @Test func pullModeRecordsWakesAndAcknowledges() async throws {
        let fake = try await PushHarness.fake(initial: 2)
        let h = try await PushHarness.make(fake, mode: .pull)
        #expect(await h.push.renewDue()[Self.alice] != nil)
        try await h.running {
            h.scheduler.runNow(.all)
            try await h.waitOutcomes(1)
            try await fake.insertMessage(user: Self.alice, raw: PushHarness.mail(60))
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
