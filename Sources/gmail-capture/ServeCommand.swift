import ArgumentParser
import CaptureMCP
import CaptureWeb
import FakeGmail
import FakeGmailBridge
import Foundation
import CaptureParsing
import GmailCapture
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

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
    @Option(help: "Seconds an idle connection is kept open.") var idleTimeout = 60
    @OptionGroup var db: DatabaseOption
    @Flag(help: "Run against an embedded FakeGmail with the demo firm (database: --db, else $CRM_DB_PATH, else data/serve-demo.db).")
    var fake = false
    @Flag(help: "Debug logging.") var verbose = false
    @Option(help: "Most characters of text in one /mcp answer; longer answers are paginated.") var mcpMaxChars =
        CaptureMCPServer.Options.defaultMaxChars
    @Option(
        help: ArgumentHelp(
            "With --fake: also deliver a raw RFC 822 message into a demo mailbox before the first sync (repeatable).",
            valueName: "MAILBOX=FILE"))
    var fakeDeliver: [String] = []
    @Option(help: "The web UI's relationship figures as of this date (YYYY-MM-DD); --fake defaults to the demo firm's last day.")
    var asOf: String?
    @Flag(help: "Mark the web UI's session cookie Secure (set it when a TLS proxy serves the UI; X-Forwarded-Proto: https also does).")
    var secureCookies = false
    @Option(help: "Hours a web UI session lasts (never longer than the API token it was opened with).") var sessionHours = 12

    func validate() throws {
        if !fakeDeliver.isEmpty && !fake { throw ValidationError("--fake-deliver needs --fake") }
        for d in fakeDeliver {
            let parts = d.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, DemoFirm.teammates.contains(parts[0].lowercased()) else {
                throw ValidationError("--fake-deliver takes MAILBOX=FILE with MAILBOX one of \(DemoFirm.teammates.joined(separator: ", "))")
            }
            guard FileManager.default.isReadableFile(atPath: String(parts[1])) else {
                throw ValidationError("--fake-deliver: \(parts[1]) cannot be read")
            }
        }
        if let a = asOf, Self.day(a) == nil { throw ValidationError("--as-of must be a date, YYYY-MM-DD") }
        if !(1...24 * 90).contains(sessionHours) { throw ValidationError("--session-hours must be in 1...2160") }
    }

    static func day(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().parse(text)
    }

    /// The demo firm's last day (its mail ends in late 2024): what `serve --fake` computes relationships as of.
    static let demoAsOf: Date = {
        let last = DemoFirm(conversations: 300).deliveries.map(\.internalDate).max() ?? 0
        return Date(timeIntervalSince1970: Double(last) / 1000 + 86_400)
    }()

    /// Written into a database `serve --fake` seeded, so a later start recognises it.
    static let demoMarker = "serve-fake-demo"

    func run() async throws {
        let logger = Runtime.logger(verbose: verbose)
        let runtime = try fake ? await fakeRuntime(logger: logger) : Runtime.make(db: db.path, logger: logger)
        if runtime.gmail == nil { say("CRM_GMAIL_INTEGRATION_ENABLED is off: routes answer 503 and nothing syncs") }
        let scheduler = runtime.scheduler()
        let router = Router()
        router.addRoutes(runtime.routes(runNow: { scheduler?.runNow($0) }).collection(), atPath: "/api/email")
        // POST /api/email/push: verified by its own secret or OIDC token, not by bearer tokens.
        router.addRoutes(runtime.pushRoutes(runNow: { scheduler?.runNow($0) }).collection(), atPath: "/api/email")
        // MCP over streamable HTTP, behind the same bearer tokens (the token decides the viewer).
        var mcpLogger = Logger(label: "gmail-capture.mcp")
        mcpLogger.logLevel = verbose ? .debug : .info
        let mcp = MCPHTTPEndpoint(
            server: CaptureMCPServer(runtime: runtime, options: .init(maxChars: mcpMaxChars), logger: mcpLogger),
            authenticator: APITokenAuthenticator(directory: runtime.directory, clock: runtime.clock), enabled: runtime.gmail != nil,
            localhostOnly: ["127.0.0.1", "localhost", "::1"].contains(host), logger: logger)
        router.addRoutes(mcp.collection(), atPath: "/mcp")
        // The web UI at /: session cookies, server-rendered pages, sandboxed HTML mail.
        let asOfDate = asOf.flatMap(Self.day).map { $0.addingTimeInterval(86_399) } ?? (fake ? Self.demoAsOf : nil)
        let web = try await WebUI(
            runtime: runtime, runNow: { scheduler?.runNow($0) },
            options: .init(
                sessionLifetime: TimeInterval(sessionHours) * 3600, secureCookies: secureCookies, relationshipsAsOf: asOfDate),
            logger: logger)
        router.addRoutes(web.collection())
        let host = host
        let app = Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .seconds(Int64(max(1, idleTimeout))))),
            configuration: .init(address: .hostname(host, port: port), serverName: "gmail-capture"),
            onServerRunning: { channel in say("listening on http://\(host):\(channel.localAddress?.port ?? 0)") },
            logger: logger)
        // When the integration is off, routes answer 503 and no scheduler starts.
        var services: [any Service] = [app]
        if let scheduler {
            services.append(scheduler)
            if fake { scheduler.runNow(.all) }
            if let push = try runtime.pushService(scheduler: scheduler) { services.append(push) }
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The demo firm in an embedded FakeGmail, behind the same runtime real mode builds: the database is
    /// resolved like every command's (--db, CRM_DB_PATH, else data/serve-demo.db), checked, seeded once.
    func fakeRuntime(logger: Logger) async throws -> CaptureRuntime {
        let storage = try db.config()
        var config = CaptureConfig()
        config.integrationEnabled = CaptureConfig.integrationSwitch(in: ProcessInfo.processInfo.environment) ?? true
        config.databasePath = db.path ?? (storage.isSet("CRM_DB_PATH") ? storage.databasePath : "data/serve-demo.db")
        config.crmSchemaPath = storage.crmSchemaPath
        config.syncIntervalMinutes = storage.syncIntervalMinutes
        config.workspaceDomain = DemoFirm.domain
        config.apiBaseURL = "http://fakegmail.embedded"
        config.rateUnitsPerSecond = 5_000
        config.attachmentDirectory =
            URL(fileURLWithPath: config.databasePath).deletingLastPathComponent()
            .appendingPathComponent("serve-demo-attachments").path
        let firm = DemoFirm(conversations: 300)
        do { try Self.checkDemoDatabase(config.databasePath, firm: firm, schema: try config.crmSchema()) } catch let refusal
            as ValidationError
        {
            FileHandle.standardError.write(Data("error: \(refusal.message)\n".utf8))
            throw ExitCode(1)
        }
        let gmail = FakeGmail(options: .init(seed: 2026, quota: .classic, baseURL: config.apiBaseURL))
        let transport = InProcessFakeTransport(fake: gmail)
        var tokens: (any AccessTokenProvider)?
        if config.integrationEnabled {
            try await firm.seed(gmail)
            for d in fakeDeliver {
                let parts = d.split(separator: "=", maxSplits: 1).map(String.init)
                let raw = try [UInt8](Data(contentsOf: URL(fileURLWithPath: parts[1])))
                let at = Int64((Self.demoAsOf.timeIntervalSince1970 - 3600) * 1000)
                _ = try await gmail.insertMessage(user: parts[0].lowercased(), raw: raw, labelIds: ["INBOX", "UNREAD"], internalDate: at)
                say("delivered \(parts[1]) into \(parts[0])")
            }
            tokens = try ServiceAccountTokenProvider(
                keyJSON: try await gmail.serviceAccountKeyJSON(), transport: transport, clock: SystemClock())
            say("embedded FakeGmail: \(firm.deliveries.count) deliveries in \(DemoFirm.teammates.count) mailboxes")
        }
        let runtime = try CaptureRuntime.build(config, transport: transport, tokens: tokens, logger: logger)
        if try await runtime.database.meta(Self.demoMarker) == nil {
            for tm in DemoFirm.teammates { try await runtime.directory.addUser(email: tm, name: nil, admin: tm.hasPrefix("alex")) }
            _ = try await runtime.directory.importInvestors(firm.investors, workspaceDomain: DemoFirm.domain)
            for tm in DemoFirm.teammates { try await runtime.database.upsertAccount(email: tm, userId: nil) }
            try await runtime.database.setMeta(Self.demoMarker, "seeded by gmail-capture serve --fake")
        }
        let token = try await APITokenAuthenticator(directory: runtime.directory).issue(
            forUserEmail: DemoFirm.teammates[0], label: "serve --fake")
        say(
            "database: \(config.databasePath); admin token for \(token.user.email) (expires in \(APITokenAuthenticator.defaultLifetimeDays) days):"
        )
        say("  \(token.token)")
        return runtime
    }

    /// `serve --fake` never deletes or changes a database it did not seed: an absent or empty file is
    /// seeded, one carrying its marker (and only demo-firm users, investors and mailboxes) is reused,
    /// anything else is refused untouched.
    static func checkDemoDatabase(_ path: String, firm: DemoFirm, schema: CRMSchema) throws {
        let contents: CaptureDatabase.Contents
        do { contents = try CaptureDatabase.inspect(path: path, schema: schema, markerKey: demoMarker) } catch {
            throw ValidationError(
                "\(path) cannot be read as a SQLite database (\(error)); serve --fake leaves it untouched. Pass --db with a new path.")
        }
        guard contents.exists, !contents.isEmpty else { return }
        let teammates = Set(DemoFirm.teammates)
        let investors = Set(firm.investors.map(\.id))
        let foreignUsers = contents.users.filter { !teammates.contains($0.lowercased()) }
        let foreignInvestors = contents.investors.filter { !investors.contains($0) }
        let foreignAccounts = contents.accounts.filter { !teammates.contains($0.lowercased()) }
        if contents.marker == nil || !foreignUsers.isEmpty || !foreignInvestors.isEmpty || !foreignAccounts.isEmpty {
            var what: [String] = []
            if contents.marker == nil {
                what.append(
                    "\(contents.users.count) CRM user(s), \(contents.investors.count) investor(s), \(contents.emails) email(s) not seeded by serve --fake"
                )
            }
            if !foreignUsers.isEmpty { what.append("\(foreignUsers.count) user(s) outside the demo firm") }
            if !foreignInvestors.isEmpty { what.append("\(foreignInvestors.count) investor(s) outside the demo firm") }
            if !foreignAccounts.isEmpty { what.append("\(foreignAccounts.count) mailbox(es) outside the demo firm") }
            throw ValidationError(
                """
                \(path) already holds other data (\(what.joined(separator: "; "))). serve --fake only uses an empty database or one it \
                seeded itself, and has left this one untouched. Pass --db with a new path.
                """)
        }
    }
}

