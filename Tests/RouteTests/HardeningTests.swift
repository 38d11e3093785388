import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import TestSupport
import Testing

/// A firm captured from an embedded FakeGmail through the sync engine: alex (admin), alice and bob
/// (members), and mail crafted by an outsider against bob's private thread.
struct AttackFixture: Sendable {
    /// The installation, as `serve` assembles it: the sync that captured the firm and the routes.
    let runtime: CaptureRuntime
    var db: CaptureDatabase { runtime.database }
    var directory: CRMDirectory { runtime.directory }
    let admin: String
    let alice: String
    let bob: String

    static let secretBody = "Allocation numbers for the Series A: 4.2M at 38 pre."

    static func raw(
        from: String, to: String, subject: String, messageId: String, date: String, body: String,
        references: String? = nil, attachment: (name: String, bytes: String)? = nil
    ) -> [UInt8] {
        var head =
            "From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(messageId)>\r\nDate: \(date)\r\nMIME-Version: 1.0\r\n"
        if let r = references { head += "References: <\(r)>\r\nIn-Reply-To: <\(r)>\r\n" }
        guard let a = attachment else { return Array((head + "Content-Type: text/plain\r\n\r\n\(body)\r\n").utf8) }
        return Array(
            (head + """
                Content-Type: multipart/mixed; boundary="b1"\r
                \r
                --b1\r
                Content-Type: text/plain\r
                \r
                \(body)\r
                --b1\r
                Content-Type: application/octet-stream; name="\(a.name)"\r
                Content-Disposition: attachment; filename="\(a.name)"\r
                Content-Transfer-Encoding: base64\r
                \r
                \(Data(a.bytes.utf8).base64EncodedString())\r
                --b1--\r

                """).utf8)
    }

