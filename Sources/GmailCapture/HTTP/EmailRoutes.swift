package import Foundation
import CaptureParsing
public import Hummingbird
import NIOCore
import HTTPTypes
public import Logging

/// The `/api/email/*` routes as a Hummingbird route collection any Hummingbird app can mount
/// (`router.addRoutes(routes.collection(), atPath: "/api/email")`). Every route is authenticated;
/// admin routes check the role; errors are JSON (`{"error": {"code", "message"}}`), bad input is a
/// 400, unknown ids a 404; when the integration is disabled every route answers 503.
public struct EmailRoutes: Sendable {
    public var enabled: Bool
    public let database: CaptureDatabase
    public let directory: CRMDirectory
    /// Every read of captured mail goes through it.
    public let readModel: ReadModel
    /// Relationship figures (with the configured blocklist for suggestions); default: built over `readModel`.
    let reports: RelationshipReports?
    public let authenticator: any RequestAuthenticator
    public let attachments: AttachmentStore
    public let oauth: OAuthTokenProvider?
    public let workspaceDomain: String?
    public let clock: any CaptureClock
    public let runNow: @Sendable (SyncScheduler.Trigger) -> Void
    public let logger: Logger
    /// Reported per mailbox by `status` (`push.mode`).
    public var pushMode: CaptureConfig.PushMode
    /// Manual sync triggers per member per minute; more answer 429 with Retry-After.
    public static let runNowPerMinute = 5
    /// Request bodies larger than this answer 413.
    public static let maxBodyBytes = 1 << 20
    let throttle: RunNowThrottle