struct UsersTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue an API bearer token for a CRM user (shown once; stored hashed).")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The user's email.") var email: String
    @Option(help: "A label for the token.") var label: String?
    @Option(help: "Days until the token expires.") var expiresIn = APITokenAuthenticator.defaultLifetimeDays

    func validate() throws {
        if !(1...3650).contains(expiresIn) { throw ValidationError("--expires-in must be a number of days in 1...3650") }
    }

    func run() async throws {
        let directory = try db.runtime().directory
        do {
            let issued = try await APITokenAuthenticator(directory: directory).issue(
                forUserEmail: email, label: label, expiresInDays: expiresIn)
            print(issued.token)
            FileHandle.standardError.write(
                Data("token \(issued.id) for \(issued.user.email), expires \(CaptureDatabase.isoString(issued.expiresAt))\n".utf8))
        } catch let f as CRMDirectory.Failure {
            throw ValidationError(f.description)
        }
    }
}

struct UsersTokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "List a user's API tokens (never their secrets).",
        discussion: "--json: [{\"id\", \"label\", \"createdAt\", \"lastUsedAt\", \"expiresAt\", \"revoked\"}], oldest first."
    )
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The user's email.") var email: String
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let directory = try db.runtime().directory
        let tokens: [CaptureDatabase.APIToken]
        do { tokens = try await APITokenAuthenticator(directory: directory).tokens(forUserEmail: email) } catch let f
            as CRMDirectory.Failure
        {
            throw ValidationError(f.description)
        }
        if json { print(try jsonString(tokens)); return }
        for t in tokens {
            print(
                "\(t.id)\t\(t.label ?? "")\tcreated \(t.createdAt)\texpires \(t.expiresAt ?? "never")\tlast used \(t.lastUsedAt ?? "never")\(t.revoked ? "\trevoked" : "")"
            )
        }
    }
}

struct UsersRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke one API token by id, or every token of a user (--all EMAIL).")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The token id (from `users tokens`).") var tokenId: String?
    @Option(name: .customLong("all"), help: "Revoke every token of this user.") var all: String?

    func validate() throws {
        if (tokenId == nil) == (all == nil) { throw ValidationError("give either a TOKEN_ID or --all EMAIL") }
    }

    func run() async throws {
        let auth = APITokenAuthenticator(directory: try db.runtime().directory)
        if let email = all {
            do { print("revoked \(try await auth.revokeAll(forUserEmail: email)) token(s) of \(email)") } catch let f
                as CRMDirectory.Failure
            {
                throw ValidationError(f.description)
            }
            return
        }
        guard let id = tokenId, try await auth.revoke(id: id) else { throw ValidationError("no live token with id \(tokenId ?? "")") }
        print("revoked token \(id)")
    }
}

/// Unbuffered line to stdout (a supervising process reads it at once, even through a pipe).
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