    static func make() async throws -> AttackFixture {
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        for u in ["alice@firm.example", "bob@firm.example"] { await fake.addUser(u) }
        // Bob's private exchange with a fund, with an attachment.
        try await fake.insertMessage(
            user: "bob@firm.example",
            raw: raw(
                from: "Dana <dana@harborline.example>", to: "bob@firm.example", subject: "Confidential allocation",
                messageId: "secret@harborline.example",
                date: "Tue, 05 Mar 2024 10:00:00 +0000", body: secretBody, attachment: ("cap-table.xlsx", "bob's cap table")))
        // Bob's unrelated thread.
        try await fake.insertMessage(
            user: "bob@firm.example",
            raw: raw(
                from: "Kim <kim@quillstone.example>", to: "bob@firm.example", subject: "Dinner", messageId: "dinner@quillstone.example",
                date: "Mon, 04 Mar 2024 19:00:00 +0000", body: "Thursday?"))
        // Attack 1: an outsider's mail to alice names bob's Message-ID in References (threads merge).
        try await fake.insertMessage(
            user: "alice@firm.example",
            raw: raw(
                from: "Mallory <mallory@evil.example>", to: "alice@firm.example", subject: "Re: hello", messageId: "hello@evil.example",
                date: "Wed, 06 Mar 2024 10:00:00 +0000", body: "Just following up.", references: "secret@harborline.example"))
        // Attack 2: an outsider reuses bob's Message-ID, with the same subject and sender but other content.
        try await fake.insertMessage(
            user: "alice@firm.example",
            raw: raw(
                from: "Dana <dana@harborline.example>", to: "alice@firm.example", subject: "Confidential allocation",
                messageId: "secret@harborline.example",
                date: "Tue, 05 Mar 2024 10:00:00 +0000", body: "Please open the attached invoice.", attachment: ("invoice.pdf", "malware")))
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.apiBaseURL = "http://fake.test"
        config.workspaceDomain = "firm.example"
        config.rateUnitsPerSecond = 10_000
        config.attachmentDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("attack-\(UUID().uuidString)").path
        let runtime = try CaptureRuntime.build(
            config, database: try CaptureDatabase(inMemory: nil), transport: transport, tokens: tokens, clock: clock)
        let directory = runtime.directory
        try await directory.addUser(email: "alex@firm.example", name: "Alex", admin: true)
        try await directory.addUser(email: "alice@firm.example", name: "Alice", admin: false)
        try await directory.addUser(email: "bob@firm.example", name: "Bob", admin: false)
        for u in ["alice@firm.example", "bob@firm.example"] { try await runtime.database.upsertAccount(email: u, userId: nil) }
        let engine = try #require(runtime.gmail?.engine)
        for o in try await engine.syncAll() { #expect(o.status == .ok, "\(o)") }
        let auth = APITokenAuthenticator(directory: directory)
        return AttackFixture(
            runtime: runtime, admin: try await auth.issue(forUserEmail: "alex@firm.example").token,
            alice: try await auth.issue(forUserEmail: "alice@firm.example").token,
            bob: try await auth.issue(forUserEmail: "bob@firm.example").token)
    }

    func app() -> some ApplicationProtocol {
        let routes = runtime.routes(authenticator: APITokenAuthenticator(directory: directory), runNow: { _ in })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        return Application(router: router)
    }
}

@Suite struct MessageIdentityAttackTests {
    /// Before: alice's crafted References merged her mail into bob's thread and the thread route showed her
    /// bob's message; the reused Message-ID made the outsider's mail (and its attachment) part of bob's email.
    @Test(arguments: Mode.allCases)
    func aCraftedEmailChangesNothingATeammateCanRead(mode: Mode) async throws {
        let f = try await AttackFixture.make()
        // Bob's dinner thread is private (his mark); everything else of his is at the firm default, metadata.
        try await f.app().test(mode.testing) { client in
            var bobThreads: [[String: Any]] = []
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.bob)) { r in
                bobThreads = try #require((try object(r))["threads"] as? [[String: Any]])
            }
            let dinner = try #require(bobThreads.first { ($0["messageIds"] as? [String]) == ["dinner@quillstone.example"] }?["id"] as? Int)
            try await client.execute(
                uri: "/api/email/threads/\(dinner)/sharing", method: .put, headers: bearer(f.bob),
                body: ByteBuffer(string: #"{"mode": "private"}"#)
            ) { #expect($0.status == .ok) }
            var aliceThreads: [[String: Any]] = []
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.alice)) { r in
                let text = String(buffer: r.body)
                #expect(!text.contains("cap-table") && !text.contains("Series A") && !text.contains("Dinner"), "\(text)")
                aliceThreads = try #require((try object(r))["threads"] as? [[String: Any]])
            }
            // The crafted References put alice's mail in the thread of bob's message (cross-mailbox threading works
            // that way). Alice reads her own two messages in full; bob's is there at his level, metadata only.
            #expect(aliceThreads.count == 1)
            let shared = try #require(aliceThreads.first?["id"] as? Int)
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.alice)) { r in
                #expect(r.status == .ok)
                let messages = try #require((try object(r))["messages"] as? [[String: Any]])
                let full = messages.filter { $0["visibility"] as? String == "full" }
                let bobs = messages.filter { $0["visibility"] as? String == "metadata" }
                #expect(
                    full.map { ($0["textBody"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) }
                        == ["Please open the attached invoice.", "Just following up."])
                #expect(full.flatMap { ($0["attachments"] as? [[String: Any]] ?? []).map { $0["filename"] as? String } } == ["invoice.pdf"])
                #expect(bobs.count == 1 && bobs[0]["subject"] is NSNull && bobs[0]["textBody"] is NSNull)
                #expect((bobs[0]["attachments"] as? [Any])?.isEmpty == true && bobs[0]["owners"] as? [String] == ["bob@firm.example"])
                let text = String(buffer: r.body)
                #expect(!text.contains("Series A") && !text.contains("cap-table"), "\(text)")
            }
            // Bob reads his own message in full, with his attachment only; alice's two are metadata to him.
            var bobAttachment = 0
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.bob)) { r in
                let messages = try #require((try object(r))["messages"] as? [[String: Any]])
                let mine = messages.filter { $0["visibility"] as? String == "full" }
                #expect(mine.map { $0["subject"] as? String } == ["Confidential allocation"])
                #expect((mine.first?["textBody"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) == AttackFixture.secretBody)
                let attachments = mine.first?["attachments"] as? [[String: Any]] ?? []
                #expect(attachments.map { $0["filename"] as? String } == ["cap-table.xlsx"])
                bobAttachment = attachments.first?["id"] as? Int ?? 0
                #expect(!String(buffer: r.body).contains("invoice") && !String(buffer: r.body).contains("following up"))
            }
            // Bob's attachment: bytes for bob; for alice exactly the answer of an attachment that does not exist.
            try await client.execute(uri: "/api/email/attachments/\(bobAttachment)", method: .get, headers: bearer(f.bob)) { r in
                #expect(r.status == .ok && String(buffer: r.body) == "bob's cap table")
            }
            var answers: [String] = []
            for id in [bobAttachment, 987_654] {
                try await client.execute(uri: "/api/email/attachments/\(id)", method: .get, headers: bearer(f.alice)) { r in
                    answers.append("\(r.status.code) \(try errorMessage(r) ?? "")")
                }
            }
            #expect(answers == ["404 no such attachment", "404 no such attachment"])
            // A thread alice can see nothing of (bob's private dinner) answers like one that does not exist.
            answers = []
            for id in [dinner, 987_654] {
                try await client.execute(uri: "/api/email/threads/\(id)", method: .get, headers: bearer(f.alice)) { r in
                    answers.append("\(r.status.code) \(try errorMessage(r) ?? "")")
                }
            }
            #expect(answers == ["404 no such thread", "404 no such thread"])
            // An admin reads by the same rules: the three messages, none of them alex's, at metadata.
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.admin)) { r in
                let levels = (try object(r))["messages"].flatMap { $0 as? [[String: Any]] }?.map { $0["visibility"] as? String }
                #expect(levels == ["metadata", "metadata", "metadata"])
            }
        }
        #expect(try await f.db.counts().emails == 4)
    }

    /// The genuine case still merges: the same email delivered to two mailboxes is one email.
    @Test func theSameEmailInTwoMailboxesIsOneEmail() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let a = try await db.upsertAccount(email: "alice@firm.example", userId: nil)
        let b = try await db.upsertAccount(email: "bob@firm.example", userId: nil)
        let raw = AttackFixture.raw(
            from: "dana@harborline.example", to: "alice@firm.example, bob@firm.example", subject: "Update",
            messageId: "u1@harborline.example", date: "Tue, 05 Mar 2024 10:00:00 +0000", body: "Numbers.",
            attachment: ("deck.pdf", "%PDF"))
        var m = MessageParser().parse(raw: raw)
        m.gmailId = "g-a"
        let s1 = try await db.store(m, account: a, links: [])
        m.gmailId = "g-b"
        let s2 = try await db.store(m, account: b, links: [])
        #expect(s1.emailId == s2.emailId && s2.newEmail == false)
        // A reused id with other content is another email (in the same thread: threads do not grant reading).
        var other = MessageParser().parse(
            raw: AttackFixture.raw(
                from: "dana@harborline.example", to: "bob@firm.example", subject: "Update",
                messageId: "u1@harborline.example", date: "Tue, 05 Mar 2024 10:00:00 +0000",
                body: "Different numbers."))
        other.gmailId = "g-c"
        let s3 = try await db.store(other, account: b, links: [])
        #expect(s3.emailId != s1.emailId && s3.newEmail)
        #expect(try await db.counts().emails == 2)
    }
}

