import ArgumentParser
import Foundation
import GmailCapture

/// `--as EMAIL`: read as that teammate (the visibility rules apply); without it, as the installation's
/// operator, who can read the database file anyway and sees everything.
struct ViewerOption: ParsableArguments {
    @Option(
        name: .customLong("as"), help: "Read as this teammate (their view under the sharing rules); default: the operator, who sees all.")
    var teammate: String?

    func resolve(_ rt: CaptureRuntime) async throws -> Viewer {
        guard let email = teammate else { return .operator }
        guard try await rt.directory.users().contains(where: { $0.email.caseInsensitiveCompare(email) == .orderedSame }) else {
            throw ValidationError("no CRM user \(email); --as takes a teammate's address")
        }
        return .teammate(email)
    }
}

struct UsersSharingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharing", abstract: "Print or set a teammate's sharing level (metadata, subject or full).",
        discussion:
            "Without a level, prints it (their own, or the firm default CRM_GMAIL_DEFAULT_SHARING). Never above CRM_GMAIL_MAX_SHARING.")
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The teammate's email.") var email: String
    @Argument(help: "metadata, subject or full.") var level: String?

    func run() async throws {
        let rt = try db.runtime()
        guard try await rt.directory.users().contains(where: { $0.email.caseInsensitiveCompare(email) == .orderedSame }) else {
            throw ValidationError("no CRM user \(email)")
        }
        if let raw = level {
            guard let l = SharingLevel(rawValue: raw.lowercased()) else {
                throw ValidationError("\"\(raw)\" is not a level; expected metadata, subject or full")
            }
            do { try await rt.readModel.setSharingLevel(l, for: email) } catch let e as ReadModel.SettingError {
                throw ValidationError(e.description)
            }
        }
        print(try await rt.readModel.sharingLevel(of: email).rawValue)
    }
}

struct PrivacyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy", abstract: "A teammate's private and shared marks.", subcommands: [PrivacyMarkCommand.self])
}

struct PrivacyMarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark", abstract: "Mark a thread, an address or a domain private, shared or default for a teammate's own mail.",
        discussion: """
            private: the teammate's messages in the thread (or with the address or domain, past and future) are hidden from everyone else. \
            shared: shown in full whatever their level (never above CRM_GMAIL_MAX_SHARING). default: removes the mark.
            """)
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The teammate (owner) whose mail the mark covers.") var email: String
    @Option(help: "A thread id.") var thread: Int64?
    @Option(help: "An external address (normalised as the matcher does).") var address: String?
    @Option(help: "A domain (its subdomains included).") var domain: String?
    @Argument(help: "private, shared or default.") var mode: String

    func validate() throws {
        if [thread != nil, address != nil, domain != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --thread, --address, --domain")
        }
        if PrivacyMode(rawValue: mode.lowercased()) == nil {
            throw ValidationError("\"\(mode)\" is not a mode; expected private, shared or default")
        }
    }

    func run() async throws {
        let rt = try db.runtime()
        let m = PrivacyMode(rawValue: mode.lowercased())!
        do {
            if let t = thread {
                guard try await rt.readModel.markThread(t, owner: email, mode: m) else {
                    throw ValidationError("\(email) holds no message in thread \(t)")
                }
                print("thread \(t): \(m.rawValue) for \(email)'s messages")
            } else if let a = address {
                try await rt.readModel.markAddress(a, owner: email, mode: m)
                print("address \(a): \(m.rawValue) for \(email)'s mail")
            } else if let d = domain {
                try await rt.readModel.markDomain(d, owner: email, mode: m)
                print("domain \(d): \(m.rawValue) for \(email)'s mail")
            }
        } catch let e as ReadModel.SettingError {
            throw ValidationError(e.description)
        }
    }
}

struct AccessLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-log", abstract: "Reads of one teammate's mail by another, at subject or full level.",
        discussion: "--json: [{\"viewer\", \"owner\", \"messageId\", \"level\", \"surface\": cli|api|mcp|ui, \"at\"}], oldest first.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only reads by this teammate.") var viewer: String?
    @Option(help: "Only reads of this teammate's mail.") var owner: String?
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let entries = try await db.runtime().readModel.accessLog(viewer: viewer, owner: owner)
        if json { print(try jsonString(entries)); return }
        for e in entries { print("\(e.at)\t\(e.viewer) read \(e.owner)'s <\(e.messageId)> at \(e.level.rawValue) (\(e.surface.rawValue))") }
    }
}

