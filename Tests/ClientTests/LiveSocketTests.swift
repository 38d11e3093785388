import AsyncHTTPClient
import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Logging
import TestSupport
import Testing

/// The same client over a real loopback socket: AsyncHTTPClientTransport against FakeGmailHTTPServer.
@Suite struct LiveSocketTests {
    static func withLiveFake<T: Sendable>(_ fake: FakeGmail, _ body: @Sendable (String) async throws -> T) async throws -> T {
        var logger = Logger(label: "live-client-test")
        logger.logLevel = .critical
        return try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger, body)
    }

    @Test func delegationRetriesAndBatchOverLoopback() async throws {
        let h = try await Harness.make(messages: 12)
        try await h.fake.addFault(FaultRule(method: "messages.get", batchPart: 4, status: 503, count: 1))
        try await h.fake.addFault(FaultRule(method: "getProfile", transport: .dropConnection, count: 1))
        let ids = h.ids
        try await Self.withLiveFake(h.fake) { base in
            let transport = AsyncHTTPClientTransport()
            let clock = await VirtualCaptureClock.linked(to: h.fake)
            let tokens = try ServiceAccountTokenProvider(
                keyJSON: try await h.fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
            let limiter = RateLimiter(unitsPerSecondPerMailbox: 1_000, unitsPerSecondPerProject: 20_000, clock: clock)
            let client = GmailClient(baseURL: base, transport: transport, tokens: tokens, limiter: limiter, clock: clock)
            let profile = try await client.getProfile(mailbox: Harness.user)  // first attempt: connection dropped
            #expect(profile.messagesTotal == 12)
            let results = try await client.batchGetMessages(mailbox: Harness.user, ids: ids, format: .full)
            #expect(results.compactMap { try? $0.get().id } == ids)
            let parsed = try MessageParser().parse(gmail: try results[0].get())
            #expect(parsed.subject == "Update 11")
        }
        #expect(await h.calls("gmail.users.getProfile") == 2)
        #expect(await h.calls("gmail.users.messages.get") == 13)
    }
}

@Suite struct ConfigCheckCLITests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }

    static func run(env: [String: String]) throws -> (Int32, String, String) {
        let r = try BuiltProduct.run(binary, ["config", "check"], environment: ["PATH": "/usr/bin:/bin"].merging(env) { $1 })
        return (r.status, r.stdout, r.stderr)
    }

    @Test func aNewUserSeesEveryProblemAtOnce() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let (okStatus, okOut, _) = try Self.run(env: [:])
        #expect(okStatus == 0 && okOut.contains("integration disabled"))
        let secret = "bm90LTMyLWJ5dGVz"
        let (status, _, err) = try Self.run(env: [
            "CRM_GMAIL_INTEGRATION_ENABLED": "yes", "CRM_GMAIL_AUTH_METHOD": "oauth",
            "CRM_GMAIL_SECRET_KEY": secret, "CRM_GMAIL_RETRY_MAX": "-1", "CRM_GMAIL_OAUTH_CLIENT_SECRET": "hunter2",
        ])
        #expect(status == 1)
        for name in ["CRM_GMAIL_SECRET_KEY", "CRM_GMAIL_RETRY_MAX", "CRM_GMAIL_OAUTH_CLIENT_ID", "CRM_GMAIL_OAUTH_REDIRECT_URI"] {
            #expect(err.contains(name), "missing \(name) in: \(err)")
        }
        #expect(!err.contains(secret) && !err.contains("hunter2"))
        let (_, masked, _) = try Self.run(env: ["CRM_GMAIL_OAUTH_CLIENT_SECRET": "hunter2"])
        #expect(masked.contains("CRM_GMAIL_OAUTH_CLIENT_SECRET=******** (set)") && !masked.contains("hunter2"))
    }
}