/// Server hygiene, token lifecycle and the OAuth flow's checks, in-process and over a socket.
@Suite struct HardeningRouteTests {
    static func app(_ f: RouteFixture, clock: any CaptureClock, oauth: OAuthTokenProvider? = nil) -> some ApplicationProtocol {
        let routes = EmailRoutes(
            enabled: true, database: f.db, directory: f.directory,
            authenticator: APITokenAuthenticator(directory: f.directory, clock: clock),
            attachments: f.store, oauth: oauth, workspaceDomain: "firm.example", clock: clock, runNow: { t in f.triggers.append(t) })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        return Application(router: router)
    }

    @Test(arguments: Mode.allCases)
    func oversizedBodiesAre413JSONAndEveryJSONAnswerIsNosniff(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app().test(mode.testing) { client in
            let big = ByteBuffer(string: #"{"email": ""# + String(repeating: "a", count: EmailRoutes.maxBodyBytes + 10) + #""}"#)
            try await client.execute(uri: "/api/email/accounts/enroll", method: .post, headers: bearer(f.adminToken), body: big) { r in
                #expect(r.status == .contentTooLarge)
                let code = try errorCode(r)
                #expect(code == 413)
                #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            for (uri, token) in [("status", f.adminToken), ("threads", f.userToken), ("threads/999", f.userToken), ("status", "wrong")] {
                try await client.execute(uri: "/api/email/\(uri)", method: .get, headers: bearer(token)) { r in
                    #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(uri)")
                }
            }
        }
    }

    @Test(arguments: [
        ("application/pdf", "application/pdf"), ("image/png", "image/png"), ("IMAGE/JPEG; name=x.jpg", "image/jpeg"),
        ("text/plain", "text/plain"),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ),
        ("text/html", "application/octet-stream"), ("image/svg+xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"), ("text/xml", "application/octet-stream"), ("", "application/octet-stream"),
    ])
    func onlyInertTypesAreServedAsThemselves(stored: String, served: String) {
        #expect(EmailRoutes.servedType(stored) == served)
    }

