import ArgumentParser
import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Hummingbird
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve /api/email/* and run the sync scheduler in one process (graceful shutdown on SIGTERM).",
        discussion: """
        Real mode uses the CRM_GMAIL_* environment. --fake also starts an embedded FakeGmail seeded with the \
        demo firm, enrolls its teammates and prints an admin token, so a newcomer can click through a live system.
        """
    )
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port.") var port = 8080
    @OptionGroup var db: DatabaseOption
    @Flag(help: "Run against an embedded FakeGmail with the demo firm.") var fake = false
    @Flag(help: "Debug logging.") var verbose = false

    func run() async throws {
        let logger = Runtime.logger(verbose: verbose)
        let env = ProcessInfo.processInfo.environment
        let database: CaptureDatabase
        let engine: SyncEngine
        var enabled = true
        var domain: String?
        var oauth: OAuthTokenProvider?
        let attachmentsRoot: URL
        if fake {
            let path = db.path ?? "data/serve-demo.db"
            for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
            let firm = DemoFirm(conversations: 300)
            let gmail = FakeGmail(options: .init(seed: 2026, quota: .classic, baseURL: "http://fakegmail.embedded"))
            try await firm.seed(gmail)
            database = try CaptureDatabase(path: path)
            let directory = CRMDirectory(database: database)
            for tm in DemoFirm.teammates { try await directory.addUser(email: tm, name: nil, admin: tm.hasPrefix("alex")) }
            _ = try await directory.importInvestors(firm.investors, workspaceDomain: DemoFirm.domain)
            for tm in DemoFirm.teammates { try await database.upsertAccount(email: tm, userId: nil) }
            let clock = SystemClock()
            let transport = InProcessFakeTransport(fake: gmail)
            let tokens = try ServiceAccountTokenProvider(keyJSON: try await gmail.serviceAccountKeyJSON(), transport: transport, clock: clock)
            let limiter = RateLimiter(unitsPerSecondPerMailbox: 5_000, unitsPerSecondPerProject: 20_000, clock: clock)
            let client = GmailClient(baseURL: "http://fakegmail.embedded", transport: transport, tokens: tokens, limiter: limiter, clock: clock)
            var settings = SyncSettings()
            settings.workspaceDomain = DemoFirm.domain
            engine = SyncEngine(database: database, client: client, limiter: limiter, settings: settings, clock: clock, logger: logger)
            domain = DemoFirm.domain
            attachmentsRoot = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("serve-demo-attachments")
            let token = try await APITokenAuthenticator(directory: directory).issue(forUserEmail: DemoFirm.teammates[0], label: "serve --fake")
            say("embedded FakeGmail: \(firm.deliveries.count) deliveries in \(DemoFirm.teammates.count) mailboxes; admin token for \(token.user.email):")
            say("  \(token.token)")
        } else {
            let rt = try Runtime.make(db: db.path, logger: logger)
            database = rt.database
            engine = rt.engine
            enabled = rt.config.integrationEnabled
            domain = rt.config.workspaceDomain
            attachmentsRoot = URL(fileURLWithPath: rt.config.attachmentDirectory)
            if rt.config.authMethod == .oauth, let key = rt.config.secretKey, let id = rt.config.oauthClientID,
               let secret = rt.config.oauthClientSecret, let redirect = rt.config.oauthRedirectURI {
                oauth = try OAuthTokenProvider(client: .init(id: id, secret: secret, redirectURI: redirect, authURL: rt.config.oauthAuthURL,
                                                             tokenURL: rt.config.oauthTokenURL),
                                               secretKey: key, store: database, transport: AsyncHTTPClientTransport(), clock: SystemClock())
            }
        }
        let directory = CRMDirectory(database: database, schema: try CRMSchema.fromEnvironment(env))
        let scheduler = SyncScheduler(engine: engine, interval: .seconds(Int64(env["CRM_GMAIL_SYNC_INTERVAL_MIN"].flatMap(Int.init) ?? 180) * 60),
                                      clock: SystemClock(), logger: logger)
        let routes = EmailRoutes(enabled: enabled, database: database, directory: directory,
                                 authenticator: APITokenAuthenticator(directory: directory), attachments: AttachmentStore(root: attachmentsRoot),
                                 oauth: oauth, workspaceDomain: domain, clock: SystemClock(), runNow: { scheduler.runNow($0) }, logger: logger)
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        let host = host
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "gmail-capture"),
                              onServerRunning: { channel in say("listening on http://\(host):\(channel.localAddress?.port ?? 0)") },
                              logger: logger)
        // When the integration is off, routes answer 503 and no scheduler starts.
        let services: [any Service] = enabled ? [app, scheduler] : [app]
        if enabled && fake { scheduler.runNow(.all) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct UsersTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Issue an API bearer token for a CRM user (shown once; stored hashed).")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The user's email.") var email: String
    @Option(help: "A label for the token.") var label: String?

    func run() async throws {
        let directory = CRMDirectory(database: try CaptureDatabase(path: db.resolved), schema: try CRMSchema.fromEnvironment(ProcessInfo.processInfo.environment))
        do {
            let issued = try await APITokenAuthenticator(directory: directory).issue(forUserEmail: email, label: label)
            print(issued.token)
        } catch let f as CRMDirectory.Failure {
            throw ValidationError(f.description)
        }
    }
}

/// Unbuffered line to stdout (a supervising process reads it at once, even through a pipe).
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
