import CaptureParsing
import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Team visibility through the routes (issue 13): sharing levels, thread/address/domain marks, the
/// ceiling, retroactive changes and the access log, in-process and over a live socket.
private struct VisibilityRouteFixture: Sendable {
    let db: CaptureDatabase
    let directory: CRMDirectory
    let store: AttachmentStore
    /// alex is an admin; sam and kim are members.
    let alex: String, sam: String, kim: String
    /// alex's term sheet from maya@lumenridge.example (with an attachment).
    let termSheet: Int64
    /// alex's diligence thread with raj@eu.lumenridge.example (a subdomain).
    let diligence: Int64
    /// alex's coffee with Jane.Doe+vc@gmail.com.
    let coffee: Int64
    /// sam's intro from omar@quillstone.example.
    let intro: Int64
    /// One message held by both alex and sam.
    let board: Int64
    /// sam to kim, internal.
    let lunch: Int64
    let attachmentId: Int64

    static let workspace = "firm.example"

    static func make() async throws -> VisibilityRouteFixture {
        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        try await directory.addUser(email: "alex@firm.example", name: "Alex", admin: true)
        try await directory.addUser(email: "sam@firm.example", name: "Sam", admin: false)
        try await directory.addUser(email: "kim@firm.example", name: "Kim", admin: false)
        _ = try await directory.importInvestors(
            [Investor(id: "inv-lumen", name: "Lumenridge", domains: ["lumenridge.example"])], workspaceDomain: workspace)
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: workspace)
        let auth = APITokenAuthenticator(directory: directory)
        let alexToken = try await auth.issue(forUserEmail: "alex@firm.example").token
        let samToken = try await auth.issue(forUserEmail: "sam@firm.example").token
        let kimToken = try await auth.issue(forUserEmail: "kim@firm.example").token
        var accounts: [String: CaptureDatabase.Account] = [:]
        for e in ["alex@firm.example", "sam@firm.example", "kim@firm.example"] {
            accounts[e] = try await db.upsertAccount(email: e, userId: nil)
        }
        var hour = 0.0
        func store(
            _ id: String, from: String, to: [String], subject: String, body: String, in mailboxes: [String], attachment: Bool = false
        ) async throws -> Int64 {
            hour += 1
            var thread: Int64 = 0
            for (n, mailbox) in mailboxes.enumerated() {
                var m = ParsedMessage()
                m.messageId = id; m.gmailId = "\(id.prefix(while: { $0 != "@" }))-\(n)"; m.threadId = "t-\(id)"
                m.subject = subject; m.snippet = "\(subject) snippet"; m.textBody = body; m.htmlBody = "<p>\(body)</p>"
                m.from = .init(name: nil, address: from); m.to = to.map { .init(name: nil, address: $0) }
                m.date = Date(timeIntervalSince1970: 1_709_658_000 + hour * 3_600)
                if attachment {
                    m.attachments = [
                        ParsedAttachment(
                            partId: "1", filename: "terms.pdf", mimeType: "application/pdf", size: 8, contentId: nil, inline: false,
                            attachmentId: nil, sha256: nil)
                    ]
                }
                thread = try await db.store(m, account: accounts[mailbox]!, links: index.links(for: [from] + to)).threadId
            }
            return thread
        }
        let termSheet = try await store(
            "deal@lumenridge.example", from: "maya@lumenridge.example", to: ["alex@firm.example"], subject: "Term sheet",
            body: "Secret terms", in: ["alex@firm.example"], attachment: true)
        let diligence = try await store(
            "dd@eu.lumenridge.example", from: "raj@eu.lumenridge.example", to: ["alex@firm.example"], subject: "Diligence",
            body: "Data room", in: ["alex@firm.example"])
        let coffee = try await store(
            "coffee@mail.gmail.com", from: "Jane.Doe+vc@gmail.com", to: ["alex@firm.example"], subject: "Coffee", body: "Tuesday?",
            in: ["alex@firm.example"])
        let intro = try await store(
            "intro@quillstone.example", from: "omar@quillstone.example", to: ["sam@firm.example"], subject: "Intro",
            body: "Meet Omar", in: ["sam@firm.example"])
        let board = try await store(
            "board@harbor.example", from: "nora@harbor.example", to: ["alex@firm.example", "sam@firm.example"], subject: "Board deck",
            body: "Deck attached", in: ["alex@firm.example", "sam@firm.example"])
        let lunch = try await store(
            "lunch@firm.example", from: "sam@firm.example", to: ["kim@firm.example"], subject: "Lunch", body: "Noon?",
            in: ["kim@firm.example"])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vis-routes-\(UUID().uuidString)")
        let attachments = AttachmentStore(root: root)
        let sha = try attachments.put(Array("%PDF-1.4".utf8))
        let attId = try #require(await db.owedAttachmentDownloads(mailbox: nil).first).id
        try await db.recordAttachmentStored(id: attId, sha256: sha, size: 8)
        return VisibilityRouteFixture(
            db: db, directory: directory, store: attachments, alex: alexToken, sam: samToken, kim: kimToken, termSheet: termSheet,
            diligence: diligence, coffee: coffee, intro: intro, board: board, lunch: lunch, attachmentId: attId)
    }

    func app(_ policy: VisibilityPolicy = VisibilityPolicy(workspaceDomain: workspace)) -> some ApplicationProtocol {
        let routes = EmailRoutes(
            enabled: true, database: db, directory: directory, readModel: ReadModel(database: db, policy: policy),
            authenticator: APITokenAuthenticator(directory: directory), attachments: store, oauth: nil, workspaceDomain: Self.workspace,
            clock: SystemClock(), runNow: { _ in })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        return Application(router: router)
    }
}