    @Test(arguments: [
        ("report.pdf", #"attachment; filename="report.pdf"; filename*=UTF-8''report.pdf"#),
        (#"a"b\c.txt"#, #"attachment; filename="a\"b\\c.txt"; filename*=UTF-8''a%22b%5Cc.txt"#),
        ("x\r\nSet-Cookie: y.txt", #"attachment; filename="x__Set-Cookie: y.txt"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y.txt"#),
        ("Übersicht Q1.pdf", #"attachment; filename="_bersicht Q1.pdf"; filename*=UTF-8''%C3%9Cbersicht%20Q1.pdf"#),
        ("a;b=c.pdf", #"attachment; filename="a;b=c.pdf"; filename*=UTF-8''a%3Bb%3Dc.pdf"#),
        ("", #"attachment; filename="attachment"; filename*=UTF-8''attachment"#),
    ])
    func filenamesAreQuotedWhateverTheyContain(name: String, header: String) {
        #expect(EmailRoutes.contentDisposition(filename: name) == header)
    }

    @Test(arguments: Mode.allCases)
    func aHostileTypeIsServedAsOctetStreamInASandbox(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        let alex = try #require(try await f.db.account(email: "alex@firm.example"))
        var m = ParsedMessage()
        m.messageId = "page@lumenridge.example"; m.gmailId = "a2"; m.threadId = "tb"; m.subject = "Page"
        m.from = .init(name: nil, address: "maya@lumenridge.example"); m.to = [.init(name: nil, address: "alex@firm.example")]
        m.date = Date(timeIntervalSince1970: 1_709_800_000); m.textBody = "See page."
        m.attachments = [
            ParsedAttachment(
                partId: "1", filename: "page.html", mimeType: "text/html", size: 8, contentId: nil, inline: false,
                attachmentId: nil, sha256: nil)
        ]
        _ = try await f.db.store(m, account: alex, links: [])
        let sha = try f.store.put(Array("%PDF-1.4".utf8))
        let id = try #require(await f.db.owedAttachmentDownloads(mailbox: "alex@firm.example").first { $0.gmailId == "a2" }).id
        try await f.db.recordAttachmentStored(id: id, sha256: sha, size: 8)
        try await f.app().test(mode.testing) { client in
            try await client.execute(uri: "/api/email/attachments/\(id)", method: .get, headers: bearer(f.adminToken)) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/octet-stream")
                #expect(r.headers[.contentSecurityPolicy] == "sandbox")
                #expect(r.headers[.contentDisposition]?.hasPrefix("attachment; ") == true)
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func runNowIsLimitedPerMemberWithRetryAfter(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        let clock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_750_000_000))
        try await Self.app(f, clock: clock).test(mode.testing) { client in
            for _ in 0..<EmailRoutes.runNowPerMinute {
                try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) {
                    #expect($0.status == .accepted)
                }
            }
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) { r in
                #expect(r.status == .tooManyRequests)
                #expect(r.headers[.retryAfter] == "60")
                let code = try errorCode(r)
                #expect(code == 429)
            }
            // Admins are not limited (operational role); the member is admitted again once the minute has passed.
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.adminToken)) {
                #expect($0.status == .accepted)
            }
            clock.advance(by: .seconds(30))
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) { r in
                #expect(r.status == .tooManyRequests && r.headers[.retryAfter] == "30")
            }
            clock.advance(by: .seconds(31))
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) {
                #expect($0.status == .accepted)
            }
        }
        #expect(f.triggers.all.count == EmailRoutes.runNowPerMinute + 2)
    }

