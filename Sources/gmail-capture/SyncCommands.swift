import ArgumentParser
import Foundation
import CaptureParsing
import GmailCapture
import Logging
import ServiceLifecycle
import UnixSignals

/// Real mode: the whole configuration from the environment (every problem at once), --db applied,
/// built into one `CaptureRuntime`. With the integration off only the database is opened.
enum Runtime {
    static func make(db: String?, logger: Logger, progress: (@Sendable (SyncProgress) -> Void)? = nil) throws -> CaptureRuntime {
        var config: CaptureConfig
        do { config = try CaptureConfig.load(from: ProcessInfo.processInfo.environment) } catch let invalid as CaptureConfig.Invalid {
            throw ValidationError("invalid configuration (run `gmail-capture config check`):\n" + invalid.description)
        }
        if let db { config.databasePath = db }
        do { return try CaptureRuntime.build(config, logger: logger, progress: progress) } catch let invalid as CaptureConfig.Invalid {
            throw ValidationError("invalid configuration (run `gmail-capture config check`):\n" + invalid.description)
        }
    }

    static func logger(verbose: Bool) -> Logger {
        var l = Logger(label: "gmail-capture")
        l.logLevel = verbose ? .debug : .warning
        return l
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync enrolled mailboxes from Gmail (or fakegmail-server) using the CRM_GMAIL_* environment.",
        discussion: "--once runs one pass and exits; otherwise the scheduler runs every CRM_GMAIL_SYNC_INTERVAL_MIN until SIGTERM."
    )
    @OptionGroup var db: DatabaseOption
    @Flag(help: "One pass, then exit.") var once = false
    @Option(help: "Only this mailbox.") var account: String?
    @Flag(help: "Debug logging (no secrets, bodies or addresses are logged).") var verbose = false

    func run() async throws {
        let logger = Runtime.logger(verbose: verbose)
        let tty = isatty(STDOUT_FILENO) == 1 && once
        let show: (@Sendable (SyncProgress) -> Void)? = tty ? showProgress : nil
        let rt = try Runtime.make(db: db.path, logger: logger, progress: show)
        guard let gmail = rt.gmail else { throw ValidationError("CRM_GMAIL_INTEGRATION_ENABLED is off; nothing to do") }
        if once {
            let outcomes: [SyncOutcome]
            if let a = account { outcomes = [await gmail.engine.sync(mailbox: a)] } else { outcomes = try await gmail.engine.syncAll() }
            if tty { print("") }
            for o in outcomes {
                let c = o.counts
                print(
                    "\(o.mailbox): \(o.status.rawValue) (\(o.state?.rawValue ?? "not enrolled")) listed \(c.listed), stored \(c.stored), skipped \(c.skipped), gone \(c.gone), parked \(c.parked), "
                        + "attachments \(c.attachmentsStored) stored \(c.attachmentsFailed) failed\(o.error.map { ": \($0)" } ?? "")")
            }
            if outcomes.contains(where: { $0.status == .error }) { throw ExitCode(1) }
            return
        }
        guard let scheduler = rt.scheduler() else { return }
        scheduler.runNow(account.map { .mailbox($0) } ?? .all)
        var services: [any Service] = [scheduler]
        // Push (CRM_GMAIL_PUSH_MODE): watches renewed, and in pull mode the subscription pulled. Push mode
        // needs `serve` for its route; `sync` still keeps the watches.
        if let push = try rt.pushService(scheduler: scheduler) { services.append(push) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Enroll teammate mailboxes.",
        subcommands: [EnrollCommand.self, EnrollAllCommand.self])
}

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Enroll one mailbox.")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "Mailbox address.") var email: String

    func run() async throws {
        guard AddressNormalizer.canonical(email) != nil else { throw ValidationError("\"\(email)\" is not an email address") }
        let rt = try db.runtime()
        let user = try await rt.directory.users().first { $0.email.lowercased() == email.lowercased() }
        let a = try await rt.database.upsertAccount(email: email, userId: user?.id, authMethod: rt.config.authMethod.rawValue)
        print("enrolled \(a.email) (\(a.authMethod))\(user == nil ? "; no CRM user with this address" : "")")
    }
}

