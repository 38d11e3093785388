import Foundation
import GmailCapture
import Testing

@Suite struct PushPlannerTests {
    let t0 = Date(timeIntervalSince1970: 1_709_658_000)
    let day: TimeInterval = 86_400
    let planner = PushPlanner()

    @Test func aMailboxNeverWatchedIsWatchedNow() {
        #expect(planner.decide(.init(), now: t0) == .watchNow(.missing))
    }

    @Test func renewalIsDailyAndBeforeExpiry() {
        // Watched now, Gmail's 7-day expiration: nothing due until a day later.
        let w = PushPlanner.Watch(expiresAt: t0 + 7 * day, watchedAt: t0)
        #expect(planner.decide(w, now: t0) == .waitUntil(t0 + day))
        #expect(planner.decide(w, now: t0 + day - 1) == .waitUntil(t0 + day))
        #expect(planner.decide(w, now: t0 + day) == .watchNow(.daily))
        // A watch lapsing within 24 h is renewed whatever the daily time says.
        let short = PushPlanner.Watch(expiresAt: t0 + 30 * 3600, watchedAt: t0)
        #expect(planner.decide(short, now: t0) == .waitUntil(t0 + 6 * 3600))
        #expect(planner.decide(short, now: t0 + 6 * 3600) == .watchNow(.expiringSoon))
        // Past its expiration (Gmail stopped silently): expired.
        #expect(planner.decide(.init(expiresAt: t0, watchedAt: t0 - 7 * day), now: t0 + 1) == .watchNow(.expired))
        // A stored expiration without a renewal time (an older row) is renewed now.
        #expect(planner.decide(.init(expiresAt: t0 + 7 * day), now: t0) == .watchNow(.daily))
    }

    @Test func failuresBackOffAndA404ForgetsTheWatch() {
        #expect(planner.retryBackoff(failures: 1) == 60)
        #expect(planner.retryBackoff(failures: 2) == 120)
        #expect(planner.retryBackoff(failures: 10) == 3_600)
        let failed = PushPlanner.Watch(expiresAt: nil, watchedAt: t0 - day, failures: 2, failedAt: t0)
        #expect(planner.decide(failed, now: t0 + 119) == .waitUntil(t0 + 120))
        #expect(planner.decide(failed, now: t0 + 120) == .watchNow(.retry))
        let notFound = GmailAPIError(classification: .needsAdmin, method: .watch, status: 404, reason: "notFound", message: "gone")
        let unavailable = GmailAPIError(classification: .retryAfterBackoff, method: .watch, status: 503, reason: nil, message: "later")
        #expect(PushPlanner.watchLapsed(after: notFound))
        #expect(!PushPlanner.watchLapsed(after: unavailable))
        #expect(!PushPlanner.watchLapsed(after: CancellationError()))
    }

    @Test func nextCheckIsTheEarliestWaitWithinTheHourlyCheck() {
        #expect(planner.nextCheck([], now: t0) == t0 + 3_600)
        #expect(planner.nextCheck([.waitUntil(t0 + 600), .waitUntil(t0 + day), .watchNow(.daily)], now: t0) == t0 + 600)
        #expect(planner.nextCheck([.waitUntil(t0 - 5)], now: t0) == t0 + 1)
    }

    @Test(
        arguments: [
            ("100", "100", true, PushPlanner.Wake.stale), ("99", "100", true, .stale), ("101", "100", true, .sync),
            ("101", nil, true, .sync), ("101", "100", false, .ignored), ("12345678901234567890", "100", true, .sync),
        ] as [(String, String?, Bool, PushPlanner.Wake)])
    func aNotificationWakesOnlyPastTheCursor(historyId: String, cursor: String?, enabled: Bool, expected: PushPlanner.Wake) {
        #expect(PushPlanner.wake(historyId: historyId, cursor: cursor, enabled: enabled) == expected)
    }
}