    /// - Parameter readModel: the visibility rules every read goes through (default: the firm defaults, metadata for
    ///   teammates, internal mail private on `workspaceDomain`).
    public init(
        enabled: Bool, database: CaptureDatabase, directory: CRMDirectory, readModel: ReadModel? = nil,
        relationships: RelationshipReports? = nil,
        authenticator: any RequestAuthenticator,
        attachments: AttachmentStore, oauth: OAuthTokenProvider?, workspaceDomain: String?, clock: any CaptureClock,
        runNow: @escaping @Sendable (SyncScheduler.Trigger) -> Void,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() }),
        pushMode: CaptureConfig.PushMode = .off
    ) {
        self.enabled = enabled
        self.pushMode = pushMode
        self.database = database
        reports = relationships
        self.readModel =
            readModel ?? ReadModel(database: database, policy: VisibilityPolicy(workspaceDomain: workspaceDomain), clock: clock)
        self.directory = directory
        self.authenticator = authenticator
        self.attachments = attachments
        self.oauth = oauth
        self.workspaceDomain = workspaceDomain
        self.clock = clock
        self.runNow = runNow
        self.logger = logger
        throttle = RunNowThrottle(limit: Self.runNowPerMinute, window: 60)
    }

    struct RouteError: Error {
        var status: HTTPResponse.Status
        var message: String
        static func badRequest(_ m: String) -> RouteError { RouteError(status: .badRequest, message: m) }
        static func notFound(_ m: String) -> RouteError { RouteError(status: .notFound, message: m) }
        static let forbidden = RouteError(status: .forbidden, message: "this needs an admin, or the mailbox's owner")
        static let tooLarge = RouteError(
            status: .contentTooLarge, message: "the request body is larger than \(EmailRoutes.maxBodyBytes) bytes")
        // Authorization before existence: what a caller may not see answers exactly like what does not exist.
        static let noThread = RouteError(status: .notFound, message: "no such thread")
        static let noAttachment = RouteError(status: .notFound, message: "no such attachment")
        static let noAccount = RouteError(status: .notFound, message: "no such account")
        static let noMailbox = RouteError(status: .notFound, message: "no such enrolled mailbox")
    }

    public func collection<Context: RequestContext>(_ context: Context.Type = BasicRequestContext.self) -> RouteCollection<Context> {
        let c = RouteCollection(context: Context.self)
        c.get("status", use: guarded { r, _, u in try await status(u) })
        c.get("accounts", use: guarded { _, _, u in try await accounts(u) })
        c.post("accounts/enroll", use: guarded { r, _, u in try await enroll(r, u) })
        c.post("accounts/enroll-all", use: guarded(admin: true) { _, _, _ in try await enrollAll() })
        c.post("accounts/:id/pause", use: guarded { _, ctx, u in try await setEnabled(ctx.parameters.get("id"), false, u) })
        c.post("accounts/:id/resume", use: guarded { _, ctx, u in try await setEnabled(ctx.parameters.get("id"), true, u) })
        c.get("threads", use: guarded { r, _, u in try await threads(r, u) })
        c.get("threads/:id", use: guarded { _, ctx, u in try await thread(ctx.parameters.get("id"), u) })
        c.get("search", use: guarded { r, _, u in try await search(r, u) })
        c.put("threads/:id/sharing", use: guarded { r, ctx, u in try await setThreadSharing(ctx.parameters.get("id"), r, u) })
        c.get("me/sharing", use: guarded { _, _, u in try await mySharing(u) })
        c.put("me/sharing", use: guarded { r, _, u in try await setMySharing(r, u) })
        c.put("privacy/addresses", use: guarded { r, _, u in try await setAddressPrivacy(r, u) })
        c.get("access-log", use: guarded { r, _, u in try await accessLog(r, u) })
        c.get("investors", use: guarded { _, _, u in try Self.json(try await relationships.investors(for: viewer(u))) })
        c.get("investors/cold", use: guarded { r, _, u in try await coldInvestors(r, u) })
        c.get("investors/:id", use: guarded { r, ctx, u in try await investor(ctx.parameters.get("id"), r, u) })
        c.get("who-knows", use: guarded { r, _, u in try await whoKnows(r, u) })
        c.get("contacts/suggestions", use: guarded { _, _, u in try Self.json(try await relationships.suggestions(for: viewer(u))) })
        c.get("attachments/:id", use: guarded { _, ctx, u in try await attachment(ctx.parameters.get("id"), u) })
        c.post("sync/run-now", use: guarded { r, _, u in try await syncNow(r, u) })
        c.post("rematch", use: guarded(admin: true) { _, _, _ in try await rematch() })
        c.get("oauth/start", use: guarded { _, _, u in try await oauthStart(u) })
        c.get("oauth/callback", use: unauthenticated { r, _ in try await oauthCallback(r) })
        return c
    }

    // MARK: - Plumbing

    func guarded<Context: RequestContext>(
        admin: Bool = false, _ body: @escaping @Sendable (Request, Context, AuthenticatedUser) async throws -> Response
    )
        -> @Sendable (Request, Context) async throws -> Response
    {
        { request, context in
            guard enabled else {
                return Self.error(.serviceUnavailable, "the Gmail integration is disabled (CRM_GMAIL_INTEGRATION_ENABLED)")
            }
            do {
                guard let user = try await authenticator.authenticate(authorization: request.headers[.authorization]) else {
                    return Self.error(.unauthorized, "a valid bearer token is required")
                }
                if admin && !user.admin { return Self.error(.forbidden, "admin only") }
                return try await body(request, context, user)
            } catch let e as RouteError {
                return Self.error(e.status, e.message)
            } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
                return Self.error(.contentTooLarge, RouteError.tooLarge.message)
            } catch {
                logger.error("email route failed", metadata: ["error.type": "\(type(of: error))"])
                return Self.error(.internalServerError, "internal error")
            }
        }
    }

    func unauthenticated<Context: RequestContext>(
        _ body: @escaping @Sendable (Request, Context) async throws -> Response
    )
        -> @Sendable (Request, Context) async throws -> Response
    {
        { request, context in
            guard enabled else {
                return Self.error(.serviceUnavailable, "the Gmail integration is disabled (CRM_GMAIL_INTEGRATION_ENABLED)")
            }
            do { return try await body(request, context) } catch let e as RouteError { return Self.error(e.status, e.message) } catch {
                return Self.error(.internalServerError, "internal error")
            }
        }
    }

    static let nosniff = HTTPField.Name("X-Content-Type-Options")!

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", nosniff: "nosniff"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try e.encode(value))))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        struct Body: Encodable { struct E: Encodable { var code: Int; var message: String }; var error: E }
        return (try? json(Body(error: .init(code: status.code, message: message)), status: status, headers: headers))
            ?? Response(status: status)
    }

    static func body<T: Decodable>(_ request: Request, as: T.Type) async throws -> T? {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxBodyBytes) } catch is NIOTooManyBytesError { throw RouteError.tooLarge }
        if buffer.readableBytes == 0 { return nil }
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw RouteError.badRequest("the body is not valid JSON for this route")
        }
    }

    /// An account the caller may act on; anything else (another's, or none) is the same 404.
    func visibleAccount(_ id: Int64, _ user: AuthenticatedUser) async throws -> CaptureDatabase.Account {
        guard let a = try await database.accounts().first(where: { $0.id == id }),
            user.admin || a.email.caseInsensitiveCompare(user.email) == .orderedSame
        else { throw RouteError.noAccount }
        return a
    }

    /// Who reads: every caller, admins included, reads by the visibility rules (admin is an operational role).
    func viewer(_ user: AuthenticatedUser) -> Viewer { .teammate(user.email) }

    // MARK: - Handlers

    struct AccountJSON: Encodable {
        var id: Int64
        var email: String
        var userId: String?
        var authMethod: String
        var enabled: Bool
        var state: SyncState
        var stateReason: String?
        init(_ a: CaptureDatabase.Account) {
            id = a.id; email = a.email; userId = a.userId; authMethod = a.authMethod; enabled = a.enabled; state = a.syncState;
            stateReason = a.stateReason
        }
    }

    func status(_ user: AuthenticatedUser) async throws -> Response {
        struct Row: Encodable {
            var mailbox: CaptureDatabase.MailboxStatus
            var lagSeconds: Int?
            var push: PushStatus
        }
        struct Out: Encodable { var health: String; var mailboxes: [Row] }
        let now = clock.now()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let rows = try await database.statusReport(pushMode: pushMode).filter {
            user.admin || $0.status.email.caseInsensitiveCompare(user.email) == .orderedSame
        }.map { report in
            let s = report.status
            return Row(
                mailbox: s,
                lagSeconds: s.lastSuccessAt.flatMap { iso.date(from: $0) ?? ISO8601DateFormatter().date(from: $0) }.map {
                    Int(now.timeIntervalSince($0))
                }, push: report.push)
        }
        let bad = rows.contains { $0.mailbox.state.isDegraded || $0.mailbox.parkedItems > 0 }
        return try Self.json(Out(health: rows.isEmpty ? "no mailboxes" : bad ? "degraded" : "ok", mailboxes: rows))
    }

    func accounts(_ user: AuthenticatedUser) async throws -> Response {
        try Self.json(
            try await database.accounts().filter { user.admin || $0.email.caseInsensitiveCompare(user.email) == .orderedSame }.map(
                AccountJSON.init))
    }

    func enroll(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        struct In: Decodable { var email: String? }
        let email = try await Self.body(request, as: In.self)?.email ?? user.email
        guard AddressNormalizer.canonical(email) != nil else { throw RouteError.badRequest("\"\(email)\" is not an email address") }
        guard user.admin || email.caseInsensitiveCompare(user.email) == .orderedSame else { throw RouteError.forbidden }
        let owner = try await directory.users().first { $0.email.caseInsensitiveCompare(email) == .orderedSame }
        let a = try await database.upsertAccount(email: email, userId: owner?.id, authMethod: oauth == nil ? "dwd" : "oauth")
        return try Self.json(AccountJSON(a), status: .created)
    }

    func enrollAll() async throws -> Response {
        guard let domain = workspaceDomain else { throw RouteError.badRequest("CRM_GMAIL_WORKSPACE_DOMAIN is not set") }
        var out: [AccountJSON] = []
        for u in try await directory.users() where u.active && u.email.lowercased().hasSuffix("@" + domain) {
            out.append(AccountJSON(try await database.upsertAccount(email: u.email, userId: u.id)))
        }
        return try Self.json(out)
    }

    func setEnabled(_ idText: String?, _ enabled: Bool, _ user: AuthenticatedUser) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw RouteError.badRequest("account id must be a number") }
        let a = try await visibleAccount(id, user)
        try await database.setEnabled(accountId: a.id, enabled)
        return try Self.json(AccountJSON(try await database.account(email: a.email)!))
    }

    func threads(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        let q = request.uri.queryParameters
        func int(_ k: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = q.get(k) else { return d }
            guard let n = Int(v), range.contains(n) else {
                throw RouteError.badRequest("\(k) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        func date(_ k: String) throws -> String? {
            guard let v = q.get(k) else { return nil }
            let f = ISO8601DateFormatter()
            if f.date(from: v) != nil { return v }
            if v.count == 10, f.date(from: v + "T00:00:00Z") != nil { return v + "T00:00:00Z" }
            throw RouteError.badRequest("\(k) must be an ISO 8601 date (2024-03-05 or 2024-03-05T17:04:00Z)")
        }
        let limit = try int("limit", 50, 1...200), offset = try int("offset", 0, 0...1_000_000)
        let rows = try await readModel.threads(
            for: viewer(user), investor: q.get("investor"), mailbox: q.get("account"), text: q.get("text"),
            before: try date("before"), after: try date("after"), limit: limit, offset: offset)
        struct Out: Encodable { var threads: [CaptureDatabase.ThreadSummary]; var limit: Int; var offset: Int; var nextOffset: Int? }
        return try Self.json(Out(threads: rows, limit: limit, offset: offset, nextOffset: rows.count == limit ? offset + limit : nil))
    }

    /// `?q=&limit=&cursor=`: threads matching the query as the caller may see them (README "Search").
    func search(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        let q = request.uri.queryParameters
        guard let text = q.get("q"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RouteError.badRequest("q is required: words, \"phrases\" or operators such as from:, investor:, after:")
        }
        var limit = 20
        if let raw = q.get("limit") {
            guard let n = Int(raw), (1...100).contains(n) else { throw RouteError.badRequest("limit must be an integer in 1...100") }
            limit = n
        }
        do {
            return try Self.json(
                try await readModel.search(text, for: viewer(user), limit: limit, cursor: q.get("cursor"), surface: .api))
        } catch let e as SearchQueryError {
            throw RouteError.badRequest(e.description)
        }
    }

    /// A thread as the caller may see it (thread membership alone grants nothing); one with nothing
    /// visible answers exactly like one that does not exist.
    func thread(_ idText: String?, _ user: AuthenticatedUser) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw RouteError.badRequest("thread id must be a number") }
        guard let found = try await readModel.thread(id: id, for: viewer(user), surface: .api) else { throw RouteError.noThread }
        struct Out: Encodable { var thread: CaptureDatabase.ThreadSummary; var messages: [CaptureDatabase.ThreadMessage] }
        return try Self.json(Out(thread: found.thread, messages: found.messages))
    }

    // MARK: - Relationships

    var relationships: RelationshipReports {
        reports ?? RelationshipReports(readModel: readModel, directory: directory, clock: clock)
    }

    static func intParameter(_ q: Request, _ k: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let v = q.uri.queryParameters.get(k) else { return d }
        guard let n = Int(v), range.contains(n) else {
            throw RouteError.badRequest("\(k) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    func coldInvestors(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        let minimum = try Self.intParameter(request, "minInteractions", 5, 1...1_000_000)
        let days = try Self.intParameter(request, "days", 90, 1...36_500)
        return try Self.json(try await relationships.cold(for: viewer(user), minInteractions: minimum, days: days))
    }

    func investor(_ id: String?, _ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        guard let id, !id.isEmpty else { throw RouteError.badRequest("an investor id is required") }
        let limit = try Self.intParameter(request, "limit", 50, 1...500),
            offset = try Self.intParameter(request, "offset", 0, 0...10_000_000)
        guard let timeline = try await relationships.timeline(investorId: id, for: viewer(user), limit: limit, offset: offset) else {
            throw RouteError.notFound("no such investor")
        }
        let name = try await directory.investors().first { $0.id == id }?.name ?? id
        let figures =
            try await relationships.investors(for: viewer(user), investor: id).first
            ?? RelationshipReports.InvestorRelationship(
                investorId: id, name: name, firstContactAt: nil, lastContactAt: nil, lastContactBy: nil, lastInboundAt: nil,
                lastOutboundAt: nil,
                messagesIn: 0, messagesOut: 0, threads: 0, strength: 0, grade: .veryWeak, teammates: [], interactions: 0,
                replies: .init(RelationshipFigures()))
        struct Out: Encodable {
            var investor: RelationshipReports.InvestorRelationship
            var timeline: [RelationshipReports.TimelineItem]
            var limit: Int
            var offset: Int
            var nextOffset: Int?
            enum CodingKeys: String, CodingKey { case investor, timeline, limit, offset, nextOffset }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(investor, forKey: .investor)
                try c.encode(timeline, forKey: .timeline)
                try c.encode(limit, forKey: .limit)
                try c.encode(offset, forKey: .offset)
                try c.encode(nextOffset, forKey: .nextOffset)
            }
        }
        return try Self.json(
            Out(
                investor: figures, timeline: timeline, limit: limit, offset: offset,
                nextOffset: timeline.count == limit ? offset + limit : nil))
    }

    func whoKnows(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        guard let q = request.uri.queryParameters.get("q"), !q.isEmpty else {
            throw RouteError.badRequest("q (an address or a domain) is required")
        }
        do { return try Self.json(try await relationships.whoKnows(q, for: viewer(user))) } catch let e as RelationshipReports.QueryError {
            throw RouteError.badRequest(e.description)
        }
    }

    // MARK: - Sharing and privacy

    func mySharing(_ user: AuthenticatedUser) async throws -> Response {
        try Self.json(["level": try await readModel.sharingLevel(of: user.email).rawValue])
    }

    func setMySharing(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        struct In: Decodable { var level: String }
        guard let raw = try await Self.body(request, as: In.self)?.level, let level = SharingLevel(rawValue: raw) else {
            throw RouteError.badRequest("level must be metadata, subject or full")
        }
        do { try await readModel.setSharingLevel(level, for: user.email) } catch let e as ReadModel.SettingError {
            throw RouteError.badRequest(e.description)
        }
        return try Self.json(["level": try await readModel.sharingLevel(of: user.email).rawValue])
    }

    func setThreadSharing(_ idText: String?, _ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw RouteError.badRequest("thread id must be a number") }
        struct In: Decodable { var mode: String }
        guard let raw = try await Self.body(request, as: In.self)?.mode, let mode = PrivacyMode(rawValue: raw) else {
            throw RouteError.badRequest("mode must be private, shared or default")
        }
        guard try await readModel.markThread(id, owner: user.email, mode: mode) else { throw RouteError.noThread }
        struct Out: Encodable { var thread: Int64; var mode: String }
        return try Self.json(Out(thread: id, mode: mode.rawValue))
    }

    func setAddressPrivacy(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        struct In: Decodable { var address: String?; var domain: String?; var mode: String }
        guard let body = try await Self.body(request, as: In.self), let mode = PrivacyMode(rawValue: body.mode),
            (body.address == nil) != (body.domain == nil)
        else { throw RouteError.badRequest("the body is {\"address\" or \"domain\", \"mode\": private, shared or default}") }
        do {
            if let a = body.address { try await readModel.markAddress(a, owner: user.email, mode: mode) }
            if let d = body.domain { try await readModel.markDomain(d, owner: user.email, mode: mode) }
        } catch let e as ReadModel.SettingError {
            throw RouteError.badRequest(e.description)
        }
        var out = ["mode": mode.rawValue]
        if let a = body.address { out["address"] = a }
        if let d = body.domain { out["domain"] = d }
        return try Self.json(out)
    }

    /// The access log: admins see every entry (filters `viewer`, `owner`); a teammate sees the reads of
    /// their own messages.
    func accessLog(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        let q = request.uri.queryParameters
        let owner = user.admin ? q.get("owner") : user.email
        if !user.admin, let o = q.get("owner"), o.caseInsensitiveCompare(user.email) != .orderedSame { throw RouteError.forbidden }
        return try Self.json(try await readModel.accessLog(viewer: q.get("viewer"), owner: owner))
    }

    /// Types a browser may show inline without risk; everything else is served as octet-stream.
    static let inertTypes: Set<String> = [
        "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "text/plain", "text/csv",
        "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/rtf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    ]

    /// The Content-Type an attachment is served with: its stored type when inert, else octet-stream.
    package static func servedType(_ stored: String) -> String {
        let base = stored.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return inertTypes.contains(base) ? base : "application/octet-stream"
    }

    /// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 / RFC 8187):
    /// the fallback keeps printable ASCII with `"` and `\` escaped, and the encoded form escapes all but
    /// RFC 8187's attr-chars, so no filename can end the header value or add a parameter.
    package static func contentDisposition(filename: String?) -> String {
        let name = (filename ?? "").isEmpty ? "attachment" : filename!
        var fallback = ""
        for u in name.unicodeScalars {
            switch u {
            case "\"", "\\": fallback += "\\" + String(u)
            case _ where u.isASCII && u.value >= 0x20 && u.value != 0x7F: fallback.unicodeScalars.append(u)
            default: fallback += "_"
            }
        }
        let attrChars = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~".utf8)
        let encoded = name.utf8.map { attrChars.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }

    func attachment(_ idText: String?, _ user: AuthenticatedUser) async throws -> Response {
        guard let t = idText, let id = Int64(t) else { throw RouteError.badRequest("attachment id must be a number") }
        guard let row = try await readModel.attachment(id: id, for: viewer(user)) else { throw RouteError.noAttachment }
        guard row.state == .stored, let sha = row.sha256 else {
            throw RouteError.notFound("this attachment is \(row.state.rawValue), not stored yet")
        }
        let bytes = try attachments.get(sha256: sha)
        return Response(
            status: .ok,
            headers: [
                .contentType: Self.servedType(row.mimeType),
                .contentDisposition: Self.contentDisposition(filename: row.filename),
                Self.nosniff: "nosniff",
                .contentSecurityPolicy: "sandbox",
            ], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Queues a sync (202 at once). The scheduler coalesces triggers per mailbox; a member may trigger
    /// `runNowPerMinute` times a minute, then gets 429 with Retry-After.
    func syncNow(_ request: Request, _ user: AuthenticatedUser) async throws -> Response {
        struct In: Decodable { var account: String? }
        let account = try await Self.body(request, as: In.self)?.account
        if !user.admin, let wait = await throttle.admit(user.id, now: clock.now()) {
            return Self.error(.tooManyRequests, "too many manual syncs; try again in \(wait) s", headers: [.retryAfter: String(wait)])
        }
        if let a = account {
            guard user.admin || a.caseInsensitiveCompare(user.email) == .orderedSame, let acc = try await database.account(email: a) else {
                throw RouteError.noMailbox
            }
            runNow(.mailbox(acc.email))
            return try Self.json(["queued": acc.email], status: .accepted)
        }
        guard user.admin else {
            guard try await database.account(email: user.email) != nil else { throw RouteError.noMailbox }
            runNow(.mailbox(user.email))
            return try Self.json(["queued": user.email], status: .accepted)
        }
        runNow(.all)
        return try Self.json(["queued": "all"], status: .accepted)
    }

    func rematch() async throws -> Response {
        let r = try await directory.rematch(workspaceDomain: workspaceDomain)
        return try Self.json(["emails": r.emails, "links": r.links])
    }

    func oauthStart(_ user: AuthenticatedUser) async throws -> Response {
        guard let oauth else { throw RouteError.badRequest("CRM_GMAIL_AUTH_METHOD is dwd; the OAuth consent flow is off") }
        let url = try await oauth.startConsent(userId: user.id, mailbox: user.email)
        return Response(status: .found, headers: [.location: url])
    }

    func oauthCallback(_ request: Request) async throws -> Response {
        guard let oauth else { throw RouteError.badRequest("CRM_GMAIL_AUTH_METHOD is dwd; the OAuth consent flow is off") }
        let q = request.uri.queryParameters
        if let e = q.get("error") { throw RouteError.badRequest("consent was not given: \(e)") }
        guard let code = q.get("code"), let state = q.get("state") else { throw RouteError.badRequest("code and state are required") }
        let userId: String
        do {
            userId = try OAuthStateSigner.peekUser(state)
        } catch { throw RouteError.badRequest("invalid state") }
        guard let user = try await directory.users().first(where: { $0.id == userId }) else { throw RouteError.badRequest("invalid state") }
        do {
            try await oauth.completeConsent(code: code, state: state, mailbox: user.email, expectedUser: user.id)
        } catch let f as OAuthStateSigner.Failure {
            throw RouteError.badRequest(f == .expired ? "the consent link has expired; start again" : "invalid state")
        } catch let f as OAuthTokenProvider.ConsentFailure {
            throw RouteError.badRequest(f.description)
        } catch let e as GmailAPIError {
            throw RouteError.badRequest("Google refused the code: \(e.reason ?? "error")")
        }
        let a = try await database.upsertAccount(email: user.email, userId: user.id, authMethod: "oauth")
        return try Self.json(AccountJSON(a))
    }
}

/// Counts manual sync triggers per user in a sliding window.
package actor RunNowThrottle {
    let limit: Int
    let window: TimeInterval
    var recent: [String: [Date]] = [:]

    package init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// nil when admitted (and counted); otherwise the whole seconds until the next trigger is admitted.
    package func admit(_ user: String, now: Date) -> Int? {
        var times = (recent[user] ?? []).filter { now.timeIntervalSince($0) < window }
        defer { recent[user] = times.isEmpty ? nil : times }
        guard times.count < limit else { return max(1, Int((window - now.timeIntervalSince(times[0])).rounded(.up))) }
        times.append(now)
        return nil
    }
}