/// One answer: the status and the decoded JSON body.
private struct Reply {
    let status: HTTPResponse.Status
    let json: Any?
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var message: String? { (object["error"] as? [String: Any])?["message"] as? String }
    /// The messages of a thread answer.
    var messages: [[String: Any]] { object["messages"] as? [[String: Any]] ?? [] }
    /// The ids of a thread list.
    var threadIds: [Int] { (object["threads"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int } }
}

private func call(
    _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?, _ body: String? = nil
) async throws -> Reply {
    let r = try await client.execute(
        uri: "/api/email/" + uri, method: method, headers: token.map { bearer($0) } ?? [:], body: body.map { ByteBuffer(string: $0) })
    let data = Data(r.body.readableBytesView)
    return Reply(status: r.status, json: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
}

@Suite struct VisibilityRouteTests {
    @Test(arguments: Mode.allCases)
    func mySharingReadsAndSetsTheLevel(mode: Mode) async throws {
        let f = try await VisibilityRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            #expect(try await call(c, .get, "me/sharing", nil).status == .unauthorized)
            let initial = try await call(c, .get, "me/sharing", f.kim)
            #expect(initial.status == .ok && initial.object["level"] as? String == "metadata")
            for bad in [#"{"level": "everything"}"#, #"{"level": "FULL "}"#, "{}", #"{"level": 3}"#, "not json", ""] {
                let r = try await call(c, .put, "me/sharing", f.kim, bad)
                #expect(r.status == .badRequest && r.message != nil, "\(bad) answered \(r.status)")
            }
            #expect(try await call(c, .get, "me/sharing", f.kim).object["level"] as? String == "metadata")
            let set = try await call(c, .put, "me/sharing", f.kim, #"{"level": "subject"}"#)
            #expect(set.status == .ok && set.object["level"] as? String == "subject")
            #expect(try await call(c, .get, "me/sharing", f.kim).object["level"] as? String == "subject")
            // One teammate's level is theirs alone.
            #expect(try await call(c, .get, "me/sharing", f.sam).object["level"] as? String == "metadata")
        }
        // A firm default of subject with a ceiling of subject: the default shows, full is refused.
        try await f.app(VisibilityPolicy(defaultLevel: .subject, ceiling: .subject, workspaceDomain: "firm.example")).test(mode.testing) {
            c in
            #expect(try await call(c, .get, "me/sharing", f.sam).object["level"] as? String == "subject")
            let refused = try await call(c, .put, "me/sharing", f.sam, #"{"level": "full"}"#)
            #expect(refused.status == .badRequest && refused.message?.contains("ceiling") == true, "\(refused.message ?? "")")
            #expect(try await call(c, .get, "me/sharing", f.sam).object["level"] as? String == "subject")
            // The refused "full" never reached kim's reads: sam's intro shows at the firm default.
            #expect(try await call(c, .get, "threads/\(f.intro)", f.kim).messages.map { $0["visibility"] as? String } == ["subject"])
            let lower = try await call(c, .put, "me/sharing", f.sam, #"{"level": "metadata"}"#)
            #expect(lower.status == .ok && lower.object["level"] as? String == "metadata")
            #expect(try await call(c, .get, "threads/\(f.intro)", f.kim).messages.map { $0["visibility"] as? String } == ["metadata"])
        }
    }

    /// A change of level applies at the next read, to mail captured before it; admins read by the same rules.
    @Test(arguments: Mode.allCases)
    func levelChangesApplyAtTheNextRead(mode: Mode) async throws {
        let f = try await VisibilityRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            func termSheetAsKim() async throws -> [String: Any] {
                let r = try await call(c, .get, "threads/\(f.termSheet)", f.kim)
                #expect(r.status == .ok && r.messages.count == 1)
                return r.messages.first ?? [:]
            }
            var m = try await termSheetAsKim()
            #expect(m["visibility"] as? String == "metadata" && m["subject"] is NSNull && m["snippet"] is NSNull)
            #expect(m["textBody"] is NSNull && m["htmlBody"] is NSNull && (m["attachments"] as? [Any])?.isEmpty == true)
            #expect(m["owners"] as? [String] == ["alex@firm.example"] && m["direction"] as? String == "inbound")
            #expect((m["from"] as? [String: Any])?["address"] as? String == "maya@lumenridge.example")
            #expect(
                ((m["to"] as? [[String: Any]])?.first)?["address"] as? String == "alex@firm.example" && (m["cc"] as? [Any])?.isEmpty == true
            )
            #expect(m["date"] as? String == "2024-03-05T18:00:00Z")
            #expect((m["investorLinks"] as? [[String: Any]])?.first?["investorId"] as? String == "inv-lumen")
            var list = try await call(c, .get, "threads", f.kim)
            let listed = (list.object["threads"] as? [[String: Any]])?.first { $0["id"] as? Int == Int(f.termSheet) }
            #expect(listed?["subject"] is NSNull && listed?["investorIds"] as? [String] == ["inv-lumen"])
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .notFound)

            #expect(try await call(c, .put, "me/sharing", f.alex, #"{"level": "subject"}"#).status == .ok)
            m = try await termSheetAsKim()
            #expect(m["visibility"] as? String == "subject" && m["subject"] as? String == "Term sheet")
            #expect(
                m["snippet"] as? String == "Term sheet snippet" && m["textBody"] is NSNull && (m["attachments"] as? [Any])?.isEmpty == true)
            list = try await call(c, .get, "threads", f.kim)
            #expect(
                (list.object["threads"] as? [[String: Any]])?.first { $0["id"] as? Int == Int(f.termSheet) }?["subject"] as? String
                    == "Term sheet")
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .notFound)