    @Test(arguments: Mode.allCases)
    func tokensExpireAndCanBeRevoked(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        let clock = ManualCaptureClock(start: Date())
        let auth = APITokenAuthenticator(directory: f.directory, clock: clock)
        let short = try await auth.issue(forUserEmail: "sam@firm.example", label: "short", expiresInDays: 1)
        let other = try await auth.issue(forUserEmail: "sam@firm.example", label: "other")
        try await Self.app(f, clock: clock).test(mode.testing) { client in
            for t in [short.token, other.token] {
                try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(t)) { #expect($0.status == .ok) }
            }
            clock.advance(by: .seconds(86_401))
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(short.token)) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(other.token)) { #expect($0.status == .ok) }
            #expect(try await auth.revoke(id: other.id))
            #expect(try await auth.revoke(id: other.id) == false)
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(other.token)) {
                #expect($0.status == .unauthorized)
            }
            #expect(try await auth.revokeAll(forUserEmail: "alex@firm.example") == 1)
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .unauthorized)
            }
        }
        let listed = try await auth.tokens(forUserEmail: "sam@firm.example")
        #expect(listed.map(\.label) == [nil, "short", "other"])
        #expect(listed.map(\.revoked) == [false, false, true])
        #expect(listed[1].lastUsedAt != nil && listed[1].expiresAt != nil)
        let json = String(decoding: try JSONEncoder().encode(listed[0]), as: UTF8.self)
        let keys = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys.sorted()
        #expect(keys == ["createdAt", "expiresAt", "id", "label", "lastUsedAt", "revoked"])
        #expect(!json.contains("gct_"))
    }

    /// The consenting Google account must be the mailbox being enrolled; otherwise nothing is stored.
    @Test func consentByAnotherGoogleAccountIsRefusedAndStoresNothing() async throws {
        let f = try await RouteFixture.make()
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        await fake.addUser("sam@firm.example")
        await fake.addUser("someone@firm.example")
        await fake.registerOAuthClient(id: "crm", secret: "s")
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let oauth = try OAuthTokenProvider(
            client: .init(
                id: "crm", secret: "s", redirectURI: "https://crm.example/api/email/oauth/callback",
                authURL: "http://fake.test/o/oauth2/v2/auth", tokenURL: "http://fake.test/token"),
            secretKey: Data(repeating: 4, count: 32), store: f.db, apiBaseURL: "http://fake.test", transport: transport, clock: clock)
        try await Self.app(f, clock: clock, oauth: oauth).test(.router) { client in
            var consentURL = ""
            try await client.execute(uri: "/api/email/oauth/start", method: .get, headers: bearer(f.userToken)) {
                consentURL = $0.headers[.location] ?? ""
            }
            // The browser signs in to Google as someone else.
            var c = try #require(URLComponents(string: consentURL))
            c.queryItems = c.queryItems?.map {
                $0.name == "login_hint" ? URLQueryItem(name: "login_hint", value: "someone@firm.example") : $0
            }
            let consent = try await transport.send(TransportRequest(method: "GET", url: c.string!, operation: "oauth2.auth"))
            let location = try #require(consent.header("Location"))
            let back = try #require(URLComponents(string: location))
            let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
            let state = try #require(back.queryItems?.first { $0.name == "state" }?.value)
            try await client.execute(uri: "/api/email/oauth/callback?code=\(code)&state=\(state)", method: .get) { r in
                #expect(r.status == .badRequest)
                let message = try errorMessage(r) ?? ""
                #expect(message.contains("someone@firm.example") && message.contains("sam@firm.example"), "\(message)")
            }
        }
        #expect(try await f.db.sealedRefreshToken(for: "sam@firm.example") == nil)
        #expect(try await f.db.sealedRefreshToken(for: "someone@firm.example") == nil)
    }
}