@Suite struct PushWireTests {
    @Test func notificationsAcceptANumberOrAString() throws {
        #expect(
            GmailPushNotification.decode(data: Array(#"{"emailAddress":"a@firm.example","historyId":5832991}"#.utf8))?.historyId
                == "5832991")
        #expect(GmailPushNotification.decode(data: Array(#"{"emailAddress":"a@firm.example","historyId":"17"}"#.utf8))?.historyId == "17")
        #expect(GmailPushNotification.decode(data: Array(#"{"emailAddress":"a@firm.example","historyId":"x"}"#.utf8)) == nil)
        #expect(GmailPushNotification.decode(data: Array(#"{"emailAddress":"nobody","historyId":1}"#.utf8)) == nil)
    }

    @Test func envelopesWrappedUnwrappedAndMalformed() throws {
        let data = Data(#"{"emailAddress":"a@firm.example","historyId":9}"#.utf8)
        let std = data.base64EncodedString()
        let url = std.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
        for encoded in [std, url] {
            let body = #"{"message":{"data":"\#(encoded)","message_id":"m1","publishTime":"2024-01-01T00:00:00Z"},"subscription":"s"}"#
            #expect(
                try PushEnvelope.parse(Array(body.utf8))
                    == .notification(.init(emailAddress: "a@firm.example", historyId: "9"), messageId: "m1"))
        }
        #expect(try PushEnvelope.parse(Array(data)) == .notification(.init(emailAddress: "a@firm.example", historyId: "9"), messageId: nil))
        let other = Data(#"{"hello":"world"}"#.utf8).base64EncodedString()
        #expect(try PushEnvelope.parse(Array(#"{"message":{"data":"\#(other)","messageId":"m2"}}"#.utf8)) == .notGmail(messageId: "m2"))
        #expect(try PushEnvelope.parse(Array(#"{"message":{"messageId":"m3"}}"#.utf8)) == .notGmail(messageId: "m3"))
        for bad in ["not json", "[]", #"{"subscription":"s"}"#, #"{"message":{"data":"%%%"}}"#] {
            #expect(throws: PushEnvelope.Malformed.self) { try PushEnvelope.parse(Array(bad.utf8)) }
        }
    }
}

@Suite struct PushConfigTests {
    @Test func modesNeedTheirVariables() throws {
        let base = ["CRM_GMAIL_INTEGRATION_ENABLED": "true", "CRM_GMAIL_WORKSPACE_DOMAIN": "firm.example"]
        #expect(try CaptureConfig.load(from: base, fileExists: { _ in true }).pushMode == .off)
        func problems(_ extra: [String: String]) -> [String] {
            do {
                _ = try CaptureConfig.load(from: base.merging(extra) { $1 }, fileExists: { _ in true })
                return []
            } catch let e as CaptureConfig.Invalid { return e.problems.map(\.variable) } catch { return ["?"] }
        }
        #expect(problems(["CRM_GMAIL_PUSH_MODE": "sometimes"]) == ["CRM_GMAIL_PUSH_MODE"])
        #expect(problems(["CRM_GMAIL_PUSH_MODE": "pull"]) == ["CRM_GMAIL_PUBSUB_TOPIC", "CRM_GMAIL_PUBSUB_SUBSCRIPTION"])
        #expect(problems(["CRM_GMAIL_PUSH_MODE": "push", "CRM_GMAIL_PUBSUB_TOPIC": "projects/p/topics/t"]) == ["CRM_GMAIL_PUSH_MODE"])
        #expect(
            problems(["CRM_GMAIL_PUSH_MODE": "push", "CRM_GMAIL_PUBSUB_TOPIC": "topics/t", "CRM_GMAIL_PUSH_SECRET": "s"]).sorted() == [
                "CRM_GMAIL_PUBSUB_TOPIC", "CRM_GMAIL_PUSH_SECRET",
            ])
        #expect(
            problems([
                "CRM_GMAIL_PUSH_MODE": "push", "CRM_GMAIL_PUBSUB_TOPIC": "projects/p/topics/t",
                "CRM_GMAIL_PUSH_OIDC_AUDIENCE": "https://crm",
            ]) == ["CRM_GMAIL_PUSH_OIDC_EMAIL"])
        let ok = try CaptureConfig.load(
            from: base.merging([
                "CRM_GMAIL_PUSH_MODE": "PUSH", "CRM_GMAIL_PUBSUB_TOPIC": "projects/p/topics/t",
                "CRM_GMAIL_PUSH_OIDC_AUDIENCE": "https://crm",
                "CRM_GMAIL_PUSH_OIDC_EMAIL": "push@p.iam.gserviceaccount.com", "CRM_GMAIL_PUSH_SECRET": "0123456789abcdef0123",
                "CRM_GMAIL_PUBSUB_BASE_URL": "http://127.0.0.1:8025/",
            ]) { $1 }, fileExists: { _ in true })
        #expect(ok.pushMode == .push && ok.pubsubTopic == "projects/p/topics/t" && ok.pubsubBaseURL == "http://127.0.0.1:8025")
        // The secret is masked and never echoed.
        #expect(ok.describe().first { $0.0 == "CRM_GMAIL_PUSH_SECRET" }?.1 == "******** (set)")
        #expect(CaptureConfig.secretVariables.contains("CRM_GMAIL_PUSH_SECRET"))
        #expect(CaptureConfig.variables.contains("CRM_GMAIL_PUSH_OIDC_CERTS_URL"))
    }
}
