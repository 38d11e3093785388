import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import TestSupport
import Testing

/// A firm captured from an embedded FakeGmail through the sync engine: alex (admin), alice and bob
/// (members), and mail crafted by an outsider against bob's private thread.
struct AttackFixture: Sendable {
    let db: CaptureDatabase
    let directory: CRMDirectory
    let store: AttachmentStore
    let admin: String
    let alice: String
    let bob: String

    static let secretBody = "Allocation numbers for the Series A: 4.2M at 38 pre."

    static func raw(from: String, to: String, subject: String, messageId: String, date: String, body: String,
                    references: String? = nil, attachment: (name: String, bytes: String)? = nil) -> [UInt8] {
        var head = "From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(messageId)>\r\nDate: \(date)\r\nMIME-Version: 1.0\r\n"
        if let r = references { head += "References: <\(r)>\r\nIn-Reply-To: <\(r)>\r\n" }
        guard let a = attachment else { return Array((head + "Content-Type: text/plain\r\n\r\n\(body)\r\n").utf8) }
        return Array((head + """
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
        try await fake.insertMessage(user: "bob@firm.example", raw: raw(
            from: "Dana <dana@harborline.example>", to: "bob@firm.example", subject: "Confidential allocation", messageId: "secret@harborline.example",
            date: "Tue, 05 Mar 2024 10:00:00 +0000", body: secretBody, attachment: ("cap-table.xlsx", "bob's cap table")))
        // Bob's unrelated thread.
        try await fake.insertMessage(user: "bob@firm.example", raw: raw(
            from: "Kim <kim@quillstone.example>", to: "bob@firm.example", subject: "Dinner", messageId: "dinner@quillstone.example",
            date: "Mon, 04 Mar 2024 19:00:00 +0000", body: "Thursday?"))
        // Attack 1: an outsider's mail to alice names bob's Message-ID in References (threads merge).
        try await fake.insertMessage(user: "alice@firm.example", raw: raw(
            from: "Mallory <mallory@evil.example>", to: "alice@firm.example", subject: "Re: hello", messageId: "hello@evil.example",
            date: "Wed, 06 Mar 2024 10:00:00 +0000", body: "Just following up.", references: "secret@harborline.example"))
        // Attack 2: an outsider reuses bob's Message-ID, with the same subject and sender but other content.
        try await fake.insertMessage(user: "alice@firm.example", raw: raw(
            from: "Dana <dana@harborline.example>", to: "alice@firm.example", subject: "Confidential allocation", messageId: "secret@harborline.example",
            date: "Tue, 05 Mar 2024 10:00:00 +0000", body: "Please open the attached invoice.", attachment: ("invoice.pdf", "malware")))
        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        try await directory.addUser(email: "alex@firm.example", name: "Alex", admin: true)
        try await directory.addUser(email: "alice@firm.example", name: "Alice", admin: false)
        try await directory.addUser(email: "bob@firm.example", name: "Bob", admin: false)
        for u in ["alice@firm.example", "bob@firm.example"] { try await db.upsertAccount(email: u, userId: nil) }
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let limiter = RateLimiter(unitsPerSecondPerMailbox: 10_000, unitsPerSecondPerProject: 20_000, clock: clock)
        let client = GmailClient(baseURL: "http://fake.test", transport: transport, tokens: tokens, limiter: limiter, clock: clock)
        let store = AttachmentStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("attack-\(UUID().uuidString)"))
        var settings = SyncSettings()
        settings.workspaceDomain = "firm.example"
        settings.attachmentStore = store
        let engine = SyncEngine(database: db, client: client, limiter: limiter, settings: settings, clock: clock)
        for o in try await engine.syncAll() { #expect(o.status == "ok", "\(o)") }
        let auth = APITokenAuthenticator(directory: directory)
        return AttackFixture(db: db, directory: directory, store: store, admin: try await auth.issue(forUserEmail: "alex@firm.example").token,
                             alice: try await auth.issue(forUserEmail: "alice@firm.example").token,
                             bob: try await auth.issue(forUserEmail: "bob@firm.example").token)
    }

    func app() -> some ApplicationProtocol {
        let routes = EmailRoutes(enabled: true, database: db, directory: directory, authenticator: APITokenAuthenticator(directory: directory),
                                 attachments: store, oauth: nil, workspaceDomain: "firm.example", clock: SystemClock(), runNow: { _ in })
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
        try await f.app().test(mode.testing) { client in
            var aliceThreads: [[String: Any]] = []
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.alice)) { r in
                let text = String(buffer: r.body)
                #expect(!text.contains("cap-table") && !text.contains("Series A") && !text.contains("bob@firm.example") && !text.contains("Dinner"), "\(text)")
                aliceThreads = try #require((try object(r))["threads"] as? [[String: Any]])
            }
            // The crafted References put alice's mail in the thread of bob's message (cross-mailbox threading
            // works that way), but alice's view of it is built from her own two messages only.
            #expect(aliceThreads.count == 1)
            let shared = try #require(aliceThreads.first?["id"] as? Int)
            #expect(Set(aliceThreads.first?["messageIds"] as? [String] ?? []) == ["secret@harborline.example", "hello@evil.example"])
            #expect(aliceThreads.first?["mailboxes"] as? [String] == ["alice@firm.example"])
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.alice)) { r in
                #expect(r.status == .ok)
                let messages = try #require((try object(r))["messages"] as? [[String: Any]])
                #expect(messages.map { ($0["textBody"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) }
                    == ["Please open the attached invoice.", "Just following up."])
                #expect(messages.flatMap { ($0["attachments"] as? [[String: Any]] ?? []).map { $0["filename"] as? String } } == ["invoice.pdf"])
                let text = String(buffer: r.body)
                #expect(!text.contains("Series A") && !text.contains("cap-table") && !text.contains("bob@"), "\(text)")
            }
            // Bob reads his own message in that thread, with his attachment only; the outsider's invoice is not part of it.
            var bobAttachment = 0
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.bob)) { r in
                let messages = try #require((try object(r))["messages"] as? [[String: Any]])
                #expect(messages.map { $0["subject"] as? String } == ["Confidential allocation"])
                #expect((messages.first?["textBody"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) == AttackFixture.secretBody)
                let attachments = messages.first?["attachments"] as? [[String: Any]] ?? []
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
            // The same for a thread alice holds nothing of (bob's dinner).
            var bobThreads: [Int] = []
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.bob)) { r in
                bobThreads = ((try object(r))["threads"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            }
            let dinner = try #require(bobThreads.first { $0 != shared })
            answers = []
            for id in [dinner, 987_654] {
                try await client.execute(uri: "/api/email/threads/\(id)", method: .get, headers: bearer(f.alice)) { r in
                    answers.append("\(r.status.code) \(try errorMessage(r) ?? "")")
                }
            }
            #expect(answers == ["404 no such thread", "404 no such thread"])
            // The operator's admin view still has the whole thread: three emails, two of them sharing a Message-ID.
            try await client.execute(uri: "/api/email/threads/\(shared)", method: .get, headers: bearer(f.admin)) { r in
                let count = (try object(r))["messages"].flatMap { $0 as? [[String: Any]] }?.count
                #expect(count == 3)
            }
        }
        #expect(try await f.db.counts().emails == 4)
    }

    /// The genuine case still merges: the same email delivered to two mailboxes is one email.
    @Test func theSameEmailInTwoMailboxesIsOneEmail() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let a = try await db.upsertAccount(email: "alice@firm.example", userId: nil)
        let b = try await db.upsertAccount(email: "bob@firm.example", userId: nil)
        let raw = AttackFixture.raw(from: "dana@harborline.example", to: "alice@firm.example, bob@firm.example", subject: "Update",
                                    messageId: "u1@harborline.example", date: "Tue, 05 Mar 2024 10:00:00 +0000", body: "Numbers.",
                                    attachment: ("deck.pdf", "%PDF"))
        var m = MessageParser().parse(raw: raw)
        m.gmailId = "g-a"
        let s1 = try await db.store(m, account: a, links: [])
        m.gmailId = "g-b"
        let s2 = try await db.store(m, account: b, links: [])
        #expect(s1.emailId == s2.emailId && s2.newEmail == false)
        // A reused id with other content is another email (in the same thread: threads do not grant reading).
        var other = MessageParser().parse(raw: AttackFixture.raw(from: "dana@harborline.example", to: "bob@firm.example", subject: "Update",
                                                                  messageId: "u1@harborline.example", date: "Tue, 05 Mar 2024 10:00:00 +0000",
                                                                  body: "Different numbers."))
        other.gmailId = "g-c"
        let s3 = try await db.store(other, account: b, links: [])
        #expect(s3.emailId != s1.emailId && s3.newEmail)
        #expect(try await db.counts().emails == 2)
    }
}
