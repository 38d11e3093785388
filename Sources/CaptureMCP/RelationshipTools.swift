import Foundation
import GmailCapture
import MCP

/// `list_investors`, `investor_relationship`, `who_knows`, `going_cold` and `mailbox_status`: figures
/// from the metadata of the mail the viewer may see (never its content; display names are fenced).
extension CaptureMCPServer {
    static let placeholderCursor = Value.string(String(repeating: "x", count: 300))

    /// One line per relationship: grade, strength, last contact, counts and the teammates who hold it.
    static func describe(_ r: RelationshipReports.InvestorRelationship) -> String {
        "\(r.grade.rawValue) (strength \(r.strength)) · last contact \(r.lastContactAt ?? "never") by \(r.lastContactBy ?? "-") · "
            + "\(r.messagesIn) in / \(r.messagesOut) out · \(r.threads) thread(s) · first contact \(r.firstContactAt ?? "-")"
            + (r.teammates.isEmpty
                ? "" : " · teammates: " + r.teammates.map { "\($0.email) \($0.grade.rawValue) (\($0.strength))" }.joined(separator: ", "))
    }

    /// A page of a list tool: `items` rendered lazily from the cursor's offset, the structured content
    /// built around them by `wrap` (items, next cursor).
    func listAnswer(
        tool: String, stamp: String, cursor: PageCursor?, count: Int, header: String, emptyNote: String,
        wrap: @escaping ([Value], Value) -> Value, item: @escaping (Int) -> (text: String, value: Value)
    ) -> Answer {
        let start = max(0, cursor?.offset ?? 0)
        let filled = listPage(
            count: count, from: start, headerText: header, emptyJSON: Budget.size(wrap([], Self.placeholderCursor)), item: item)
        let next = start + filled.count < count ? PageCursor(tool: tool, stamp: stamp, offset: start + filled.count).encoded() : nil
        var text = header
        if filled.count > 0 {
            text += " (items \(start + 1)-\(start + filled.count) of \(count))\n\n" + filled.texts.joined(separator: "\n\n")
        } else {
            text += "\n\n" + emptyNote
        }
        return Answer(
            text: text + Self.footer(tool, next), structured: wrap(filled.values, next.map(Value.string) ?? .null), messages: 0,
            items: filled.count)
    }

    // MARK: - list_investors

    func listInvestors(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.listInvestors
        try args.only(["cursor"], tool: tool)
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        let investors = try await directory.investors()
        let figures = Dictionary(
            try await relationships.investors(for: viewer).map { ($0.investorId, $0) }, uniquingKeysWith: { a, _ in a })
        return Prepared { _ in
            listAnswer(
                tool: tool, stamp: stamp, cursor: cursor, count: investors.count,
                header: "CRM investors (\(investors.count)), each with the team's relationship as far as you can see it",
                emptyNote: "The CRM has no investors.",
                wrap: { ["investors": .array($0), "nextCursor": $1] }
            ) { i in
                let inv = investors[i]
                let r = figures[inv.id]
                var text = "\(inv.id) · \(inv.name)"
                if !inv.emails.isEmpty { text += " · \(inv.emails.joined(separator: ", "))" }
                if !inv.domains.isEmpty { text += " · domains: \(inv.domains.joined(separator: ", "))" }
                text += "\n  relationship: " + (r.map(Self.describe) ?? "none in the mail you can see")
                let value: Value = [
                    "id": .string(inv.id), "name": .string(inv.name), "emails": .array(inv.emails.map(Value.string)),
                    "domains": .array(inv.domains.map(Value.string)), "relationship": r.map { Self.value($0) } ?? .null,
                ]
                return (text, value)
            }
        }
    }

    // MARK: - investor_relationship

    func investorRelationship(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.investorRelationship
        try args.only(["investorId", "cursor"], tool: tool)
        let id = try args.requiredString("investorId", "a CRM investor id (id in list_investors)")
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        guard let timeline = try await relationships.timeline(investorId: id, for: viewer, limit: Int.max / 2, offset: 0),
            let investor = try await directory.investors().first(where: { $0.id == id })
        else { throw ToolError("no such investor: \(id)") }
        let figures = try await relationships.investors(for: viewer, investor: id).first
        // No visible interaction: the same keys, zero figures (as GET /api/email/investors/:id answers).
        let investorValue: Value =
            figures.map { Self.value($0) } ?? [
                "investorId": .string(id), "name": .string(investor.name), "firstContactAt": .null, "lastContactAt": .null,
                "lastContactBy": .null, "lastInboundAt": .null, "lastOutboundAt": .null, "messagesIn": 0, "messagesOut": 0, "threads": 0,
                "strength": 0, "grade": .string(StrengthGrade.veryWeak.rawValue), "teammates": [],
                "replies": ["theirMedianSeconds": .null, "ourMedianSeconds": .null],
            ]
        let summary = figures.map(Self.describe) ?? "no interactions in the mail you can see"
        return Prepared { _ in
            listAnswer(
                tool: tool, stamp: stamp, cursor: cursor, count: timeline.count,
                header: "\(id) · \(investor.name): \(summary)\nInteractions you can see, newest first",
                emptyNote: "No interactions with this investor in the mail you can see.",
                wrap: { ["investor": investorValue, "timeline": .array($0), "nextCursor": $1] }
            ) { i in
                let t = timeline[i]
                var text = "\(t.at) · \(t.direction) · thread \(t.threadId)"
                if let m = t.messageId { text += " · message \(m)" }
                text += " · teammates: \(t.teammates.joined(separator: ", "))"
                return (text, Self.value(t))
            }
        }
    }

