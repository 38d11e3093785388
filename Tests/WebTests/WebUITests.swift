@testable import CaptureWeb
import Foundation
import FakeGmailBridge
@testable import GmailCapture
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The web UI in process (Hummingbird's router test client): sign-in and sessions, CSRF, each page
/// through the read model as the signed-in teammate, and the sandboxed HTML body with its signed
/// inline-image and link routes. The real-browser run is `BrowserTests`.
@Suite struct WebUITests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func signedOutSeesTheSignInFormAndNoData() async throws {
        let firm = try await WebFirm.get()
        try await firm.app(try await firm.web()).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("<form method=\"post\" action=\"/session\">"))
                #expect(r.text.contains("name=\"token\""))
                #expect(!r.text.contains("data-investor-id"))
                #expect(r.headers[WebUI.cspName]?.hasPrefix("default-src 'none'") == true)
            }
            for path in ["/threads/\(firm.hostileThread)", "/investors/inv-lumenridge-0", "/search?q=term", "/settings"] {
                try await client.execute(uri: path, method: .get) { r in
                    #expect(r.status == .seeOther, "\(path)")
                    #expect(r.headers[.location] == "/")
                }
            }
            try await client.execute(uri: "/messages/\(firm.hostileEmail)/body", method: .get) { r in #expect(r.status == .notFound) }
        }
    }

    @Test func aTokenOpensAnHttpOnlyStrictSessionAndABadOneDoesNot() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.kim)
        try await firm.app(try await firm.web()).test(.router) { client in
            try await client.execute(uri: "/session", method: .post, headers: Self.form, body: ByteBuffer(string: "token=gct_nope")) { r in
                #expect(r.status == .unauthorized)
                #expect(r.text.contains("class=\"error\""))
                #expect(r.sessionCookie == nil)
            }
            try await client.execute(uri: "/session", method: .post, headers: Self.form, body: ByteBuffer(string: "token=\(token)")) { r in
                #expect(r.status == .seeOther)
                let set = try #require(r.headers[.setCookie])
                #expect(set.contains("HttpOnly"))
                #expect(set.contains("SameSite=Strict"))
                #expect(set.contains("Path=/"))
                #expect(!set.contains("Secure"))
                // The secret is not the token, and only its hash is stored.
                let secret = try #require(r.sessionCookie)
                #expect(secret != token)
                let stored = try await firm.runtime.database.writer.read { db in
                    try String.fetchAll(db, sql: "SELECT session_sha256 FROM email_web_sessions")
                }
                #expect(!stored.contains(secret))
                #expect(stored.contains(WebSessions.hash(secret)))
            }
            // Behind a TLS proxy the cookie is Secure.
            try await client.execute(
                uri: "/session", method: .post, headers: Self.form + [HTTPField.Name("X-Forwarded-Proto")!: "https"],
                body: ByteBuffer(string: "token=\(token)")
            ) { r in #expect(r.headers[.setCookie]?.contains("Secure") == true) }
            // A sign-in posted from another site is refused.
            try await client.execute(
                uri: "/session", method: .post, headers: Self.form + [.origin: "http://evil.example"],
                body: ByteBuffer(string: "token=\(token)")
            ) { r in #expect(r.status == .forbidden) }
        }
    }

    @Test func signOutAndTokenRevocationEndTheSession() async throws {
        let firm = try await WebFirm.get()
        let auth = APITokenAuthenticator(directory: firm.runtime.directory, clock: firm.clock)
        let issued = try await auth.issue(forUserEmail: WebFirm.lee)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: issued.token)
            let csrf = try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                return try #require(csrfToken(in: r.text))
            }
            // Sign-out without the CSRF token is refused and changes nothing.
            try await client.execute(
                uri: "/session/logout", method: .post, headers: Self.form + [.cookie: cookie], body: ByteBuffer(string: "csrf=wrong")
            ) { r in #expect(r.status == .forbidden) }
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .ok) }
            try await client.execute(
                uri: "/session/logout", method: .post, headers: Self.form + [.cookie: cookie], body: ByteBuffer(string: "csrf=\(csrf)")
            ) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            // The old cookie no longer signs anyone in.
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.text.contains("action=\"/session\""))
                #expect(!r.text.contains("data-investor-id"))
            }
            // Revoking the API token ends the sessions opened with it.
            let second = try await signIn(client, token: issued.token)
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: second]) { r in #expect(r.status == .ok) }
            #expect(try await auth.revoke(id: issued.id))
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: second]) { r in #expect(r.status == .seeOther) }
        }
    }

    @Test func sessionsExpire() async throws {
        let firm = try await WebFirm.get()
        let clock = ManualWebClock(firm.clock.now())
        let token = try await APITokenAuthenticator(directory: firm.runtime.directory, clock: clock).issue(forUserEmail: WebFirm.pat).token
        var web = try await firm.web(options: .init(sessionLifetime: 3600))
        web = web.with(clock: clock)
        try await firm.app(web).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .ok) }
            clock.advance(3_599)
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .ok) }
            clock.advance(2)
            try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .seeOther) }
        }
    }

    @Test func investorsTableSortsAndHasTheColdAndSuggestedTabs() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.alex)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            let expected = try await firm.runtime.relationships.with(asOf: Date(timeIntervalSince1970: 1_735_000_000)).investors(
                for: .teammate(WebFirm.alex))
            #expect(!expected.isEmpty)
            try await client.execute(uri: "/?sort=name", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                let ids = attributeValues("data-investor-id", in: r.text)
                #expect(Set(ids) == Set(expected.map(\.investorId)))
                let byName = expected.sorted { ($0.name.lowercased(), $0.investorId) < ($1.name.lowercased(), $1.investorId) }.map(
                    \.investorId)
                #expect(ids == byName)
                #expect(r.text.contains("table id=\"investors\""))
            }
            try await client.execute(uri: "/?sort=strength", method: .get, headers: [.cookie: cookie]) { r in
                let ids = attributeValues("data-investor-id", in: r.text)
                let strengths = ids.compactMap { id in expected.first { $0.investorId == id }?.strength }
                #expect(strengths == strengths.sorted(by: >))
                // The strongest relationship's grade and last contact by are shown.
                let top = try #require(expected.max { $0.strength < $1.strength })
                #expect(r.text.contains(top.grade.rawValue))
                if let by = top.lastContactBy { #expect(r.text.contains(by)) }
            }
            try await client.execute(uri: "/?tab=cold", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("id=\"cold\""))
            }
            try await client.execute(uri: "/?tab=suggested", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("id=\"suggestions\""))
            }
            try await client.execute(uri: "/?sort=bogus", method: .get, headers: [.cookie: cookie]) { r in #expect(r.status == .badRequest)
            }
        }
    }

    @Test func investorPageShowsFiguresTeammatesAndAPaginatedTimeline() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.alex)
        let reports = firm.runtime.relationships.with(asOf: Date(timeIntervalSince1970: 1_735_000_000))
        let figures = try await reports.investors(for: .teammate(WebFirm.alex))
        let busiest = try #require(figures.max { $0.messagesIn + $0.messagesOut < $1.messagesIn + $1.messagesOut })
        let all = try #require(
            try await reports.timeline(investorId: busiest.investorId, for: .teammate(WebFirm.alex), limit: 10_000, offset: 0))
        let one = try #require(try await reports.investors(for: .teammate(WebFirm.alex), investor: busiest.investorId).first)
        #expect(one.replies?.theirMedianSeconds != nil && one.replies?.ourMedianSeconds != nil)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            var seen: [String] = []
            var offset = 0
            for _ in 0..<100 {
                let next = try await client.execute(
                    uri: "/investors/\(busiest.investorId)?offset=\(offset)", method: .get, headers: [.cookie: cookie]
                ) { r -> Int? in
                    #expect(r.status == .ok)
                    #expect(r.text.contains("id=\"figures\""))
                    // The reply-time medians of the single-investor read, formatted.
                    #expect(r.text.contains("id=\"their-reply\">\(WebUI.duration(one.replies?.theirMedianSeconds))<"))
                    #expect(r.text.contains("id=\"our-reply\">\(WebUI.duration(one.replies?.ourMedianSeconds))<"))
                    #expect(r.text.contains("id=\"teammates\""))
                    seen += hrefs(prefix: "/threads/", in: r.text.components(separatedBy: "id=\"timeline\"").last ?? "")
                    return r.text.range(of: "rel=\"next\" href=\"/investors/\(busiest.investorId)?offset=").map { range in
                        Int(r.text[range.upperBound...].prefix { $0.isNumber })!
                    }
                }
                guard let n = next else { break }
                offset = n
            }
            #expect(seen == all.map { "/threads/\($0.threadId)" })
            try await client.execute(uri: "/investors/no-such-investor", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func threadPageMasksOtherTeammatesMailAndASharingChangeOpensIt() async throws {
        let firm = try await WebFirm.get()
        let rm = firm.runtime.readModel
        // A thread only sam's mailbox holds, with a text body.
        let samOnly = try await rm.threads(for: .operator, mailbox: WebFirm.sam, limit: 500).first { $0.mailboxes == [WebFirm.sam] }
        let thread = try #require(samOnly)
        let full = try #require(try await rm.thread(id: thread.id, for: .operator, surface: .cli))
        let body = try #require(full.messages.first { ($0.textBody ?? "").count > 20 && $0.htmlBody == nil }?.textBody)
        let kimToken = try await firm.token(WebFirm.kim), samToken = try await firm.token(WebFirm.sam)
        try await firm.app(try await firm.web()).test(.router) { client in
            let kim = try await signIn(client, token: kimToken)
            let sam = try await signIn(client, token: samToken)
            try await client.execute(uri: "/threads/\(thread.id)", method: .get, headers: [.cookie: kim]) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("data-visibility=\"metadata\""))
                #expect(r.text.contains("class=\"lock\""))
                #expect(!r.text.contains(escapeHTML(String(body.prefix(20)))))
                #expect(!r.text.contains("class=\"sharing\""), "kim owns nothing here: no share control")
            }
            // sam shares the thread from the thread page (CSRF-checked).
            let csrf = try await client.execute(uri: "/threads/\(thread.id)", method: .get, headers: [.cookie: sam]) { r in
                #expect(r.text.contains("class=\"sharing\""))
                #expect(r.text.contains("data-visibility=\"full\""))
                return try #require(csrfToken(in: r.text))
            }
            try await client.execute(
                uri: "/threads/\(thread.id)/sharing", method: .post, headers: Self.form + [.cookie: sam],
                body: ByteBuffer(string: "mode=shared")
            ) { r in #expect(r.status == .forbidden) }
            try await client.execute(
                uri: "/threads/\(thread.id)/sharing", method: .post, headers: Self.form + [.cookie: sam],
                body: ByteBuffer(string: "csrf=\(csrf)&mode=shared")
            ) { r in #expect(r.status == .seeOther) }
            try await client.execute(uri: "/threads/\(thread.id)", method: .get, headers: [.cookie: kim]) { r in
                #expect(r.text.contains("data-visibility=\"full\""))
                #expect(r.text.contains(escapeHTML(String(body.prefix(20)))))
            }
            let log = try await rm.accessLog(viewer: WebFirm.kim, owner: WebFirm.sam)
            #expect(log.contains { $0.surface == .ui && $0.level == .full })
            // Private hides it from kim entirely, like a thread that does not exist.
            try await client.execute(
                uri: "/threads/\(thread.id)/sharing", method: .post, headers: Self.form + [.cookie: sam],
                body: ByteBuffer(string: "csrf=\(csrf)&mode=private")
            ) { r in #expect(r.status == .seeOther) }
            let hidden = try await client.execute(uri: "/threads/\(thread.id)", method: .get, headers: [.cookie: kim]) { r in r.text }
            let missing = try await client.execute(uri: "/threads/999999999", method: .get, headers: [.cookie: kim]) { r in
                #expect(r.status == .notFound)
                return r.text
            }
            #expect(hidden == missing)
            _ = try await rm.markThread(thread.id, owner: WebFirm.sam, mode: .default)
        }
    }

    @Test func theHTMLBodyIsSandboxedSanitisedAndItsInlineImageIsSigned() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.alex)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            try await client.execute(uri: "/threads/\(firm.hostileThread)", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("<iframe class=\"mail-body\""))
                #expect(r.text.contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\""))
                #expect(r.text.contains("src=\"/messages/\(firm.hostileEmail)/body\""))
                #expect(!r.text.contains("Quarterly numbers"), "the body is never inlined into the page")
                #expect(!r.text.contains("<script"))
                #expect(r.text.contains("remote image"), "blocked remote images are offered")
            }
            let document = try await client.execute(
                uri: "/messages/\(firm.hostileEmail)/body", method: .get, headers: [.cookie: cookie]
            ) { r in
                #expect(r.status == .ok)
                #expect(
                    r.headers[WebUI.cspName]
                        == "default-src 'none'; style-src 'unsafe-inline'; img-src data: http://localhost/messages/\(firm.hostileEmail)/inline/"
                )
                #expect(r.headers[WebUI.nosniff] == "nosniff")
                #expect(r.headers[WebUI.referrerPolicy] == "no-referrer")
                return r.text
            }
            #expect(document.contains("Quarterly numbers"))
            for banned in [
                "<script", "onload", "onerror", "javascript:", "tracker.example", "attacker.example", "evil.example", "<form", "<svg",
            ] {
                #expect(!document.lowercased().contains(banned), "\(banned) survived")
            }
            #expect(document.contains("target=\"_blank\""))
            #expect(document.contains("rel=\"noopener noreferrer\""))
            // The cid image points at the signed inline route; it loads without a cookie.
            let inline = try #require(srcValues(in: document).first { $0.contains("/inline/") })
            let path = String(inline.dropFirst("http://localhost".count))
            try await client.execute(uri: path, method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "image/png")
                #expect(Data(buffer: r.body) == WebFirm.png)
            }
            // Tampered: another part, another message, a changed expiry or signature.
            for bad in [
                path.replacingOccurrences(of: "/inline/\(firm.inlinePart)", with: "/inline/\(firm.inlinePart + 1)"),
                path.replacingOccurrences(of: "/messages/\(firm.hostileEmail)/", with: "/messages/\(firm.hostileEmail - 1)/"),
                path.replacingOccurrences(of: "exp=", with: "exp=9"), path + "x",
            ] {
                try await client.execute(uri: bad, method: .get) { r in #expect(r.status == .notFound, "\(bad)") }
            }
            // Links go through the warning page, which shows the destination without a session.
            let link = try #require(hrefValues(in: document).first { $0.contains("/link?") })
            try await client.execute(uri: String(link.dropFirst("http://localhost".count)), method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("id=\"destination\" href=\"https://example.org/ok?a=1&amp;b=2\""))
                #expect(!r.text.contains("alex@firm.example"))
            }
            try await client.execute(uri: "/link?u=https%3A%2F%2Fevil.example%2F&exp=9999999999&sig=AAAA", method: .get) { r in
                #expect(r.status == .notFound)
            }
            // Remote images only on the viewer's per-message opt-in.
            try await client.execute(
                uri: "/messages/\(firm.hostileEmail)/body?images=remote", method: .get, headers: [.cookie: cookie]
            ) { r in
                #expect(r.headers[WebUI.cspName]?.hasSuffix(" https: http:") == true)
                #expect(r.text.contains("http://tracker.example/pixel.gif"))
            }
        }
    }

    @Test func aHostileHostHeaderCannotAddCSPDirectives() {
        #expect(WebUI.safeAuthority("127.0.0.1:8080") == "127.0.0.1:8080")
        #expect(WebUI.safeAuthority("[::1]:8080") == "[::1]:8080")
        #expect(WebUI.safeAuthority("crm.firm.example") == "crm.firm.example")
        #expect(WebUI.safeAuthority("x; script-src *") == "localhost")
        #expect(WebUI.safeAuthority("x\r\nSet-Cookie: a=b") == "localhost")
        #expect(WebUI.safeAuthority(nil) == "localhost")
    }

    @Test func anotherTeammateCannotReadTheBodyOrItsImage() async throws {
        let firm = try await WebFirm.get()
        let kimToken = try await firm.token(WebFirm.kim), alexToken = try await firm.token(WebFirm.alex)
        try await firm.app(try await firm.web()).test(.router) { client in
            let kim = try await signIn(client, token: kimToken)
            let alex = try await signIn(client, token: alexToken)
            let hidden = try await client.execute(uri: "/messages/\(firm.hostileEmail)/body", method: .get, headers: [.cookie: kim]) { r in
                #expect(r.status == .notFound)
                return r.text
            }
            let none = try await client.execute(uri: "/messages/999999999/body", method: .get, headers: [.cookie: kim]) { r in r.text }
            #expect(hidden == none)
            // The signature names the viewer: kim cannot turn a URL signed for alex into one for herself.
            let document = try await client.execute(
                uri: "/messages/\(firm.hostileEmail)/body", method: .get, headers: [.cookie: alex]
            ) { r in r.text }
            let inline = try #require(srcValues(in: document).first { $0.contains("/inline/") })
            let kimId = try #require(try await firm.runtime.directory.users().first { $0.email == WebFirm.kim }?.id)
            let alexId = try #require(try await firm.runtime.directory.users().first { $0.email == WebFirm.alex }?.id)
            let forged = inline.replacingOccurrences(of: "u=\(alexId)", with: "u=\(kimId)").dropFirst("http://localhost".count)
            try await client.execute(uri: String(forged), method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/attachments/\(firm.inlinePart)", method: .get, headers: [.cookie: kim]) { r in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/attachments/\(firm.inlinePart)", method: .get, headers: [.cookie: alex]) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            }
        }
    }

    @Test func searchHighlightsVisibleTextAndRejectsUnknownOperators() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.alex)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            try await client.execute(uri: "/search?q=quarterly", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.text.contains("id=\"results\""))
                #expect(r.text.contains("href=\"/threads/\(firm.hostileThread)\""))
                #expect(r.text.lowercased().contains("<mark>quarterly</mark>"))
                #expect(!r.text.contains("<script"))
            }
            try await client.execute(uri: "/search?q=bogus%3Ax", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .badRequest)
                #expect(r.text.contains("class=\"error\""))
            }
        }
    }

    @Test func settingsChangeTheLevelOnlyWithTheCSRFTokenAndFromThisOrigin() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.lee)
        let rm = firm.runtime.readModel
        let before = try await rm.sharingLevel(of: WebFirm.lee)
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            let csrf = try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.text.contains("id=\"sharing-level\""))
                #expect(!r.text.contains("id=\"mailboxes\"") || r.text.contains("data-mailbox=\"lee@firm.example\""))
                #expect(!r.text.contains("data-mailbox=\"kim@firm.example\""), "members see only their own mailbox")
                return try #require(csrfToken(in: r.text))
            }
            let target: SharingLevel = before == .subject ? .full : .subject
            try await client.execute(
                uri: "/settings/sharing", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "level=\(target.rawValue)")
            ) { r in #expect(r.status == .forbidden) }
            try await client.execute(
                uri: "/settings/sharing", method: .post, headers: Self.form + [.cookie: cookie, .origin: "http://evil.example"],
                body: ByteBuffer(string: "csrf=\(csrf)&level=\(target.rawValue)")
            ) { r in #expect(r.status == .forbidden) }
            #expect(try await rm.sharingLevel(of: WebFirm.lee) == before)
            try await client.execute(
                uri: "/settings/sharing", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)&level=\(target.rawValue)")
            ) { r in #expect(r.status == .seeOther) }
            #expect(try await rm.sharingLevel(of: WebFirm.lee) == target)
            // A private address mark through the form.
            try await client.execute(
                uri: "/settings/private", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)&kind=domain&value=quillstone.example&mode=private")
            ) { r in #expect(r.status == .seeOther) }
            #expect(
                try await rm.marks(owner: WebFirm.lee).contains {
                    $0.kind == .domain && $0.value == "quillstone.example" && $0.mode == .private
                })
            try await client.execute(
                uri: "/settings/private", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)&kind=domain&value=not%20a%20domain&mode=private")
            ) { r in
                #expect(r.status == .badRequest)
                #expect(r.text.contains("class=\"error\""))
            }
            // A member cannot pause another teammate's mailbox (404, as for none).
            let kimAccount = try #require(try await firm.runtime.database.account(email: WebFirm.kim))
            try await client.execute(
                uri: "/settings/mailboxes/\(kimAccount.id)/pause", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { r in #expect(r.status == .notFound) }
            #expect(try await firm.runtime.database.account(email: WebFirm.kim)?.enabled == true)
        }
        try await rm.setSharingLevel(before, for: WebFirm.lee)
        try await rm.markDomain("quillstone.example", owner: WebFirm.lee, mode: .default)
    }

    @Test func membersRunNowTheirOwnMailboxAtMostFiveTimesAMinute() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.sam)
        let queued = QueuedTriggers()
        let web = try await WebUI(
            runtime: firm.runtime, runNow: { queued.add($0) }, options: .init(),
            logger: Logger(label: "web-tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let sam = try #require(try await firm.runtime.database.account(email: WebFirm.sam))
        try await firm.app(web).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            let csrf = try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in
                try #require(csrfToken(in: r.text))
            }
            for n in 1...6 {
                try await client.execute(
                    uri: "/settings/mailboxes/\(sam.id)/run-now", method: .post, headers: Self.form + [.cookie: cookie],
                    body: ByteBuffer(string: "csrf=\(csrf)")
                ) { r in #expect(r.status == (n <= 5 ? .seeOther : .tooManyRequests), "run-now \(n)") }
            }
        }
        #expect(queued.count == 5)
    }

    @Test func adminsSeeMailboxHealthAndCanPauseAndResume() async throws {
        let firm = try await WebFirm.get()
        let token = try await firm.token(WebFirm.alex)
        let pat = try #require(try await firm.runtime.database.account(email: "pat@firm.example"))
        try await firm.app(try await firm.web()).test(.router) { client in
            let cookie = try await signIn(client, token: token)
            let csrf = try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.text.contains("id=\"mailboxes\""))
                for tm in DemoFirm.teammates { #expect(r.text.contains("data-mailbox=\"\(tm)\"")) }
                return try #require(csrfToken(in: r.text))
            }
            try await client.execute(
                uri: "/settings/mailboxes/\(pat.id)/pause", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { r in #expect(r.status == .seeOther) }
            #expect(try await firm.runtime.database.account(email: "pat@firm.example")?.enabled == false)
            try await client.execute(
                uri: "/settings/mailboxes/\(pat.id)/resume", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { r in #expect(r.status == .seeOther) }
            #expect(try await firm.runtime.database.account(email: "pat@firm.example")?.enabled == true)
        }
    }
}

// MARK: - Helpers

extension RelationshipReports {
    func with(asOf: Date) -> RelationshipReports {
        var copy = self
        copy.asOf = asOf
        return copy
    }
}

func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
}

func unescapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(
        of: "&lt;", with: "<"
    )
    .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
}

