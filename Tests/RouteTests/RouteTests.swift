import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// A populated system behind the routes: two teammates (alex is admin), two threads, one stored attachment.
struct RouteFixture: Sendable {
    let db: CaptureDatabase
    let directory: CRMDirectory
    let adminToken: String
    let userToken: String
    let store: AttachmentStore
    let triggers: Triggers
    let attachmentId: Int64
    let alexThread: Int64
    let samThread: Int64

    static func make() async throws -> RouteFixture {
        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        try await directory.addUser(email: "alex@firm.example", name: "Alex", admin: true)
        try await directory.addUser(email: "sam@firm.example", name: "Sam", admin: false)
        _ = try await directory.importInvestors(
            [Investor(id: "inv-lumen", name: "Lumenridge", emails: ["maya@lumenridge.example"], domains: [])],
            workspaceDomain: "firm.example")
        let auth = APITokenAuthenticator(directory: directory)
        let admin = try await auth.issue(forUserEmail: "alex@firm.example").token
        let user = try await auth.issue(forUserEmail: "sam@firm.example").token
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: nil)
        var m = ParsedMessage()
        m.messageId = "deal@lumenridge.example"; m.gmailId = "a1"; m.threadId = "ta"; m.subject = "Term sheet"
        m.from = .init(name: "Maya", address: "maya@lumenridge.example"); m.to = [.init(name: nil, address: "alex@firm.example")]
        m.date = Date(timeIntervalSince1970: 1_709_658_000); m.textBody = "Attached."
        m.attachments = [
            ParsedAttachment(
                partId: "1", filename: "term \"sheet\".pdf", mimeType: "application/pdf", size: 8, contentId: nil, inline: false,
                attachmentId: nil, sha256: nil)
        ]
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: "firm.example")
        let a = try await db.store(m, account: alex, links: index.links(for: ["maya@lumenridge.example"]))
        var other = ParsedMessage()
        other.messageId = "lunch@firm.example"; other.gmailId = "s1"; other.threadId = "ts"; other.subject = "Lunch"
        other.from = .init(name: nil, address: "kim@firm.example"); other.to = [.init(name: nil, address: "sam@firm.example")]
        other.date = Date(timeIntervalSince1970: 1_709_700_000)
        let s = try await db.store(other, account: sam, links: [])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)")
        let store = AttachmentStore(root: root)
        let sha = try store.put(Array("%PDF-1.4".utf8))
        // The one attachment (the term sheet) owed a download, recorded as stored the way the downloader records it.
        let attId = try #require(await db.owedAttachmentDownloads(mailbox: nil).first { $0.gmailId == "a1" }).id
        try await db.recordAttachmentStored(id: attId, sha256: sha, size: 8)
        return RouteFixture(
            db: db, directory: directory, adminToken: admin, userToken: user, store: store, triggers: Triggers(),
            attachmentId: attId, alexThread: a.threadId, samThread: s.threadId)
    }

    func app(enabled: Bool = true, oauth: OAuthTokenProvider? = nil, clock: any CaptureClock = SystemClock()) -> some ApplicationProtocol {
        let routes = EmailRoutes(
            enabled: enabled, database: db, directory: directory, authenticator: APITokenAuthenticator(directory: directory),
            attachments: store, oauth: oauth, workspaceDomain: "firm.example", clock: clock,
            runNow: { t in triggers.append(t) })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        return Application(router: router)
    }
}

enum Mode: String, CaseIterable, CustomTestStringConvertible {
    case router, live
    var testDescription: String { rawValue }
    var testing: TestingSetup { self == .router ? .router : .live }
}

/// Run-now triggers the routes asked for.
final class Triggers: Sendable {
    let list = Mutex<[SyncScheduler.Trigger]>([])
    func append(_ t: SyncScheduler.Trigger) { list.withLock { $0.append(t) } }
    var all: [SyncScheduler.Trigger] { list.withLock { $0 } }
}

/// The `error.message` of a JSON error body.
func errorMessage(_ r: TestResponse) throws -> String? {
    (try object(r))["error"].flatMap { ($0 as? [String: Any])?["message"] as? String }
}
func errorCode(_ r: TestResponse) throws -> Int? { (try object(r))["error"].flatMap { ($0 as? [String: Any])?["code"] as? Int } }

