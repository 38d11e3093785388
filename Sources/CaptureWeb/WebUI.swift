public import Foundation
public import GmailCapture
public import Hummingbird
import HTTPTypes
public import Logging
import Mustache
import NIOCore

/// The web UI (`gmail-capture serve` at `/`): server-rendered pages over the same read model and
/// relationship reports as the JSON routes, signed in with a session cookie exchanged for an API token.
///
/// - Every page reads captured mail through `ReadModel` (the visibility rules), as the signed-in teammate.
/// - Pages carry no script (`script-src` is absent from their CSP, so none runs); state-changing forms
///   are POSTs carrying the session's CSRF token in a hidden `csrf` field, refused from other origins.
/// - HTML mail is never put into a page: it is served sanitised from `/messages/{id}/body` as its own
///   document inside an `<iframe sandbox>` (see `MailDocument`).
public struct WebUI: Sendable {
    public struct Options: Sendable {
        /// How long a session lasts (never longer than the token it was opened with).
        public var sessionLifetime: TimeInterval
        /// Mark the cookie `Secure` (also done when a TLS-terminating proxy sends `X-Forwarded-Proto: https`).
        public var secureCookies: Bool
        /// Relationship figures as of this moment instead of now (the demo firm's mail ends in 2024).
        public var relationshipsAsOf: Date?

        public init(sessionLifetime: TimeInterval = 12 * 3600, secureCookies: Bool = false, relationshipsAsOf: Date? = nil) {
            self.sessionLifetime = sessionLifetime
            self.secureCookies = secureCookies
            self.relationshipsAsOf = relationshipsAsOf
        }
    }

    let enabled: Bool
    let database: CaptureDatabase
    let directory: CRMDirectory
    let readModel: ReadModel
    let reports: RelationshipReports
    let attachments: AttachmentStore
    var clock: any CaptureClock
    let runNow: @Sendable (SyncScheduler.Trigger) -> Void
    let logger: Logger
    let options: Options
    var sessions: WebSessions
    let signer: URLSigner
    let templates: MustacheLibrary
    let stylesheet: ByteBuffer
    /// Members' manual syncs, limited as the JSON route limits them.
    let throttle = RunNowThrottle(limit: EmailRoutes.runNowPerMinute, window: 60)

    /// The UI over a runtime (the same pieces `runtime.routes` uses).
    public init(
        runtime: CaptureRuntime, runNow: @escaping @Sendable (SyncScheduler.Trigger) -> Void, options: Options = Options(),
        logger: Logger? = nil
    ) async throws {
        var reports = runtime.relationships
        reports.asOf = options.relationshipsAsOf
        enabled = runtime.gmail != nil
        database = runtime.database
        directory = runtime.directory
        readModel = runtime.readModel
        self.reports = reports
        attachments = AttachmentStore(root: URL(fileURLWithPath: runtime.config.attachmentDirectory))
        clock = runtime.clock
        self.runNow = runNow
        self.logger = logger ?? runtime.logger
        self.options = options
        sessions = WebSessions(
            database: runtime.database, directory: runtime.directory, clock: runtime.clock, lifetime: options.sessionLifetime)
        signer = URLSigner()
        guard let templateDir = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let css = Bundle.module.url(forResource: "Static/app.css", withExtension: nil)
        else { throw ResourceError.missing }
        templates = try await MustacheLibrary(directory: templateDir.path)
        stylesheet = ByteBuffer(bytes: try Data(contentsOf: css))
    }

    enum ResourceError: Error { case missing }

    /// The same UI on another clock (tests: session expiry, signed-URL expiry).
    func with(clock: any CaptureClock) -> WebUI {
        var copy = self
        copy.clock = clock
        copy.sessions = WebSessions(database: database, directory: directory, clock: clock, lifetime: options.sessionLifetime)
        return copy
    }

