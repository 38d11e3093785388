import Crypto
import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

/// The Gmail client against the in-process fake, with a virtual clock linked to the fake's: waits are
/// measured exactly and take no real time.
struct Harness {
    static let user = "alice@firm.example"
    let fake: FakeGmail
    let clock: VirtualCaptureClock
    let transport: InProcessFakeTransport
    let tokens: ServiceAccountTokenProvider
    let limiter: RateLimiter
    let client: GmailClient
    let ids: [String]

    static func make(
        messages: Int = 3, quota: QuotaConfig = .off, unitsPerSecond: Int = 100_000, maxRetries: Int = 5,
        batchLimit: Int = 50
    ) async throws -> Harness {
        let fake = FakeGmail(options: .init(seed: 11, quota: quota, baseURL: "http://fake.test"))
        await fake.addUser(user)
        var ids: [String] = []
        for i in 0..<messages {
            let raw = Array(
                "From: Maya <maya@lumen.example>\r\nTo: \(user)\r\nSubject: Update \(i)\r\nMessage-ID: <m\(i)@lumen.example>\r\nDate: Tue, 5 Mar 2024 17:04:00 +0000\r\n\r\nBody \(i)\r\n"
                    .utf8)
            ids.append(
                try await fake.insertMessage(user: user, raw: raw, labelIds: ["INBOX"], internalDate: 1_709_658_000_000 + Int64(i) * 1000)
                    .id)
        }
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let limiter = RateLimiter(
            unitsPerSecondPerMailbox: unitsPerSecond, unitsPerSecondPerProject: max(unitsPerSecond, 20_000), clock: clock)
        let client = GmailClient(
            baseURL: "http://fake.test", transport: transport, tokens: tokens, limiter: limiter, costs: .classic,
            retry: RetryPolicy(maxRetries: maxRetries), clock: clock, seed: 99, batchLimit: batchLimit)
        return Harness(
            fake: fake, clock: clock, transport: transport, tokens: tokens, limiter: limiter, client: client, ids: ids.reversed())
    }

    func calls(_ method: String) async -> Int { await fake.stats().requests[method] ?? 0 }
}

@Suite struct ClientRetryTests {
    @Test func serviceUnavailableTwiceThenSuccess() async throws {
        let h = try await Harness.make()
        try await h.fake.addFault(FaultRule(method: "getProfile", status: 503, count: 2))
        let p = try await h.client.getProfile(mailbox: Harness.user)
        #expect(p.emailAddress == Harness.user)
        #expect(await h.calls("gmail.users.getProfile") == 3)
        #expect(h.clock.totalSlept > .zero && h.clock.totalSlept <= .seconds(3))  // jitter under 1 s + 2 s
    }

    @Test func retryAfterHeaderIsWaitedExactly() async throws {
        let h = try await Harness.make()
        try await h.fake.addFault(FaultRule(method: "messages.list", status: 429, retryAfter: 7, count: 1))
        _ = try await h.client.listMessages(mailbox: Harness.user)
        #expect(h.clock.totalSlept == .seconds(7))
    }

    @Test func retryAfterTextIsHonoured() async throws {
        let h = try await Harness.make()
        try await h.fake.addFault(
            FaultRule(method: "messages.list", status: 403, reason: "userRateLimitExceeded", retryAfterText: 30, count: 1))
        _ = try await h.client.listMessages(mailbox: Harness.user)
        #expect(h.clock.totalSlept == .seconds(30))
    }

    @Test func unauthorizedRefreshesOnceThenFails() async throws {
        let h = try await Harness.make()
        try await h.fake.addFault(FaultRule(method: "getProfile", status: 401, count: 1))
        _ = try await h.client.getProfile(mailbox: Harness.user)
        #expect(await h.calls("oauth2.token") == 2)
        try await h.fake.addFault(FaultRule(method: "getProfile", status: 401, count: 2))
        await #expect(throws: GmailAPIError.self) { try await h.client.getProfile(mailbox: Harness.user) }
        #expect(await h.calls("oauth2.token") == 3)
    }

    @Test func invalidGrantIsNeedsAdminWithoutRetries() async throws {
        let h = try await Harness.make()
        await h.fake.revokeUser(Harness.user)
        do {
            _ = try await h.client.getProfile(mailbox: Harness.user)
            Issue.record("expected a failure")
        } catch let e as GmailAPIError {
            #expect(e.classification == .needsAdmin)
            #expect(e.reason == "invalid_grant")
        }
        #expect(await h.calls("oauth2.token") == 1)
        #expect(await h.calls("gmail.users.getProfile") == 0)
    }

