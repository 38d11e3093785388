import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird

/// The pages: investors (relationships, going cold, suggestions), one investor, a thread, search, settings.
extension WebUI {
    // MARK: - Formatting

    /// `2024-11-03 14:22` (UTC) from a stored ISO 8601 timestamp; a dash when absent.
    static func when(_ iso: String?) -> String {
        guard let iso, iso.count >= 16 else { return "—" }
        let chars = Array(iso)
        return String(chars[0..<10]) + " " + String(chars[11..<16])
    }

    /// A median reply time: `45 min`, `5.2 h` (under two days), `3.1 d`; a dash without any reply.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        if seconds < 3_600 { return "\(Int((seconds / 60).rounded())) min" }
        if seconds < 172_800 { return String(format: "%.1f h", seconds / 3_600) }
        return String(format: "%.1f d", seconds / 86_400)
    }

    static func strength(_ value: Double) -> String { String(Int(value.rounded())) }
    static func gradeClass(_ grade: StrengthGrade) -> String { grade.rawValue.replacingOccurrences(of: " ", with: "-") }

    /// A path segment for an id that may hold any character.
    static func pathSegment(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#%;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    // MARK: - Investors

    struct TeammateRow {
        var email: String
        var grade: String
        var gradeClass: String
        var strength: String
        var messagesIn: Int
        var messagesOut: Int
        var lastContact: String
        init(_ t: RelationshipReports.TeammateFigure) {
            email = t.email
            grade = t.grade.rawValue
            gradeClass = WebUI.gradeClass(t.grade)
            strength = WebUI.strength(t.strength)
            messagesIn = t.messagesIn
            messagesOut = t.messagesOut
            lastContact = WebUI.when(t.lastContactAt)
        }
    }

    struct InvestorRow {
        var id: String
        var path: String
        var name: String
        var grade: String
        var gradeClass: String
        var strength: String
        var lastContactAt: String
        var lastContact: String
        var lastContactBy: String
        var messagesIn: Int
        var messagesOut: Int
        var teammates: [TeammateRow]
        init(_ r: RelationshipReports.InvestorRelationship) {
            id = r.investorId
            path = WebUI.pathSegment(r.investorId)
            name = r.name
            grade = r.grade.rawValue
            gradeClass = WebUI.gradeClass(r.grade)
            strength = WebUI.strength(r.strength)
            lastContactAt = r.lastContactAt ?? ""
            lastContact = WebUI.when(r.lastContactAt)
            lastContactBy = r.lastContactBy ?? "—"
            messagesIn = r.messagesIn
            messagesOut = r.messagesOut
            teammates = r.teammates.map(TeammateRow.init)
        }
    }

    struct SuggestionRow {
        var address: String
        var name: String
        var domain: String
        var messagesIn: Int
        var messagesOut: Int
        var threads: Int
        var lastContact: String
    }

    struct InvestorsPage {
        var nav: Nav?
        var asOf: String
        var tabAll: Bool
        var tabCold: Bool
        var tabSuggested: Bool
        var sortName: Bool
        var sortStrength: Bool
        var sortLast: Bool
        var sortLabel: String
        var rows: [InvestorRow]
        var suggestions: [SuggestionRow]
        var minInteractions: Int
        var days: Int
    }

    enum InvestorSort: String { case name, strength, last }

    func investors(_ request: Request, _ s: WebSessions.SignedIn) async throws -> Response {
        let q = request.uri.queryParameters
        let tab = q.get("tab") ?? "all"
        guard ["all", "cold", "suggested"].contains(tab) else { throw PageError.badRequest("tab must be cold or suggested") }
        guard let sort = InvestorSort(rawValue: q.get("sort") ?? "strength") else {
            throw PageError.badRequest("sort must be name, strength or last")
        }
        let viewer = viewerOf(s)
        let minimum = 5, days = 90
        var rows: [InvestorRow] = []
        var suggestions: [SuggestionRow] = []
        switch tab {
        case "cold":
            rows = try await reports.cold(for: viewer, minInteractions: minimum, days: days).map(InvestorRow.init)
        case "suggested":
            suggestions = try await reports.suggestions(for: viewer).map {
                SuggestionRow(
                    address: $0.address, name: $0.name ?? "", domain: $0.domain, messagesIn: $0.messagesIn, messagesOut: $0.messagesOut,
                    threads: $0.threads, lastContact: Self.when($0.lastContactAt))
            }
        default:
            var all = try await reports.investors(for: viewer)
            switch sort {
            case .name:
                all.sort { ($0.name.lowercased(), $0.investorId) < ($1.name.lowercased(), $1.investorId) }
            case .strength:
                all.sort { ($0.strength, $1.name.lowercased()) > ($1.strength, $0.name.lowercased()) }
            case .last:
                all.sort { ($0.lastContactAt ?? "", $1.name.lowercased()) > ($1.lastContactAt ?? "", $0.name.lowercased()) }
            }
            rows = all.map(InvestorRow.init)
        }
        let asOf = options.relationshipsAsOf.map { Self.when(CaptureDatabase.isoString($0)) + " UTC" } ?? "now"
        return render(
            "investors",
            InvestorsPage(
                nav: Nav(s), asOf: asOf, tabAll: tab == "all", tabCold: tab == "cold", tabSuggested: tab == "suggested",
                sortName: sort == .name, sortStrength: sort == .strength, sortLast: sort == .last,
                sortLabel: ["name": "name", "strength": "strength", "last": "last contact"][sort.rawValue] ?? "",
                rows: rows, suggestions: suggestions, minInteractions: minimum, days: days))
    }

    // MARK: - One investor

    struct TimelineRow {
        var at: String
        var when: String
        var direction: String
        var threadId: Int64
        var holders: String
    }

    struct InvestorPage {
        var nav: Nav?
        var path: String
        var name: String
        var grade: String
        var gradeClass: String
        var strength: String
        var firstContact: String
        var lastContact: String
        var lastContactBy: String?
        var lastInbound: String
        var lastOutbound: String
        var messagesIn: Int
        var messagesOut: Int
        var threads: Int
        /// Median reply times: theirs to the team, the team's to them.
        var theirReply: String
        var ourReply: String
        var teammates: [TeammateRow]
        var timeline: [TimelineRow]
        var prevOffset: String?
        var nextOffset: String?
    }

    static let timelinePage = 25

    func investor(_ id: String?, _ request: Request, _ s: WebSessions.SignedIn) async throws -> Response {
        guard let id, !id.isEmpty else { throw PageError.notFound }
        var offset = 0
        if let raw = request.uri.queryParameters.get("offset") {
            guard let n = Int(raw), (0...10_000_000).contains(n) else { throw PageError.badRequest("offset must be a whole number") }
            offset = n
        }
        let viewer = viewerOf(s)
        guard let investor = try await directory.investors().first(where: { $0.id == id }),
            let timeline = try await reports.timeline(investorId: id, for: viewer, limit: Self.timelinePage + 1, offset: offset)
        else { throw PageError.notFound }
        let figures = try await reports.investors(for: viewer, investor: id).first
        let model = InvestorPage(
            nav: Nav(s), path: Self.pathSegment(id), name: investor.name, grade: (figures?.grade ?? .veryWeak).rawValue,
            gradeClass: Self.gradeClass(figures?.grade ?? .veryWeak), strength: Self.strength(figures?.strength ?? 0),
            firstContact: Self.when(figures?.firstContactAt), lastContact: Self.when(figures?.lastContactAt),
            lastContactBy: figures?.lastContactBy, lastInbound: Self.when(figures?.lastInboundAt),
            lastOutbound: Self.when(figures?.lastOutboundAt), messagesIn: figures?.messagesIn ?? 0, messagesOut: figures?.messagesOut ?? 0,
            threads: figures?.threads ?? 0, theirReply: Self.duration(figures?.replies?.theirMedianSeconds),
            ourReply: Self.duration(figures?.replies?.ourMedianSeconds), teammates: (figures?.teammates ?? []).map(TeammateRow.init),
            timeline: timeline.prefix(Self.timelinePage).map {
                TimelineRow(
                    at: $0.at, when: Self.when($0.at), direction: $0.direction, threadId: $0.threadId,
                    holders: $0.teammates.joined(separator: ", "))
            },
            prevOffset: offset > 0 ? String(max(0, offset - Self.timelinePage)) : nil,
            nextOffset: timeline.count > Self.timelinePage ? String(offset + Self.timelinePage) : nil)
        return render("investor", model)
    }

    // MARK: - Thread

    struct AttachmentRowView {
        var id: Int64
        var name: String
        var size: String
        var state: String
        var stored: Bool
    }

    struct MessageView {
        var id: Int64
        var threadId: Int64
        var visibility: String
        var locked: Bool
        var subjectOnly: Bool
        var from: String
        var to: String
        var cc: String?
        var direction: String
        var date: String
        var when: String
        var owners: String
        var showSubject: Bool
        var subject: String
        var html: Bool
        var bodyURL: String
        var blockedImages: Int?
        var text: String?
        var hasAttachments: Bool
        var attachments: [AttachmentRowView]
    }

    struct ModeOption {
        var value: String
        var label: String
        var selected: Bool
    }

    struct SharingControl {
        var threadId: Int64
        var csrf: String
        var modes: [ModeOption]
    }

    struct InvestorLink {
        var path: String
        var name: String
    }

    struct ThreadPage {
        var nav: Nav?
        var subject: String
        var mailboxes: String
        var investors: [InvestorLink]
        var sharing: SharingControl?
        var messages: [MessageView]
    }

    static func person(_ p: CaptureDatabase.ThreadMessage.Participant?) -> String {
        guard let p else { return "(unknown sender)" }
        if let n = p.name, !n.isEmpty, n.caseInsensitiveCompare(p.address) != .orderedSame { return "\(n) <\(p.address)>" }
        return p.address
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_048_576
            ? String(format: "%.1f MB", Double(bytes) / 1_048_576) : bytes >= 1024 ? "\(bytes / 1024) KB" : "\(bytes) bytes"
    }

    func thread(_ idText: String?, _ request: Request, _ s: WebSessions.SignedIn) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw PageError.notFound }
        guard let found = try await readModel.thread(id: id, for: viewerOf(s), surface: .ui) else { throw PageError.notFound }
        let remoteFor = request.uri.queryParameters.get("images").flatMap { Int64($0) }
        let me = s.user.email
        let names = Dictionary(try await directory.investors().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var messages: [MessageView] = []
        for m in found.messages {
            var blocked: Int?
            if m.visibility == .full, let html = m.htmlBody {
                let n = MailDocument.sanitize(html: html, inline: { _ in "cid" }, link: { $0 }, remoteImages: false).blockedRemoteImages
                blocked = remoteFor == m.id || n == 0 ? nil : n
            }
            let full = m.visibility == .full
            messages.append(
                MessageView(
                    id: m.id, threadId: id, visibility: m.visibility.rawValue, locked: m.visibility == .metadata,
                    subjectOnly: m.visibility == .subject, from: Self.person(m.from),
                    to: m.to.map { Self.person($0) }.joined(separator: ", "),
                    cc: m.cc.isEmpty ? nil : m.cc.map { Self.person($0) }.joined(separator: ", "), direction: m.direction,
                    date: m.date ?? "", when: Self.when(m.date ?? m.sentAt), owners: m.owners.joined(separator: ", "),
                    showSubject: m.visibility >= .subject, subject: m.subject ?? "(no subject)", html: full && m.htmlBody != nil,
                    bodyURL: "/messages/\(m.id)/body" + (remoteFor == m.id ? "?images=remote" : ""), blockedImages: blocked,
                    text: full && m.htmlBody == nil ? (m.textBody ?? "") : nil, hasAttachments: full && !m.attachments.isEmpty,
                    attachments: full
                        ? m.attachments.map {
                            AttachmentRowView(
                                id: $0.id, name: ($0.filename ?? "").isEmpty ? "attachment \($0.id)" : $0.filename!,
                                size: Self.size($0.size),
                                state: $0.state.rawValue, stored: $0.state == .stored)
                        } : []))
        }
        var sharing: SharingControl?
        if found.messages.contains(where: { $0.owners.contains { $0.caseInsensitiveCompare(me) == .orderedSame } }) {
            let current =
                try await readModel.marks(owner: me).first { $0.kind == .thread && $0.value == String(id) }?.mode ?? .default
            sharing = SharingControl(
                threadId: id, csrf: s.csrf,
                modes: [
                    ModeOption(value: "default", label: "as my sharing level says", selected: current == .default),
                    ModeOption(value: "shared", label: "shared in full with the team", selected: current == .shared),
                    ModeOption(value: "private", label: "private (hidden from everyone)", selected: current == .private),
                ])
        }
        return render(
            "thread",
            ThreadPage(
                nav: Nav(s), subject: found.thread.subject ?? "(subject not shared)",
                mailboxes: found.thread.mailboxes.joined(separator: ", "),
                investors: found.thread.investorIds.map { InvestorLink(path: Self.pathSegment($0), name: names[$0] ?? $0) },
                sharing: sharing, messages: messages))
    }

    func setThreadSharing(_ idText: String?, _ fields: [String: String], _ s: WebSessions.SignedIn) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw PageError.notFound }
        guard let mode = fields["mode"].flatMap(PrivacyMode.init(rawValue:)) else {
            throw PageError.badRequest("mode must be private, shared or default")
        }
        guard try await readModel.markThread(id, owner: s.user.email, mode: mode) else { throw PageError.notFound }
        // A thread made private is no longer the viewer's to show others, but it stays theirs to read.
        return Self.redirect("/threads/\(id)")
    }

    // MARK: - Search

    struct ResultView {
        var threadId: Int64
        var subject: String
        var lastAt: String
        var when: String
        var snippetHTML: String
        var mailboxes: String
        var investors: String?
    }

    struct SearchPageView {
        var nav: Nav?
        var query: String
        var queryParam: String
        var error: String?
        var searched: Bool
        var results: [ResultView]
        var nextCursor: String?
    }

    /// A snippet with its `«…»` highlights as `<mark>`: the text is escaped first, so nothing in it is markup.
    static func highlighted(_ snippet: String) -> String {
        var out = ""
        var open = false
        for ch in snippet {
            switch ch {
            case "«" where !open: out += "<mark>"; open = true
            case "»" where open: out += "</mark>"; open = false
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        if open { out += "</mark>" }
        return out
    }

    func search(_ request: Request, _ s: WebSessions.SignedIn) async throws -> Response {
        let q = request.uri.queryParameters
        let query = (q.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        var model = SearchPageView(
            nav: Nav(s), query: query, queryParam: Self.queryValue(query), error: nil, searched: false, results: [], nextCursor: nil)
        guard !query.isEmpty else { return render("search", model) }
        let names = Dictionary(try await directory.investors().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        do {
            let page = try await readModel.search(query, for: viewerOf(s), limit: 20, cursor: q.get("cursor"), surface: .ui)
            model.searched = true
            model.results = page.results.map {
                ResultView(
                    threadId: $0.threadId, subject: $0.subject ?? "(subject not shared)", lastAt: $0.lastAt ?? "",
                    when: Self.when($0.lastAt),
                    snippetHTML: Self.highlighted($0.snippet), mailboxes: $0.mailboxes.joined(separator: ", "),
                    investors: $0.investorIds.isEmpty ? nil : $0.investorIds.map { names[$0] ?? $0 }.joined(separator: ", "))
            }
            model.nextCursor = page.nextCursor.map(Self.queryValue)
            return render("search", model)
        } catch let e as SearchQueryError {
            model.error = e.description
            return render("search", model, status: .badRequest)
        }
    }

    // MARK: - Settings

    struct LevelOption {
        var value: String
        var label: String
        var selected: Bool
        var disabled: Bool
    }

    struct MarkRow {
        var kind: String
        var value: String
        var mode: String
        var csrf: String
    }

    struct MailboxRow {
        var id: Int64
        var email: String
        var state: String
        var stateClass: String
        var enabled: Bool
        var lag: String
        var backlog: Int
        var lastError: String
        var quota: String
        var attachmentsPending: Int
        var csrf: String
    }

    struct SettingsPage {
        var nav: Nav?
        var csrf: String
        var notice: String?
        var error: String?
        var levels: [LevelOption]
        var ceiling: String
        var marks: [MarkRow]
        var hasMarks: Bool
        var showMailboxes: Bool
        var mailboxes: [MailboxRow]
    }

    static func lag(_ seconds: Int?) -> String {
        guard let s = seconds else { return "never synced" }
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        if s < 172_800 { return "\(s / 3600) h" }
        return "\(s / 86_400) days"
    }

    func settings(
        _ s: WebSessions.SignedIn, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let me = s.user.email
        let level = try await readModel.sharingLevel(of: me)
        let ceiling = readModel.policy.ceiling
        let marks = try await readModel.marks(owner: me).filter { $0.kind != .thread }.map {
            MarkRow(kind: $0.kind.rawValue, value: $0.value, mode: $0.mode.rawValue, csrf: s.csrf)
        }
        let accounts = Dictionary(try await database.accounts().map { ($0.email.lowercased(), $0.id) }, uniquingKeysWith: { a, _ in a })
        let now = clock.now()
        let mailboxes = try await database.status().filter { s.user.admin || $0.email.caseInsensitiveCompare(me) == .orderedSame }
            .compactMap { m -> MailboxRow? in
                guard let id = accounts[m.email.lowercased()] else { return nil }
                let lag = m.lastSuccessAt.flatMap(CaptureDatabase.parseISO).map { Int(now.timeIntervalSince($0)) }
                return MailboxRow(
                    id: id, email: m.email, state: m.state.rawValue, stateClass: m.state.isDegraded ? "degraded" : "ok", enabled: m.enabled,
                    lag: Self.lag(lag), backlog: m.backlog + m.parkedItems, lastError: m.lastError ?? "—",
                    quota: m.quotaUnitsLastRun.map(String.init) ?? "—", attachmentsPending: m.attachmentsPending, csrf: s.csrf)
            }
        return render(
            "settings",
            SettingsPage(
                nav: Nav(s), csrf: s.csrf, notice: notice, error: error,
                levels: SharingLevel.allCases.map {
                    LevelOption(value: $0.rawValue, label: $0.rawValue, selected: $0 == level, disabled: $0 > ceiling)
                }, ceiling: ceiling.rawValue, marks: marks, hasMarks: !marks.isEmpty, showMailboxes: !mailboxes.isEmpty,
                mailboxes: mailboxes),
            status: status)
    }

    func setSharingLevel(_ fields: [String: String], _ s: WebSessions.SignedIn) async throws -> Response {
        guard let level = fields["level"].flatMap(SharingLevel.init(rawValue:)) else {
            return try await settings(s, error: "level must be metadata, subject or full", status: .badRequest)
        }
        do { try await readModel.setSharingLevel(level, for: s.user.email) } catch let e as ReadModel.SettingError {
            return try await settings(s, error: e.description, status: .badRequest)
        }
        return Self.redirect("/settings?saved=1")
    }

    func setMark(_ fields: [String: String], _ s: WebSessions.SignedIn) async throws -> Response {
        guard let mode = fields["mode"].flatMap(PrivacyMode.init(rawValue:)), let value = fields["value"], !value.isEmpty else {
            return try await settings(s, error: "an address or domain and a mode are required", status: .badRequest)
        }
        do {
            switch fields["kind"] {
            case "address": try await readModel.markAddress(value, owner: s.user.email, mode: mode)
            case "domain": try await readModel.markDomain(value, owner: s.user.email, mode: mode)
            default: return try await settings(s, error: "kind must be address or domain", status: .badRequest)
            }
        } catch let e as ReadModel.SettingError {
            return try await settings(s, error: e.description, status: .badRequest)
        }
        return Self.redirect("/settings?saved=1")
    }

    /// Pause, resume or run-now for a mailbox: admins for any, a teammate for their own; any other is a 404.
    func mailboxAction(_ idText: String?, _ action: String?, _ s: WebSessions.SignedIn) async throws -> Response {
        guard let t = idText, let id = Int64(t),
            let account = try await database.accounts().first(where: { $0.id == id }),
            s.user.admin || account.email.caseInsensitiveCompare(s.user.email) == .orderedSame
        else { throw PageError.notFound }
        switch action {
        case "pause": try await database.setEnabled(accountId: id, false)
        case "resume": try await database.setEnabled(accountId: id, true)
        case "run-now":
            if !s.user.admin, let wait = await throttle.admit(s.user.id, now: clock.now()) {
                return try await settings(s, error: "Too many manual syncs; try again in \(wait) s.", status: .tooManyRequests)
            }
            runNow(.mailbox(account.email))
        default: throw PageError.notFound
        }
        return Self.redirect("/settings?saved=1")
    }
}