    // MARK: - who_knows

    func whoKnows(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.whoKnows
        try args.only(["query", "cursor"], tool: tool)
        let query = try args.requiredString("query", "an email address or a domain")
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        let answer = try await relationships.whoKnows(query, for: viewer)
        let teammates = Self.value(answer.teammates)
        let teamText =
            answer.teammates.isEmpty
            ? "No teammate knows \(query) in the mail you can see."
            : "Teammates who know \(query), strongest first:\n"
                + answer.teammates.map {
                    "- \($0.email): \($0.grade.rawValue) (strength \($0.strength)) · \($0.messagesIn) in / \($0.messagesOut) out · last contact \($0.lastContactAt ?? "never")"
                }.joined(separator: "\n")
        return Prepared { fence in
            listAnswer(
                tool: tool, stamp: stamp, cursor: cursor, count: answer.people.count,
                header: teamText + "\n\nPeople at \(query), strongest first", emptyNote: "No people found.",
                wrap: { ["query": .string(answer.query), "teammates": teammates, "people": .array($0), "nextCursor": $1] }
            ) { i in
                var p = answer.people[i]
                var text = "\(p.address) · strength \(p.strength) · last contact \(p.lastContactAt ?? "never")"
                if let name = p.name {
                    text += "\n" + fence.wrap("Name: \(Self.clip(name, 200))", from: p.address, date: p.lastContactAt)
                }
                p.name = fence.wrap(optional: p.name.map { Self.clip($0, 200) }, from: p.address, date: p.lastContactAt)
                return (text, Self.value(p))
            }
        }
    }

    // MARK: - going_cold

    func goingCold(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.goingCold
        try args.only(["days", "minInteractions", "cursor"], tool: tool)
        let days = try args.integer("days", default: 90, 1...36_500) ?? 90
        let minimum = try args.integer("minInteractions", default: 5, 1...1_000_000) ?? 5
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        let cold = try await relationships.cold(for: viewer, minInteractions: minimum, days: days)
        return Prepared { _ in
            listAnswer(
                tool: tool, stamp: stamp, cursor: cursor, count: cold.count,
                header:
                    "Investors going cold: at least \(minimum) interaction(s), none in the last \(days) day(s), strongest relationships first",
                emptyNote: "None in the mail you can see.",
                wrap: { ["investors": .array($0), "nextCursor": $1] }
            ) { i in
                let r = cold[i]
                return ("\(r.investorId) · \(r.name): \(Self.describe(r))", Self.value(r))
            }
        }
    }

    // MARK: - mailbox_status

    func mailboxStatus(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.mailboxStatus
        try args.only(["cursor"], tool: tool)
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        let admin: Bool
        if let me = viewer.email {
            admin = try await directory.users().contains { $0.email.caseInsensitiveCompare(me) == .orderedSame && $0.admin }
        } else {
            admin = true
        }
        let rows = try await readModel.database.statusReport(pushMode: options.pushMode).filter {
            admin || $0.status.email.caseInsensitiveCompare(viewer.email ?? "") == .orderedSame
        }
        return Prepared { _ in
            listAnswer(
                tool: tool, stamp: stamp, cursor: cursor, count: rows.count,
                header: admin ? "Every enrolled mailbox (you are an admin)" : "Your mailbox",
                emptyNote: "No enrolled mailbox: nothing of yours is captured.",
                wrap: { ["mailboxes": .array($0), "nextCursor": $1] }
            ) { i in
                let s = rows[i].status
                var text =
                    "\(s.email) · \(s.state.rawValue)\(s.enabled ? "" : " (paused)") · \(s.messagesStored) message(s) stored · backlog \(s.backlog) · parked \(s.parkedItems) · attachments pending \(s.attachmentsPending) · last success \(s.lastSuccessAt ?? "never")"
                if let run = s.lastRun {
                    text += " · last run \(run.kind.rawValue) \(run.status.rawValue) started \(run.startedAt)"
                }
                if let e = s.lastError { text += " · last error: \(Self.clip(e, 500))" }
                let push = rows[i].push
                if push.mode != .off {
                    text +=
                        " · push \(push.mode.rawValue): watch until \(push.watchExpiresAt ?? "none"), \(push.notificationsReceived) notification(s), last \(push.lastNotificationAt ?? "never")"
                }
                return (text, Self.value(rows[i]))
            }
        }
    }
}