    @Test func retriesStopAtTheBudgetWithATypedError() async throws {
        let h = try await Harness.make(maxRetries: 3)
        try await h.fake.addFault(FaultRule(method: "getProfile", status: 503))
        do {
            _ = try await h.client.getProfile(mailbox: Harness.user)
            Issue.record("expected a failure")
        } catch let e as GmailAPIError {
            #expect(e.status == 503 && e.reason == "backendError" && e.attempts == 4 && e.classification == .retryAfterBackoff)
        }
        #expect(await h.calls("gmail.users.getProfile") == 4)
    }

    @Test func goneAndExpiredAreTerminal() async throws {
        let h = try await Harness.make()
        await #expect(throws: GmailAPIError.self) { try await h.client.getMessage(mailbox: Harness.user, id: "18c9a1b2c3d4e5f6") }
        let p = try await h.client.getProfile(mailbox: Harness.user)
        try await h.fake.expireHistory(user: Harness.user)
        do {
            _ = try await h.client.listHistory(mailbox: Harness.user, startHistoryId: String(UInt64(p.historyId)! - 1))
            Issue.record("expected history.list to fail with historyExpired after expireHistory")
        } catch let e as GmailAPIError {
            #expect(e.classification == .historyExpired && e.attempts == 1)
        }
        #expect(await h.calls("gmail.users.messages.get") == 1)
    }

    @Test func transportFaultsAreRetried() async throws {
        let h = try await Harness.make()
        try await h.fake.addFault(FaultRule(method: "labels.list", transport: .dropConnection, count: 1))
        try await h.fake.addFault(FaultRule(method: "labels.list", transport: .truncateBody, count: 1))
        try await h.fake.addFault(FaultRule(method: "labels.list", malformedBody: true, count: 1))
        let labels = try await h.client.listLabels(mailbox: Harness.user)
        #expect(labels.contains { $0.id == "INBOX" })
        #expect(await h.calls("gmail.users.labels.list") == 4)
    }
}

/// Answers `labels.list` with well-formed JSON of the wrong shape for the first `wrongAnswers` calls, then
/// passes every request to the fake.
final class WrongShapeTransport: HTTPTransport, @unchecked Sendable {
    let inner: InProcessFakeTransport
    let lock = NSLock()
    var wrongAnswers: Int
    init(inner: InProcessFakeTransport, wrongAnswers: Int) {
        self.inner = inner
        self.wrongAnswers = wrongAnswers
    }
    func send(_ request: TransportRequest) async throws -> TransportResponse {
        if request.operation == "gmail.users.labels.list" {
            let wrong = lock.withLock {
                defer { wrongAnswers -= 1 }
                return wrongAnswers > 0
            }
            if wrong {
                return TransportResponse(
                    status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"labels": "not a list"}"#.utf8))
            }
        }
        return try await inner.send(request)
    }
}

@Suite struct ClientBodyShapeTests {
    func client(_ h: Harness, wrongAnswers: Int, maxRetries: Int) -> GmailClient {
        GmailClient(
            baseURL: "http://fake.test", transport: WrongShapeTransport(inner: h.transport, wrongAnswers: wrongAnswers), tokens: h.tokens,
            limiter: h.limiter, costs: .classic, retry: RetryPolicy(maxRetries: maxRetries), clock: h.clock, seed: 99)
    }

    /// Each body is parsed once, by the decoder that keeps it: JSON of the wrong shape is malformed like
    /// truncated JSON, and retried.
    @Test func jsonOfTheWrongShapeIsRetried() async throws {
        let h = try await Harness.make()
        let labels = try await client(h, wrongAnswers: 2, maxRetries: 5).listLabels(mailbox: Harness.user)
        #expect(labels.contains { $0.id == "INBOX" })
        #expect(await h.calls("gmail.users.labels.list") == 1)
    }

    @Test func jsonOfTheWrongShapeFailsTypedAtTheBudget() async throws {
        let h = try await Harness.make()
        do {
            _ = try await client(h, wrongAnswers: 100, maxRetries: 2).listLabels(mailbox: Harness.user)
            Issue.record("expected a malformedBody failure")
        } catch let e as GmailAPIError {
            #expect(e.reason == "malformedBody" && e.attempts == 3 && e.method == GmailCapture.GmailMethod.labelsList && e.status == 200)
        }
        #expect(await h.calls("gmail.users.labels.list") == 0)
    }
}