func bearer(_ t: String) -> HTTPFields { [.authorization: "Bearer \(t)"] }

func object(_ r: TestResponse) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any])
}

@Suite struct EmailRouteTests {
    @Test(arguments: Mode.allCases)
    func authenticationAndRoles(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app().test(mode.testing) { client in
            try await client.execute(uri: "/api/email/status", method: .get) { r in
                let code = try errorCode(r)
                #expect(r.status == .unauthorized && code == 401)
            }
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer("gct_nope")) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/api/email/accounts/enroll-all", method: .post, headers: bearer(f.userToken)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/email/rematch", method: .post, headers: bearer(f.userToken)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/email/rematch", method: .post, headers: bearer(f.adminToken)) { r in
                #expect(r.status == .ok)
                let value = (try object(r))["links"] as? Int
                #expect(value == 1)
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func statusAccountsAndEnrollment(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app().test(mode.testing) { client in
            try await client.execute(uri: "/api/email/status", method: .get, headers: bearer(f.adminToken)) { r in
                let o = try object(r)
                #expect(o["health"] as? String == "ok")
                #expect((o["mailboxes"] as? [Any])?.count == 2)
            }
            try await client.execute(uri: "/api/email/accounts", method: .get, headers: bearer(f.userToken)) { r in
                let list = try #require(JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [[String: Any]])
                #expect(list.map { $0["email"] as? String } == ["sam@firm.example"])  // a teammate sees their own
            }
            try await client.execute(
                uri: "/api/email/accounts/enroll", method: .post, headers: bearer(f.userToken),
                body: ByteBuffer(string: #"{"email": "kim@firm.example"}"#)
            ) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/api/email/accounts/enroll", method: .post, headers: bearer(f.userToken), body: ByteBuffer(string: "{not json")
            ) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(
                uri: "/api/email/accounts/enroll", method: .post, headers: bearer(f.adminToken),
                body: ByteBuffer(string: #"{"email": "not-an-address"}"#)
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/api/email/accounts/enroll", method: .post, headers: bearer(f.adminToken),
                body: ByteBuffer(string: #"{"email": "kim@firm.example"}"#)
            ) { r in
                #expect(r.status == .created)
                let value = (try object(r))["email"] as? String
                #expect(value == "kim@firm.example")
            }
            try await client.execute(uri: "/api/email/accounts/enroll-all", method: .post, headers: bearer(f.adminToken)) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/email/accounts/999/pause", method: .post, headers: bearer(f.adminToken)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/email/accounts/abc/pause", method: .post, headers: bearer(f.adminToken)) {
                #expect($0.status == .badRequest)
            }
            // Authorization before existence: another's account answers exactly like a missing one.
            var answers: [String] = []
            for id in [1, 999] {
                try await client.execute(uri: "/api/email/accounts/\(id)/pause", method: .post, headers: bearer(f.userToken)) { r in
                    answers.append("\(r.status.code) \(try errorMessage(r) ?? "")")
                }
            }
            #expect(answers == ["404 no such account", "404 no such account"])
            try await client.execute(uri: "/api/email/accounts/2/pause", method: .post, headers: bearer(f.userToken)) { r in
                #expect(r.status == .ok)
                let value = (try object(r))["enabled"] as? Bool
                #expect(value == false)
            }
            try await client.execute(uri: "/api/email/accounts/2/resume", method: .post, headers: bearer(f.userToken)) { r in
                let value = (try object(r))["state"] as? String
                #expect(value == "idle")
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func threadsVisibilityFiltersAndAttachments(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app().test(mode.testing) { client in
            // Admins read by the team's rules: Sam's lunch with Kim is internal mail, private to Sam.
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.adminToken)) { r in
                let count = ((try object(r))["threads"] as? [Any])?.count
                #expect(count == 1)
            }
            try await client.execute(uri: "/api/email/threads?investor=inv-lumen", method: .get, headers: bearer(f.adminToken)) { r in
                let threads = try #require((try object(r))["threads"] as? [[String: Any]])
                #expect(threads.count == 1 && (threads[0]["investorLinks"] as? [[String: Any]])?.first?["rule"] as? String == "exact")
            }
            try await client.execute(uri: "/api/email/threads?text=term&after=2024-03-01", method: .get, headers: bearer(f.adminToken)) {
                r in
                let count = ((try object(r))["threads"] as? [Any])?.count
                #expect(count == 1)
            }
            try await client.execute(uri: "/api/email/threads", method: .get, headers: bearer(f.userToken)) { r in
                let threads = try #require((try object(r))["threads"] as? [[String: Any]])
                // Sam's own thread, and Alex's at the default metadata level (no subject).
                #expect(threads.map { $0["subject"] as? String } == ["Lunch", nil])
            }
            try await client.execute(uri: "/api/email/threads?limit=0", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/email/threads?before=yesterday", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/email/threads?account=alex@firm.example", method: .get, headers: bearer(f.userToken)) { r in
                let threads = try #require((try object(r))["threads"] as? [[String: Any]])
                #expect(threads.map { $0["id"] as? Int } == [Int(f.alexThread)] && threads.first?["subject"] is NSNull)
            }
            try await client.execute(uri: "/api/email/threads/\(f.alexThread)", method: .get, headers: bearer(f.adminToken)) { r in
                let o = try object(r)
                let messages = try #require(o["messages"] as? [[String: Any]])
                #expect(messages.first?["textBody"] as? String == "Attached.")
                #expect((messages.first?["attachments"] as? [[String: Any]])?.first?["state"] as? String == "stored")
                #expect((messages.first?["participants"] as? [[String: Any]])?.count == 2)
            }
            try await client.execute(uri: "/api/email/threads/\(f.alexThread)", method: .get, headers: bearer(f.userToken)) { r in
                let messages = try #require((try object(r))["messages"] as? [[String: Any]])
                #expect(messages.count == 1 && messages[0]["visibility"] as? String == "metadata")
                #expect(
                    messages[0]["textBody"] is NSNull && messages[0]["subject"] is NSNull
                        && (messages[0]["attachments"] as? [Any])?.isEmpty == true)
                #expect(messages[0]["owners"] as? [String] == ["alex@firm.example"] && messages[0]["direction"] as? String == "inbound")
            }
            try await client.execute(uri: "/api/email/threads/424242", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/email/threads/x", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/email/attachments/\(f.attachmentId)", method: .get, headers: bearer(f.adminToken)) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body) == "%PDF-1.4")
                #expect(r.headers[.contentType] == "application/pdf")
                #expect(
                    r.headers[.contentDisposition] == #"attachment; filename="term \"sheet\".pdf"; filename*=UTF-8''term%20%22sheet%22.pdf"#
                )
                #expect(r.headers[.contentSecurityPolicy] == "sandbox")
                #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
            try await client.execute(uri: "/api/email/attachments/\(f.attachmentId)", method: .get, headers: bearer(f.userToken)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/email/attachments/999", method: .get, headers: bearer(f.adminToken)) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func runNowIsAcceptedAndQueued(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app().test(mode.testing) { client in
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken)) {
                #expect($0.status == .accepted)
            }
            try await client.execute(
                uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.userToken),
                body: ByteBuffer(string: #"{"account": "alex@firm.example"}"#)
            ) { #expect($0.status == .notFound) }
            try await client.execute(
                uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.adminToken),
                body: ByteBuffer(string: #"{"account": "nobody@firm.example"}"#)
            ) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/email/sync/run-now", method: .post, headers: bearer(f.adminToken)) {
                #expect($0.status == .accepted)
            }
        }
        #expect(f.triggers.all == [.mailbox("sam@firm.example"), .all])
    }

    @Test(arguments: Mode.allCases)
    func disabledAnswers503Everywhere(mode: Mode) async throws {
        let f = try await RouteFixture.make()
        try await f.app(enabled: false).test(mode.testing) { client in
            for (uri, method) in [
                ("status", HTTPRequest.Method.get), ("accounts", .get), ("threads", .get), ("sync/run-now", .post),
                ("rematch", .post), ("oauth/start", .get), ("oauth/callback?code=x&state=y", .get),
            ] {
                try await client.execute(uri: "/api/email/\(uri)", method: method, headers: bearer(f.adminToken)) { r in
                    let message = try errorMessage(r)
                    #expect(r.status == .serviceUnavailable && message != nil)
                }
            }
        }
    }
}