/// Values of `name="..."` attributes, in document order, unescaped.
func attributeValues(_ name: String, in html: String) -> [String] {
    html.components(separatedBy: "\(name)=\"").dropFirst().compactMap { part in
        part.firstIndex(of: "\"").map { unescapeHTML(String(part[..<$0])) }
    }
}

func hrefValues(in html: String) -> [String] { attributeValues("href", in: html) }
func srcValues(in html: String) -> [String] { attributeValues("src", in: html) }
func hrefs(prefix: String, in html: String) -> [String] { hrefValues(in: html).filter { $0.hasPrefix(prefix) } }

/// The sync triggers a UI queued.
final class QueuedTriggers: @unchecked Sendable {
    private let lock = NSLock()
    private var triggers: [SyncScheduler.Trigger] = []
    func add(_ t: SyncScheduler.Trigger) { lock.withLock { triggers.append(t) } }
    var count: Int { lock.withLock { triggers.count } }
}

/// A clock the test moves by hand.
final class ManualWebClock: CaptureClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    func now() -> Date { lock.withLock { current } }
    func sleep(for duration: Duration) async throws {}
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

@Suite struct WebDurationTests {
    @Test func medianReplyTimesRead() {
        #expect(WebUI.duration(nil) == "—")
        #expect(WebUI.duration(45 * 60) == "45 min")
        #expect(WebUI.duration(5_400) == "1.5 h")
        #expect(WebUI.duration(47.9 * 3_600) == "47.9 h")
        #expect(WebUI.duration(3.1 * 86_400) == "3.1 d")
    }
}