@Suite struct ClientBatchTests {
    @Test func onlyFailedPartsAreRetriedAndOrderIsKept() async throws {
        let h = try await Harness.make(messages: 10)
        try await h.fake.addFault(FaultRule(method: "messages.get", batchPart: 3, status: 503, count: 1))
        try await h.fake.addFault(FaultRule(method: "messages.get", batchPart: 7, status: 429, count: 1))
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.count == 10)
        #expect(results.compactMap { try? $0.get().id } == h.ids)
        #expect(await h.calls("gmail.users.messages.get") == 12)
        #expect(await h.calls("batch") == 2)
    }

    @Test func goneAndBadPartsFailAlone() async throws {
        let h = try await Harness.make(messages: 4)
        try await h.fake.addFault(FaultRule(method: "messages.get", status: 429, count: 2))
        let ids = h.ids + ["18c9a1b2c3d4e5f6", "zz-not-an-id"]
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: ids, format: .minimal)
        #expect(results.prefix(4).allSatisfy { (try? $0.get()) != nil })
        if case .failure(let e) = results[4] { #expect(e.classification == .messageGone) } else { Issue.record("expected gone") }
        if case .failure(let e) = results[5] {
            #expect(e.classification == .permanent && e.status == 400)
        } else {
            Issue.record("expected 400")
        }
    }

    /// Sizes of the batch requests the fake saw, from its journal (part indexes restart at 0 per batch).
    static func batchSizes(_ journal: [FakeGmail.JournalEntry]) -> [Int] {
        var sizes: [Int] = []
        for e in journal where e.batchPart != nil {
            if e.batchPart == 0 { sizes.append(1) } else if !sizes.isEmpty { sizes[sizes.count - 1] += 1 }
        }
        return sizes
    }

    @Test func batchesShrinkOnRateErrorsAndGrowBack() async throws {
        let h = try await Harness.make(messages: 120)
        try await h.fake.addFault(FaultRule(method: "messages.get", batchPart: 0, status: 429, count: 1))
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.compactMap { try? $0.get().id } == h.ids)
        #expect(Self.batchSizes(await h.fake.journal()) == [50, 25, 31, 15])
    }

    /// Gmail's per-user concurrency limit answers the parts beyond it with 429 inside a 200 batch
    /// (GYB#544 lost exactly these): they are retried, nothing is lost, the batch size drops.
    @Test func concurrencyRefusalsInsideABatchAreRetried() async throws {
        let h = try await Harness.make(messages: 40, quota: .classic)
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.compactMap { try? $0.get().id } == h.ids)
        #expect(await h.fake.stats().rateLimited[Harness.user] == 15)
        #expect(Self.batchSizes(await h.fake.journal()) == [40, 15])
    }

    @Test func moreThanFiftyIdsGoInSeveralBatches() async throws {
        let h = try await Harness.make(messages: 120)
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.compactMap { try? $0.get().id } == h.ids)
        #expect(await h.calls("batch") == 3)
    }

    @Test func theDefaultBatchOf25StaysUnderGmailsConcurrencyLimit() async throws {
        let h = try await Harness.make(messages: 200, quota: .classic, batchLimit: 25)
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.compactMap { try? $0.get().id } == h.ids)
        #expect(await h.fake.stats().rateLimited.isEmpty)
        #expect(Self.batchSizes(await h.fake.journal()) == Array(repeating: 25, count: 8))
    }
}

@Suite struct RateLimitTests {
    /// 2,000 gets (5 units each) at 150 units/s: 150 units of burst, then 9,850 units at 150/s = 65.67 s.
    @Test func twoThousandGetsTakeTheTimeTheBudgetImplies() async throws {
        let h = try await Harness.make(messages: 1, quota: .classic, unitsPerSecond: 150)
        let start = h.clock.now()
        for _ in 0..<2_000 { _ = try await h.client.getMessage(mailbox: Harness.user, id: h.ids[0], format: .minimal) }
        let elapsed = h.clock.now().timeIntervalSince(start)
        let implied = 2_000.0 * 5 / 150
        #expect(abs(elapsed - implied) / implied < 0.02, "elapsed \(elapsed) s vs \(implied) s")
        let stats = await h.fake.stats()
        #expect(stats.rateLimited.isEmpty)
        #expect(stats.quotaUnits[Harness.user] == 10_000)
        #expect(await h.limiter.unitsSpent(Harness.user) == 10_000)
    }

    @Test func batchPartsAreChargedIndividually() async throws {
        let h = try await Harness.make(messages: 20, quota: .classic, unitsPerSecond: 50)
        let start = h.clock.now()
        _ = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        // 20 parts x 5 units = 100 units at 50/s with a 50-unit burst: (100 - 50) / 50 = 1 s.
        #expect(abs(h.clock.now().timeIntervalSince(start) - 1) < 0.05)
        #expect(await h.limiter.unitsSpent(Harness.user) == 100)
        #expect(await h.fake.stats().quotaUnits[Harness.user] == 100)
    }
}