    /// The UI's routes (mount at the root: `router.addRoutes(web.collection())`).
    public func collection<Context: RequestContext>(_ context: Context.Type = BasicRequestContext.self) -> RouteCollection<Context> {
        let c = RouteCollection(context: Context.self)
        c.get("/", use: { r, _ in try await home(r) })
        c.post("session", use: { r, _ in try await signIn(r) })
        c.post("session/logout", use: form { _, _, s, _ in try await signOut(s) })
        c.get("investors/:id", use: page { r, ctx, s in try await investor(ctx.parameters.get("id"), r, s) })
        c.get("threads/:id", use: page { r, ctx, s in try await thread(ctx.parameters.get("id"), r, s) })
        c.post("threads/:id/sharing", use: form { _, ctx, s, f in try await setThreadSharing(ctx.parameters.get("id"), f, s) })
        c.get("messages/:id/body", use: { r, ctx in try await messageBody(ctx.parameters.get("id"), r) })
        c.get(
            "messages/:id/inline/:part", use: { r, ctx in try await inlineImage(ctx.parameters.get("id"), ctx.parameters.get("part"), r) })
        c.get("attachments/:id", use: page { _, ctx, s in try await attachment(ctx.parameters.get("id"), s) })
        c.get("link", use: { r, _ in try await linkWarning(r) })
        c.get("search", use: page { r, _, s in try await search(r, s) })
        c.get("settings", use: page { r, _, s in try await settings(s, notice: r.uri.queryParameters.get("saved").map { _ in "Saved." }) })
        c.post("settings/sharing", use: form { _, _, s, f in try await setSharingLevel(f, s) })
        c.post("settings/private", use: form { _, _, s, f in try await setMark(f, s) })
        c.post(
            "settings/mailboxes/:id/:action",
            use: form { _, ctx, s, _ in
                try await mailboxAction(ctx.parameters.get("id"), ctx.parameters.get("action"), s)
            })
        c.get("static/app.css", use: { _, _ in stylesheetResponse() })
        return c
    }

    // MARK: - Plumbing

    struct PageError: Error {
        var status: HTTPResponse.Status
        var message: String
        static let notFound = PageError(status: .notFound, message: "There is nothing here, or nothing you may see.")
        static func badRequest(_ m: String) -> PageError { PageError(status: .badRequest, message: m) }
    }

    /// The signed-in teammate of a request, or nil.
    func signedIn(_ request: Request) async throws -> WebSessions.SignedIn? {
        try await sessions.authenticate(cookie: request.cookies[WebSessions.cookieName]?.value)
    }