/// `--as-of DATE`: figures as of a date (default now), e.g. for a captured archive.
struct AsOfOption: ParsableArguments {
    @Option(name: .customLong("as-of"), help: "Compute as of this date (2024-03-05 or 2024-03-05T17:04:00Z); default now.") var asOf:
        String?

    func reports(_ rt: CaptureRuntime) throws -> RelationshipReports {
        var r = rt.relationships
        guard let text = asOf else { return r }
        let style = Date.ISO8601FormatStyle(timeZone: .gmt)
        guard let d = (try? style.parse(text)) ?? (try? style.parse(text + "T00:00:00Z")) else {
            throw ValidationError("--as-of must be an ISO 8601 date (2024-03-05 or 2024-03-05T17:04:00Z)")
        }
        r.asOf = d
        return r
    }
}

struct InvestorsRelationshipsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relationships", abstract: "Who on the team knows each investor, how well, since when.",
        discussion: """
            --json: an array, one object per investor with a visible interaction: investorId, name, firstContactAt, lastContactAt, \
            lastContactBy, lastInboundAt, lastOutboundAt, messagesIn, messagesOut, threads, strength (0-100), grade, \
            teammates [{email, strength, grade, messagesIn, messagesOut, lastContactAt}] strongest first.
            """)
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only this investor id.") var investor: String?
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let rows = try await asOf.reports(rt).investors(for: try await viewer.resolve(rt), investor: investor)
        if json { print(try jsonString(rows)); return }
        for r in rows {
            print(
                "\(r.investorId)\t\(r.name)\t\(r.grade.rawValue) (\(r.strength))\tlast \(r.lastContactAt ?? "never") by \(r.lastContactBy ?? "-")\t"
                    + r.teammates.map { "\($0.email) \($0.grade.rawValue)" }.joined(separator: ", "))
        }
    }
}

struct InvestorsColdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cold", abstract: "Investors the team used to talk to and no longer does, strongest relationships first.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "At least this many interactions in the past.") var minInteractions = 5
    @Option(help: "Last contact older than this many days.") var days = 90
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON (the relationships shape).") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let rows = try await asOf.reports(rt).cold(for: try await viewer.resolve(rt), minInteractions: minInteractions, days: days)
        if json { print(try jsonString(rows)); return }
        for r in rows {
            print("\(r.investorId)\t\(r.name)\t\(r.grade.rawValue)\tlast \(r.lastContactAt ?? "never") by \(r.lastContactBy ?? "-")")
        }
    }
}

struct WhoKnowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "who-knows", abstract: "Who on the team knows an address or a domain (in the CRM or not).",
        discussion:
            "--json: {query, teammates: [{email, strength, grade, messagesIn, messagesOut, lastContactAt}], people: [{address, name, lastContactAt, strength}]}."
    )
    @OptionGroup var db: DatabaseOption
    @Argument(help: "An address or a domain.") var query: String
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let answer: RelationshipReports.WhoKnows
        do { answer = try await asOf.reports(rt).whoKnows(query, for: try await viewer.resolve(rt)) } catch let e
            as RelationshipReports.QueryError
        {
            throw ValidationError(e.description)
        }
        if json { print(try jsonString(answer)); return }
        for t in answer.teammates { print("\(t.email)\t\(t.grade.rawValue) (\(t.strength))\tlast \(t.lastContactAt ?? "never")") }
        for p in answer.people { print("  \(p.address)\t\(p.name ?? "")\tlast \(p.lastContactAt ?? "never")") }
    }
}

struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "People the team mails who are not in the CRM.",
        subcommands: [ContactsSuggestCommand.self])
}

struct ContactsSuggestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest", abstract: "Frequent two-way external correspondents who are not CRM investors.",
        discussion: "--json: [{address, name, domain, messagesIn, messagesOut, threads, lastContactAt, strength}], strongest first.")
    @OptionGroup var db: DatabaseOption
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var viewer: ViewerOption
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let rows = try await asOf.reports(rt).suggestions(for: try await viewer.resolve(rt))
        if json { print(try jsonString(rows)); return }
        for r in rows {
            print("\(r.address)\t\(r.name ?? "")\t\(r.messagesIn) in, \(r.messagesOut) out\tlast \(r.lastContactAt ?? "never")")
        }
    }
}