@Suite struct CredentialTests {
    @Test func delegatedTokensAreCachedAndRefreshedAfterExpiry() async throws {
        let h = try await Harness.make()
        _ = try await h.client.getProfile(mailbox: Harness.user)
        _ = try await h.client.getProfile(mailbox: Harness.user)
        #expect(await h.calls("oauth2.token") == 1)
        await h.clock.advance(by: .seconds(3_600))  // the fake's clock moves too: the token has expired
        _ = try await h.client.getProfile(mailbox: Harness.user)
        #expect(await h.calls("oauth2.token") == 2)
    }

    @Test func aWrongKeyIsInvalidGrant() async throws {
        let h = try await Harness.make()
        var key = try #require(JSONSerialization.jsonObject(with: try await h.fake.serviceAccountKeyJSON()) as? [String: Any])
        key["private_key"] = try _RSA_PrivateKeyPEM()
        let tokens = try ServiceAccountTokenProvider(
            keyJSON: try JSONSerialization.data(withJSONObject: key), transport: h.transport, clock: h.clock)
        do {
            _ = try await tokens.accessToken(for: Harness.user, forceRefresh: false)
            Issue.record("expected invalid_grant")
        } catch let e as GmailAPIError {
            #expect(e.classification == .needsAdmin && e.reason == "invalid_grant" && e.message == "Invalid JWT Signature.")
        }
    }

    @Test func oauthConsentExchangeRefreshAndTamperedToken() async throws {
        let h = try await Harness.make()
        await h.fake.registerOAuthClient(id: "crm-client", secret: "crm-secret")
        let store = InMemoryRefreshTokenStore()
        let secret = Data((0..<32).map { UInt8($0 &* 7) })
        let oauth = try OAuthTokenProvider(
            client: .init(
                id: "crm-client", secret: "crm-secret", redirectURI: "https://crm.example/api/email/oauth/callback",
                authURL: "http://fake.test/o/oauth2/v2/auth", tokenURL: "http://fake.test/token"),
            secretKey: secret, store: store, transport: h.transport, clock: h.clock)
        let url = try await oauth.startConsent(userId: "user-1", mailbox: Harness.user)
        let consent = try await h.transport.send(TransportRequest(method: "GET", url: url, operation: "oauth2.auth"))
        #expect(consent.status == 302)
        let items = URLComponents(string: try #require(consent.header("Location")))?.queryItems ?? []
        let code = try #require(items.first { $0.name == "code" }?.value)
        let state = try #require(items.first { $0.name == "state" }?.value)
        await #expect(throws: OAuthStateSigner.Failure.wrongUser) {
            try await oauth.completeConsent(code: code, state: state, mailbox: Harness.user, expectedUser: "user-2")
        }
        #expect(try await oauth.completeConsent(code: code, state: state, mailbox: Harness.user, expectedUser: "user-1") == "user-1")
        // The state is single-use: the same callback again is refused before any exchange.
        await #expect(throws: OAuthTokenProvider.ConsentFailure.stateAlreadyUsed) {
            try await oauth.completeConsent(code: code, state: state, mailbox: Harness.user, expectedUser: "user-1")
        }
        let sealed = try #require(await store.sealedRefreshToken(for: Harness.user))
        #expect(sealed.hasPrefix("v2:") && !sealed.contains("fake-"))
        let client = GmailClient(baseURL: "http://fake.test", transport: h.transport, tokens: oauth, limiter: h.limiter, clock: h.clock)
        #expect(try await client.getProfile(mailbox: Harness.user).emailAddress == Harness.user)
        #expect(!(try await oauth.accessToken(for: Harness.user, forceRefresh: true)).isEmpty)

        var bytes = Array(Data(base64Encoded: String(sealed.dropFirst(3)))!)
        bytes[bytes.count - 1] ^= 0xFF
        await store.saveSealedRefreshToken("v2:" + Data(bytes).base64EncodedString(), for: Harness.user)
        do {
            _ = try await oauth.accessToken(for: Harness.user, forceRefresh: true)
            Issue.record("expected a failure")
        } catch let e as GmailAPIError {
            #expect(e.classification == .needsAdmin && e.reason == "undecryptable_token")
        }
        // An expired state is refused.
        let later = try await oauth.startConsent(userId: "user-1", mailbox: Harness.user)
        let laterItems =
            URLComponents(
                string: try #require(
                    try await h.transport.send(TransportRequest(method: "GET", url: later, operation: "oauth2.auth"))
                        .header("Location")))?.queryItems ?? []
        await h.clock.advance(by: .seconds(601))
        await #expect(throws: OAuthStateSigner.Failure.expired) {
            try await oauth.completeConsent(
                code: laterItems.first { $0.name == "code" }!.value!, state: laterItems.first { $0.name == "state" }!.value!,
                mailbox: Harness.user)
        }
    }
}

/// A fresh RSA key in PKCS#8 PEM, unknown to the fake.
func _RSA_PrivateKeyPEM() throws -> String {
    try _RSAKeyFactory.make()
}