    /// A GET page for signed-in teammates; signed out, it sends the browser to the sign-in form.
    func page<Context: RequestContext>(
        _ body: @escaping @Sendable (Request, Context, WebSessions.SignedIn) async throws -> Response
    ) -> @Sendable (Request, Context) async throws -> Response {
        { request, context in
            guard enabled else { return message(.serviceUnavailable, "Unavailable", "The Gmail integration is disabled.", nil) }
            do {
                guard let s = try await signedIn(request) else { return Self.redirect("/") }
                do { return try await body(request, context, s) } catch let e as PageError {
                    return message(e.status, e.status == .notFound ? "Not found" : "Cannot do that", e.message, s)
                }
            } catch {
                logger.error("web page failed", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
                return message(.internalServerError, "Something went wrong", "The error was logged.", nil)
            }
        }
    }

    /// A state-changing form POST: signed in, from this origin, with the session's CSRF token.
    func form<Context: RequestContext>(
        _ body: @escaping @Sendable (Request, Context, WebSessions.SignedIn, [String: String]) async throws -> Response
    ) -> @Sendable (Request, Context) async throws -> Response {
        { request, context in
            guard enabled else { return message(.serviceUnavailable, "Unavailable", "The Gmail integration is disabled.", nil) }
            do {
                guard Self.sameOrigin(request) else { return message(.forbidden, "Refused", "This form came from another site.", nil) }
                guard let s = try await signedIn(request) else { return message(.forbidden, "Signed out", "Sign in again.", nil) }
                let fields = try await Self.formFields(request)
                guard WebSessions.sameToken(fields["csrf"], s.csrf) else {
                    logger.warning("web form refused: bad csrf token", metadata: ["path": "\(request.uri.path)"])
                    return message(.forbidden, "Refused", "This form has expired. Reload the page and try again.", s)
                }
                do { return try await body(request, context, s, fields) } catch let e as PageError {
                    return message(e.status, e.status == .notFound ? "Not found" : "Cannot do that", e.message, s)
                }
            } catch {
                logger.error("web form failed", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
                return message(.internalServerError, "Something went wrong", "The error was logged.", nil)
            }
        }
    }

    /// A POST is refused when the browser says it came from another origin (`Origin`, else `Sec-Fetch-Site`).
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) { return false }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    static let maxFormBytes = 64 * 1024

    /// `application/x-www-form-urlencoded` fields (the first of each name).
    static func formFields(_ request: Request) async throws -> [String: String] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxFormBytes) } catch is NIOTooManyBytesError {
            throw PageError(status: .contentTooLarge, message: "The form is too large.")
        }
        var c = URLComponents()
        c.percentEncodedQuery = String(buffer: buffer).replacingOccurrences(of: "+", with: "%20")
        var out: [String: String] = [:]
        for item in c.queryItems ?? [] where out[item.name] == nil { out[item.name] = item.value ?? "" }
        return out
    }

    static let cspName = HTTPField.Name("Content-Security-Policy")!
    static let nosniff = HTTPField.Name("X-Content-Type-Options")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// The headers of every page: no script at all, frames only from this server, no framing by others.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        cspName:
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        nosniff: "nosniff", frameOptions: "DENY", referrerPolicy: "same-origin", .cacheControl: "no-store",
    ]

    func render(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let html = templates.render(model, withTemplate: template) ?? "<!doctype html><title>template \(template) missing</title>"
        var headers = Self.pageHeaders
        for field in extra { headers[field.name] = field.value }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    struct Nav {
        var email: String
        var admin: Bool
        var csrf: String
        init(_ s: WebSessions.SignedIn) {
            email = s.user.email
            admin = s.user.admin
            csrf = s.csrf
        }
    }

    struct MessagePage {
        var nav: Nav?
        var title: String
        var text: String?
        var isError: Bool
    }

    func message(_ status: HTTPResponse.Status, _ title: String, _ text: String, _ s: WebSessions.SignedIn?) -> Response {
        render("message", MessagePage(nav: s.map(Nav.init), title: title, text: text, isError: status.code >= 400), status: status)
    }

    func stylesheetResponse() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", Self.nosniff: "nosniff", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: stylesheet))
    }

    // MARK: - Sign-in

    struct SignInPage {
        var nav: Nav?
        var error: String?
    }

    /// `/`: the sign-in form when signed out, the investors table when signed in.
    func home(_ request: Request) async throws -> Response {
        guard enabled else { return message(.serviceUnavailable, "Unavailable", "The Gmail integration is disabled.", nil) }
        guard let s = try await signedIn(request) else { return render("signin", SignInPage(nav: nil, error: nil)) }
        do { return try await investors(request, s) } catch let e as PageError { return message(e.status, "Cannot do that", e.message, s) }
    }

    func signIn(_ request: Request) async throws -> Response {
        guard enabled else { return message(.serviceUnavailable, "Unavailable", "The Gmail integration is disabled.", nil) }
        guard Self.sameOrigin(request) else { return message(.forbidden, "Refused", "This form came from another site.", nil) }
        let fields: [String: String]
        do { fields = try await Self.formFields(request) } catch let e as PageError { return message(e.status, "Refused", e.message, nil) }
        guard let opened = try await sessions.open(token: fields["token"] ?? "") else {
            logger.info("web sign-in refused")
            return render(
                "signin", SignInPage(nav: nil, error: "That token is not valid (unknown, expired or revoked)."), status: .unauthorized)
        }
        let secure = options.secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        let cookie = Cookie(
            name: WebSessions.cookieName, value: opened.secret, expires: opened.expires, path: "/", secure: secure, httpOnly: true,
            sameSite: .strict)
        return Self.redirect("/", headers: [.setCookie: cookie.description])
    }

    func signOut(_ s: WebSessions.SignedIn) async throws -> Response {
        try await sessions.close(s)
        let gone = Cookie(name: WebSessions.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict)
        return Self.redirect("/", headers: [.setCookie: gone.description])
    }

    var viewerOf: @Sendable (WebSessions.SignedIn) -> Viewer { { .teammate($0.user.email) } }
}