struct EnrollAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-all", abstract: "Enroll every active CRM user on the workspace domain.")
    @OptionGroup var db: DatabaseOption

    func run() async throws {
        let rt = try db.runtime()
        guard let domain = rt.config.workspaceDomain else { throw ValidationError("set CRM_GMAIL_WORKSPACE_DOMAIN") }
        var n = 0
        for u in try await rt.directory.users() where u.active && u.email.lowercased().hasSuffix("@" + domain) {
            try await rt.database.upsertAccount(email: u.email, userId: u.id)
            n += 1
        }
        print("enrolled \(n) mailbox(es) on \(domain)")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Per-mailbox sync status.",
        discussion:
            "--json: an array, one object per mailbox: email, state, enabled, cursor, messagesStored, backlog, parkedItems, lastError, lastSuccessAt, lastRun {status, kind, startedAt, finishedAt, counts}, quotaUnitsLastRun, attachmentsPending, push {mode, watchExpiresAt, lastNotificationAt, notificationsReceived}."
    )
    @OptionGroup var db: DatabaseOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        if json { print(try jsonString(try await rt.database.statusReport(pushMode: rt.config.pushMode))); return }
        let rows = try await rt.database.status()
        for s in rows {
            print(
                "\(s.email)\t\(s.state.rawValue)\tstored \(s.messagesStored)\tbacklog \(s.backlog)\tparked \(s.parkedItems)\tlast run \(s.lastRun?.status.rawValue ?? "never")\(s.lastError.map { "\t\($0)" } ?? "")"
            )
        }
    }
}

struct ThreadsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threads", abstract: "Captured conversations, newest first.",
        discussion:
            "--json: an array, one object per thread: id, subject, firstAt, lastAt, messageIds (RFC Message-IDs without brackets), mailboxes, investorIds, investorLinks [{investorId, rule, confidence}]."
    )
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only threads linked to this investor id.") var investor: String?
    @Option(help: "How many.") var limit = 50
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let rows = try await rt.readModel.threads(for: try await viewer.resolve(rt), investor: investor, limit: limit)
        if json { print(try jsonString(rows)); return }
        for t in rows {
            print(
                "\(t.id)\t\(t.lastAt ?? "")\t\(t.messageIds.count) msg\t\(t.mailboxes.joined(separator: ","))\t\(t.investorIds.joined(separator: ","))\t\(t.subject ?? "")"
            )
        }
    }
}

struct ThreadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "thread", abstract: "One conversation with its messages.")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "Thread id.") var id: Int64
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        guard let found = try await rt.readModel.thread(id: id, for: try await viewer.resolve(rt), surface: .cli) else {
            FileHandle.standardError.write(Data("error: no thread \(id)\n".utf8))
            throw ExitCode(1)
        }
        let (t, messages) = found
        if json {
            struct Out: Encodable { var thread: CaptureDatabase.ThreadSummary; var messages: [CaptureDatabase.ThreadMessage] }
            print(try jsonString(Out(thread: t, messages: messages)))
            return
        }
        print(
            "Thread \(t.id): \(t.subject ?? "(no subject)") — \(t.mailboxes.joined(separator: ", ")) — investors: \(t.investorLinks.map { "\($0.investorId) (\($0.rule))" }.joined(separator: ", "))"
        )
        for m in messages {
            let from = m.participants.first { $0.role == "from" }
            let lock = m.visibility == .full ? "" : " [\(m.visibility.rawValue) only]"
            print("\n\(m.sentAt ?? "") \(from?.name ?? from?.address ?? "?"): \(m.subject ?? "")\(lock)")
            print((m.textBody ?? "").prefix(400))
            for a in m.attachments { print("  [attachment] \(a.filename ?? "(no name)") \(a.mimeType) \(a.size) bytes, \(a.state)") }
        }
    }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

/// One terminal line, rewritten in place.
@Sendable func showProgress(_ p: SyncProgress) {
    let line = "\r  \(p.mailbox): \(p.phase), \(p.listed) listed, \(p.stored) stored   "
    FileHandle.standardOutput.write(Data(line.utf8))
}
