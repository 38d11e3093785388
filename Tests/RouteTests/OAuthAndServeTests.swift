import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing

@Suite struct OAuthRouteTests {
    @Test func consentFlowThroughTheRoutesAgainstTheFake() async throws {
        let f = try await RouteFixture.make()
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        await fake.addUser("sam@firm.example")
        await fake.registerOAuthClient(id: "crm", secret: "s")
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let oauth = try OAuthTokenProvider(
            client: .init(
                id: "crm", secret: "s", redirectURI: "https://crm.example/api/email/oauth/callback",
                authURL: "http://fake.test/o/oauth2/v2/auth", tokenURL: "http://fake.test/token"),
            secretKey: Data(repeating: 4, count: 32), store: f.db, transport: transport, clock: clock)
        try await f.app(oauth: oauth, clock: clock).test(.router) { client in
            var consentURL = ""
            try await client.execute(uri: "/api/email/oauth/start", method: .get, headers: bearer(f.userToken)) { r in
                #expect(r.status == .found)
                consentURL = r.headers[.location] ?? ""
            }
            // The browser visits Google (the fake), which redirects back with code and state.
            let consent = try await transport.send(TransportRequest(method: "GET", url: consentURL, operation: "oauth2.auth"))
            let back = URLComponents(string: try #require(consent.header("Location")))!
            let code = back.queryItems!.first { $0.name == "code" }!.value!
            let state = back.queryItems!.first { $0.name == "state" }!.value!
            let tampered = String(state.dropLast(2)) + (state.hasSuffix("AA") ? "BB" : "AA")
            try await client.execute(uri: "/api/email/oauth/callback?code=\(code)&state=\(tampered)", method: .get) { r in
                let message = try errorMessage(r)
                #expect(r.status == .badRequest && message == "invalid state")
            }
            try await client.execute(uri: "/api/email/oauth/callback?code=\(code)&state=\(state)", method: .get) { r in
                #expect(r.status == .ok)
                let o = try object(r)
                #expect(o["email"] as? String == "sam@firm.example" && o["authMethod"] as? String == "oauth")
            }
            #expect(try await f.db.sealedRefreshToken(for: "sam@firm.example")?.hasPrefix("v2:") == true)
            // The same callback again: the state is single-use.
            try await client.execute(uri: "/api/email/oauth/callback?code=\(code)&state=\(state)", method: .get) { r in
                let message = try errorMessage(r)
                #expect(r.status == .badRequest && message == "this consent link was already used; start again")
                #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            // A second consent whose state has expired is refused.
            try await client.execute(uri: "/api/email/oauth/start", method: .get, headers: bearer(f.userToken)) { r in
                consentURL = r.headers[.location] ?? ""
            }
            let again = try await transport.send(TransportRequest(method: "GET", url: consentURL, operation: "oauth2.auth"))
            let items = URLComponents(string: again.header("Location")!)!.queryItems!
            await clock.advance(by: .seconds(601))
            try await client.execute(
                uri:
                    "/api/email/oauth/callback?code=\(items.first { $0.name == "code" }!.value!)&state=\(items.first { $0.name == "state" }!.value!)",
                method: .get
            ) { r in
                let message = try errorMessage(r)
                #expect(r.status == .badRequest && message?.contains("expired") == true)
            }
            try await client.execute(uri: "/api/email/oauth/callback?state=abc", method: .get) { #expect($0.status == .badRequest) }
        }
    }
}

/// The serve composition in one process: routes + scheduler + engine against the fake; run-now captures
/// mail and status reflects it.
@Suite struct ServeTests {
    @Test func runNowThroughTheRoutesCapturesMail() async throws {
        let f = try await RouteFixture.make()
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        await fake.addUser("sam@firm.example")
        for i in 0..<12 {
            try await fake.insertMessage(
                user: "sam@firm.example",
                raw: Array(
                    "From: maya@lumenridge.example\r\nTo: sam@firm.example\r\nSubject: n\(i)\r\nMessage-ID: <n\(i)@lumen>\r\n\r\nhi\r\n"
                        .utf8))
        }
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        // serve's assembly: one runtime for the engine, the scheduler and the routes.
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.apiBaseURL = "http://fake.test"
        config.workspaceDomain = "firm.example"
        config.rateUnitsPerSecond = 10_000
        config.syncIntervalMinutes = 180
        config.attachmentDirectory = f.store.root.path  // the routes serve the fixture's stored attachment from it
        let runtime = try CaptureRuntime.build(config, database: f.db, transport: transport, tokens: tokens, clock: clock)
        let schedulerClock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
        let scheduler = try #require(runtime.scheduler(clock: schedulerClock))
        let routes = runtime.routes(authenticator: APITokenAuthenticator(directory: f.directory), runNow: { scheduler.runNow($0) })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        let logger = {
            var l = Logger(label: "serve-test"); l.logLevel = .critical; return l
        }()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        try await app.test(.live) { http in
            let group = ServiceGroup(configuration: .init(services: [scheduler], gracefulShutdownSignals: [], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await http.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) {
                    #expect($0.status == .accepted)
                }
                var stored = 0
                for _ in 0..<400 where stored < 13 {
                    try await Task.sleep(for: .milliseconds(10))
                    try await http.execute(uri: "/api/email/status", method: .get, headers: bearer(f.userToken)) { r in
                        let mailbox = ((try object(r))["mailboxes"] as? [[String: Any]])?.first?["mailbox"] as? [String: Any]
                        stored = mailbox?["messagesStored"] as? Int ?? 0
                    }
                }
                #expect(stored == 13)  // 12 new + the fixture's Lunch message
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
