import ArgumentParser
import Foundation
import CaptureParsing
import GmailCapture

/// `--db PATH` (default: CRM_DB_PATH, else data/crm.db).
struct DatabaseOption: ParsableArguments {
    @Option(name: .customLong("db"), help: "SQLite file (default: $CRM_DB_PATH or data/crm.db).") var path: String?

    /// The storage configuration (CRM_DB_PATH, the workspace domain, the CRM mapping, …) with --db applied.
    func config() throws -> CaptureConfig {
        var c: CaptureConfig
        do { c = try CaptureConfig.storage(from: ProcessInfo.processInfo.environment) } catch let invalid as CaptureConfig.Invalid {
            throw ValidationError("invalid configuration (run `gmail-capture config check`):\n" + invalid.description)
        }
        if let path { c.databasePath = path }
        return c
    }

    /// The database and the CRM directory, without Gmail.
    func runtime(migrations: MigrationRunner? = nil) throws -> CaptureRuntime {
        let c = try config()
        return try CaptureRuntime.build(c, database: try CaptureDatabase(path: c.databasePath, migrations: migrations))
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the email migrations to the CRM database (idempotent), or drop every email table.",
        discussion:
            "--drop --yes removes every email_* table, the emails table and the migration ledger; the CRM's own tables are untouched."
    )
    @OptionGroup var db: DatabaseOption
    @Flag(help: "Drop every email table instead of migrating.") var drop = false
    @Flag(help: "Confirm --drop.") var yes = false

    func validate() throws {
        if drop && !yes { throw ValidationError("--drop removes all captured email; add --yes to confirm") }
    }

    func run() async throws {
        let path = try db.config().databasePath
        if drop {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path): no such database") }
            let dropped = try CaptureDatabase.dropEmailTables(path: path)
            print("dropped \(dropped.count) table(s) from \(path): \(dropped.joined(separator: ", "))")
            return
        }
        let runner = try MigrationRunner.bundled()
        let database = try CaptureDatabase(path: path, migrations: MigrationRunner(migrations: []))
        let applied = try database.applyMigrations(runner)
        print(applied.isEmpty ? "\(path): up to date" : "\(path): applied \(applied.joined(separator: ", "))")
    }
}

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "CRM users (standalone use).",
        subcommands: [
            UsersAddCommand.self, UsersListCommand.self, UsersTokenCommand.self,
            UsersTokensCommand.self, UsersRevokeCommand.self, UsersSharingCommand.self,
        ])
}

struct UsersAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add or update a user (idempotent by email).")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "Email address.") var email: String
    @Option(help: "Display name.") var name: String?
    @Flag(help: "Make the user an admin.") var admin = false

    func validate() throws {
        if AddressNormalizer.canonical(email) == nil { throw ValidationError("\"\(email)\" is not an email address") }
    }

    func run() async throws {
        let u = try await db.runtime().directory.addUser(email: email, name: name, admin: admin)
        print("user \(u.id) \(u.email)\(u.admin ? " (admin)" : "")")
    }
}

struct UsersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List users.",
        discussion: "--json: [{\"id\", \"email\", \"name\", \"admin\", \"active\"}].")
    @OptionGroup var db: DatabaseOption
    @Flag(help: "Stable JSON.") var json = false
    func run() async throws {
        let users = try await db.runtime().directory.users()
        if json {
            struct Out: Encodable {
                var id: String, email: String, name: String?, admin: Bool, active: Bool
                enum CodingKeys: String, CodingKey { case id, email, name, admin, active }
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(id, forKey: .id); try c.encode(email, forKey: .email); try c.encode(name, forKey: .name)
                    try c.encode(admin, forKey: .admin); try c.encode(active, forKey: .active)
                }
            }
            print(try jsonString(users.map { Out(id: $0.id, email: $0.email, name: $0.name, admin: $0.admin, active: $0.active) }))
            return
        }
        for u in users {
            print("\(u.id)\t\(u.email)\t\(u.name ?? "")\(u.admin ? "\tadmin" : "")\(u.active ? "" : "\tinactive")")
        }
    }
}

struct InvestorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "investors", abstract: "CRM investors (standalone use).",
        subcommands: [InvestorsImportCommand.self, InvestorsRelationshipsCommand.self, InvestorsColdCommand.self])
}

struct InvestorsImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import investors from JSON or CSV (idempotent by id; all or nothing).",
        discussion:
            "JSON: [{\"id\", \"name\", \"emails\": [...], \"domains\": [...]}]. CSV: header id,name,emails,domains; several values separated by ';'."
    )
    @OptionGroup var db: DatabaseOption
    @Argument(help: "JSON or CSV file.") var file: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): cannot be read") }
        do {
            let list = try CRMDirectory.parseInvestorFile(data, filename: file)
            let rt = try db.runtime()
            let r = try await rt.directory.importInvestors(list, workspaceDomain: rt.config.workspaceDomain)
            print("\(file): \(r.inserted) inserted, \(r.updated) updated")
            for w in r.warnings { print("warning: \(w)") }
        } catch let f as CRMDirectory.Failure {
            FileHandle.standardError.write(Data("\(file): \(f.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RematchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rematch", abstract: "Recompute investor links and rebuild the relationship index for stored mail (no Gmail calls).")
    @OptionGroup var db: DatabaseOption
    func run() async throws {
        let rt = try db.runtime()
        let r = try await rt.directory.rematch(workspaceDomain: rt.config.workspaceDomain)
        print("rematched \(r.emails) email(s): \(r.links) link(s)")
    }
}