            #expect(try await call(c, .put, "me/sharing", f.alex, #"{"level": "full"}"#).status == .ok)
            m = try await termSheetAsKim()
            #expect(
                m["visibility"] as? String == "full" && m["textBody"] as? String == "Secret terms"
                    && m["htmlBody"] as? String == "<p>Secret terms</p>")
            #expect((m["attachments"] as? [[String: Any]])?.first?["id"] as? Int == Int(f.attachmentId))
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .ok)

            #expect(try await call(c, .put, "me/sharing", f.alex, #"{"level": "metadata"}"#).status == .ok)
            m = try await termSheetAsKim()
            #expect(m["visibility"] as? String == "metadata" && m["subject"] is NSNull && m["textBody"] is NSNull)
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .notFound)

            // The admin reads sam's mail by the same rules (metadata), and kim's internal lunch not at all.
            let intro = try await call(c, .get, "threads/\(f.intro)", f.alex)
            #expect(intro.messages.map { $0["visibility"] as? String } == ["metadata"] && intro.messages.first?["textBody"] is NSNull)
            let lunch = try await call(c, .get, "threads/\(f.lunch)", f.alex)
            let missing = try await call(c, .get, "threads/987654", f.alex)
            #expect(lunch.status == .notFound && lunch.message == missing.message && missing.status == .notFound)
            #expect(!(try await call(c, .get, "threads", f.alex)).threadIds.contains(Int(f.lunch)))
            // Kim reads her own lunch in full, and sees it listed.
            let own = try await call(c, .get, "threads/\(f.lunch)", f.kim)
            #expect(own.messages.first?["visibility"] as? String == "full" && own.messages.first?["direction"] as? String == "outbound")
        }
    }

    @Test(arguments: Mode.allCases)
    func threadMarks(mode: Mode) async throws {
        let f = try await VisibilityRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            // Not the caller's: the same 404 as a thread that does not exist.
            let notMine = try await call(c, .put, "threads/\(f.termSheet)/sharing", f.sam, #"{"mode": "private"}"#)
            let none = try await call(c, .put, "threads/987654/sharing", f.alex, #"{"mode": "private"}"#)
            #expect(notMine.status == .notFound && none.status == .notFound && notMine.message == none.message)
            // Admin is no reading (or marking) role: alex owns nothing in sam's intro.
            let adminNotMine = try await call(c, .put, "threads/\(f.intro)/sharing", f.alex, #"{"mode": "shared"}"#)
            #expect(adminNotMine.status == .notFound && adminNotMine.message == none.message)
            for bad in [#"{"mode": "secret"}"#, "{}", "nope"] {
                #expect(try await call(c, .put, "threads/\(f.termSheet)/sharing", f.alex, bad).status == .badRequest)
            }
            #expect(try await call(c, .put, "threads/abc/sharing", f.alex, #"{"mode": "private"}"#).status == .badRequest)
            #expect(try await call(c, .put, "threads/\(f.termSheet)/sharing", nil, #"{"mode": "private"}"#).status == .unauthorized)
            // Sam's attempt changed nothing.
            #expect(try await call(c, .get, "threads/\(f.termSheet)", f.kim).messages.first?["visibility"] as? String == "metadata")

            // private: gone for everyone else, not even metadata; the owner still reads it.
            let priv = try await call(c, .put, "threads/\(f.termSheet)/sharing", f.alex, #"{"mode": "private"}"#)
            #expect(priv.status == .ok && priv.object["mode"] as? String == "private")
            for token in [f.kim, f.sam] {
                let r = try await call(c, .get, "threads/\(f.termSheet)", token)
                let missing = try await call(c, .get, "threads/987654", token)
                #expect(r.status == .notFound && r.message == missing.message)
                #expect(!(try await call(c, .get, "threads", token)).threadIds.contains(Int(f.termSheet)))
                #expect(!(try await call(c, .get, "threads?investor=inv-lumen", token)).threadIds.contains(Int(f.termSheet)))
            }
            #expect(try await call(c, .get, "threads/\(f.termSheet)", f.alex).messages.first?["visibility"] as? String == "full")
            // The mark covers that thread only.
            #expect(try await call(c, .get, "threads/\(f.diligence)", f.kim).status == .ok)

            // shared: in full whatever alex's level (metadata), attachment included.
            #expect(try await call(c, .put, "threads/\(f.termSheet)/sharing", f.alex, #"{"mode": "shared"}"#).status == .ok)
            let shared = try await call(c, .get, "threads/\(f.termSheet)", f.kim)
            #expect(
                shared.messages.first?["visibility"] as? String == "full" && shared.messages.first?["textBody"] as? String == "Secret terms"
            )
            #expect((shared.object["thread"] as? [String: Any])?["subject"] as? String == "Term sheet")
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .ok)
            #expect(try await call(c, .get, "threads/\(f.diligence)", f.kim).messages.first?["visibility"] as? String == "metadata")

            // default: back to the level.
            #expect(try await call(c, .put, "threads/\(f.termSheet)/sharing", f.alex, #"{"mode": "default"}"#).status == .ok)
            #expect(try await call(c, .get, "threads/\(f.termSheet)", f.kim).messages.first?["visibility"] as? String == "metadata")
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .notFound)

            // A message two teammates hold: either owner's private mark hides it; the other owner still reads it.
            #expect(try await call(c, .put, "me/sharing", f.sam, #"{"level": "full"}"#).status == .ok)
            #expect(try await call(c, .get, "threads/\(f.board)", f.kim).messages.first?["visibility"] as? String == "full")
            #expect(try await call(c, .put, "threads/\(f.board)/sharing", f.alex, #"{"mode": "private"}"#).status == .ok)
            #expect(try await call(c, .get, "threads/\(f.board)", f.kim).status == .notFound)
            #expect(try await call(c, .get, "threads/\(f.board)", f.sam).messages.first?["visibility"] as? String == "full")
            #expect(try await call(c, .put, "threads/\(f.board)/sharing", f.alex, #"{"mode": "default"}"#).status == .ok)
            #expect(try await call(c, .get, "threads/\(f.board)", f.kim).messages.first?["visibility"] as? String == "full")
        }
        // Under a ceiling of subject, shared shows no more than the ceiling.
        try await f.app(VisibilityPolicy(defaultLevel: .metadata, ceiling: .subject, workspaceDomain: "firm.example")).test(mode.testing) {
            c in
            #expect(try await call(c, .put, "threads/\(f.termSheet)/sharing", f.alex, #"{"mode": "shared"}"#).status == .ok)
            let r = try await call(c, .get, "threads/\(f.termSheet)", f.kim)
            #expect(r.messages.first?["visibility"] as? String == "subject" && r.messages.first?["textBody"] is NSNull)
            #expect(try await call(c, .get, "attachments/\(f.attachmentId)", f.kim).status == .notFound)
        }
    }

    @Test(arguments: Mode.allCases)
    func addressAndDomainMarks(mode: Mode) async throws {
        let f = try await VisibilityRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            func status(_ thread: Int64) async throws -> String {
                let r = try await call(c, .get, "threads/\(thread)", f.kim)
                return r.status == .ok ? (r.messages.first?["visibility"] as? String ?? "?") : "\(r.status.code)"
            }
            #expect(try await status(f.termSheet) == "metadata")
            #expect(try await status(f.diligence) == "metadata")
            #expect(try await status(f.coffee) == "metadata")
            for bad in [
                #"{"address": "maya@lumenridge.example", "domain": "lumenridge.example", "mode": "private"}"#, #"{"mode": "private"}"#,
                #"{"address": "maya@lumenridge.example", "mode": "secret"}"#, #"{"address": "maya@lumenridge.example"}"#,
                #"{"address": "not-an-address", "mode": "private"}"#, #"{"domain": "localhost", "mode": "private"}"#,
                #"{"domain": "a@b.example", "mode": "private"}"#, "[]", "nope",
            ] {
                let r = try await call(c, .put, "privacy/addresses", f.alex, bad)
                #expect(r.status == .badRequest && r.message != nil, "\(bad) answered \(r.status)")
            }
            #expect(try await status(f.termSheet) == "metadata")
            #expect(
                try await call(c, .put, "privacy/addresses", nil, #"{"domain": "lumenridge.example", "mode": "private"}"#).status
                    == .unauthorized)

            // An address, written in another case: all of alex's mail with it, not the rest of the domain.
            let a = try await call(c, .put, "privacy/addresses", f.alex, #"{"address": "Maya@LumenRidge.example", "mode": "private"}"#)
            #expect(a.status == .ok && a.object["mode"] as? String == "private")
            #expect(try await status(f.termSheet) == "404")
            #expect(try await status(f.diligence) == "metadata")
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"address": "maya@lumenridge.example", "mode": "default"}"#).status
                    == .ok)
            #expect(try await status(f.termSheet) == "metadata")

            // Normalised as the matcher does: dots, +tags and googlemail on gmail.com.
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"address": "JaneDoe+other@googlemail.com", "mode": "private"}"#)
                    .status == .ok)
            #expect(try await status(f.coffee) == "404")
            #expect(try await status(f.termSheet) == "metadata")

            // A domain covers its subdomains.
            let d = try await call(c, .put, "privacy/addresses", f.alex, #"{"domain": "LumenRidge.example", "mode": "private"}"#)
            #expect(d.status == .ok && d.object["mode"] as? String == "private")
            #expect(try await status(f.termSheet) == "404")
            #expect(try await status(f.diligence) == "404")
            #expect(
                !(try await call(c, .get, "threads?investor=inv-lumen", f.kim)).threadIds.contains {
                    [Int(f.termSheet), Int(f.diligence)].contains($0)
                })
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"domain": "lumenridge.example", "mode": "shared"}"#).status == .ok)
            #expect(try await status(f.termSheet) == "full")
            #expect(try await status(f.diligence) == "full")
            #expect(try await status(f.intro) == "metadata")
            // Another teammate's marks do not touch alex's mail.
            #expect(
                try await call(c, .put, "privacy/addresses", f.sam, #"{"domain": "lumenridge.example", "mode": "private"}"#).status == .ok)
            #expect(try await status(f.termSheet) == "full")
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"domain": "lumenridge.example", "mode": "default"}"#).status == .ok)
            #expect(try await status(f.termSheet) == "metadata")
            #expect(try await status(f.diligence) == "metadata")
            // A private address mark wins over a shared domain mark.
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"domain": "eu.lumenridge.example", "mode": "shared"}"#).status
                    == .ok)
            #expect(
                try await call(c, .put, "privacy/addresses", f.alex, #"{"address": "raj@eu.lumenridge.example", "mode": "private"}"#).status
                    == .ok)
            #expect(try await status(f.diligence) == "404")
        }
    }

    @Test(arguments: Mode.allCases)
    func accessLogRecordsReadsAndAnswersByRole(mode: Mode) async throws {
        let f = try await VisibilityRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            // Reads at metadata, of one's own mail, and lists: nothing logged.
            _ = try await call(c, .get, "threads/\(f.termSheet)", f.kim)
            _ = try await call(c, .get, "threads/\(f.lunch)", f.kim)
            _ = try await call(c, .get, "threads", f.kim)
            _ = try await call(c, .get, "threads/\(f.board)", f.sam)
            #expect(try await call(c, .get, "access-log", f.alex).array.isEmpty)

            #expect(try await call(c, .put, "me/sharing", f.alex, #"{"level": "full"}"#).status == .ok)
            #expect(try await call(c, .put, "me/sharing", f.sam, #"{"level": "subject"}"#).status == .ok)
            _ = try await call(c, .get, "threads", f.kim)
            _ = try await call(c, .get, "threads?text=Secret", f.kim)
            #expect(try await call(c, .get, "access-log", f.alex).array.isEmpty)  // listing does not log
            _ = try await call(c, .get, "threads/\(f.termSheet)", f.kim)  // kim reads alex's, full
            _ = try await call(c, .get, "threads/\(f.intro)", f.kim)  // kim reads sam's, subject
            _ = try await call(c, .get, "threads/\(f.termSheet)", f.sam)  // sam reads alex's, full
            _ = try await call(c, .get, "threads/\(f.board)", f.kim)  // kim reads alex's and sam's, full
            _ = try await call(c, .get, "threads/\(f.board)", f.alex)  // his own
            _ = try await call(c, .get, "threads/\(f.lunch)", f.alex)  // internal: nothing shown

            let all = try await call(c, .get, "access-log", f.alex)
            #expect(all.status == .ok)
            func rows(_ r: Reply) -> [String] {
                r.array.map {
                    "\($0["viewer"] as? String ?? "?") \($0["owner"] as? String ?? "?") \($0["messageId"] as? String ?? "?") \($0["level"] as? String ?? "?")"
                }
            }
            #expect(
                rows(all) == [
                    "kim@firm.example alex@firm.example deal@lumenridge.example full",
                    "kim@firm.example sam@firm.example intro@quillstone.example subject",
                    "sam@firm.example alex@firm.example deal@lumenridge.example full",
                    "kim@firm.example alex@firm.example board@harbor.example full",
                    "kim@firm.example sam@firm.example board@harbor.example full",
                ])
            for e in all.array {
                #expect(Set(e.keys) == ["viewer", "owner", "messageId", "level", "surface", "at"], "\(e.keys)")
                #expect(e["surface"] as? String == "api" && (e["at"] as? String)?.isEmpty == false)
                #expect((e["messageId"] as? String)?.contains("<") == false)
            }
            // Admin filters.
            #expect(rows(try await call(c, .get, "access-log?viewer=kim@firm.example", f.alex)).count == 4)
            #expect(
                rows(try await call(c, .get, "access-log?owner=sam@firm.example", f.alex)) == [
                    "kim@firm.example sam@firm.example intro@quillstone.example subject",
                    "kim@firm.example sam@firm.example board@harbor.example full",
                ])
            #expect(
                rows(try await call(c, .get, "access-log?viewer=sam@firm.example&owner=alex@firm.example", f.alex)) == [
                    "sam@firm.example alex@firm.example deal@lumenridge.example full"
                ])
            // A member: the reads of their own mail only.
            let samsOwn = try await call(c, .get, "access-log", f.sam)
            #expect(
                samsOwn.status == .ok && rows(samsOwn).count == 2
                    && samsOwn.array.allSatisfy { $0["owner"] as? String == "sam@firm.example" })
            #expect(rows(try await call(c, .get, "access-log?owner=SAM@firm.example", f.sam)).count == 2)
            #expect(rows(try await call(c, .get, "access-log?viewer=kim@firm.example", f.sam)).count == 2)
            // Sam's own reads are of alex's mail: alex's (or an admin's) to see, not sam's.
            #expect(rows(try await call(c, .get, "access-log?viewer=sam@firm.example", f.sam)).isEmpty)
            let forbidden = try await call(c, .get, "access-log?owner=alex@firm.example", f.sam)
            #expect(forbidden.status == .forbidden && forbidden.message != nil)
            let kims = try await call(c, .get, "access-log", f.kim)
            #expect(kims.status == .ok && kims.array.isEmpty)
            #expect(try await call(c, .get, "access-log", nil).status == .unauthorized)
        }
    }
}
