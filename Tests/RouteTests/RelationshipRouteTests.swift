import CaptureParsing
import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

// Issue 14's routes (GET /api/email/investors, /investors/cold, /investors/{id}, /who-knows?q=,
// /contacts/suggestions), in-process and over a live socket, always as the authenticated viewer. The
// routes compute on their clock: a ManualCaptureClock fixed at 2025-01-01T00:00:00Z. Expected strengths
// follow RelationshipCalculator's documented formula:
//     strength = round₁(100 × R × F × Q), R = 2^(−d/90), F = min(1, log₂(1 + W)/4),
//     Q = 0.5 + 0.5 × min/max (two-way), 0.4 (only in), 0.25 (only copied), 0.1 (only out).

/// 2025-01-01T00:00:00Z.
private let now = Date(timeIntervalSince1970: 1_735_689_600)
private func ago(_ d: Double, plus h: Double = 0) -> Date { now.addingTimeInterval(-d * 86_400 + h * 3_600) }
private func iso(_ d: Date) -> String { CaptureDatabase.isoString(d) }

private let alex = "alex@firm.example"
private let bob = "bob@firm.example"
private let kim = "kim@firm.example"
private let maya = "maya@lumenridge.example"
private let ben = "ben@beta.example"
private let sara = "sara@acme.example"

private let relationshipKeys: Set<String> = [
    "investorId", "name", "firstContactAt", "lastContactAt", "lastContactBy", "lastInboundAt", "lastOutboundAt", "messagesIn",
    "messagesOut", "threads", "strength", "grade", "teammates",
]
private let teammateKeys: Set<String> = ["email", "strength", "grade", "messagesIn", "messagesOut", "lastContactAt"]
private let grades: Set<String> = ["very strong", "strong", "moderate", "weak", "very weak"]

/// A firm behind the routes: alex (admin), bob and kim (members), each with a mailbox and a token.
///
/// - Scenario A (maya): bob writes (−10 d), maya replies to alex and bob (+3 h), alex answers (+5 h).
/// - kim's thread with maya: maya writes (−3 d), kim answers (+1 h).
/// - ben (investor): six messages alternating in/out with bob, one a day, the last 200 days ago (one thread).
/// - sara (not an investor): two each way with alex, the last 9 days ago.
private struct RelationshipRouteFixture: Sendable {
    static let workspace = "firm.example"
    let db: CaptureDatabase
    let directory: CRMDirectory
    let tokens: [String: String]
    /// kim's thread with maya.
    let kimThread: Int64
    let store: AttachmentStore

    static func make() async throws -> RelationshipRouteFixture {
        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        let auth = APITokenAuthenticator(directory: directory)
        var tokens: [String: String] = [:]
        var accounts: [String: CaptureDatabase.Account] = [:]
        for t in [alex, bob, kim] {
            try await directory.addUser(email: t, name: nil, admin: t == alex)
            tokens[t] = try await auth.issue(forUserEmail: t).token
            accounts[t] = try await db.upsertAccount(email: t, userId: nil)
        }
        _ = try await directory.importInvestors(
            [
                Investor(id: "inv-maya", name: "Maya at Lumenridge", emails: [maya], domains: ["lumenridge.example"]),
                Investor(id: "inv-ben", name: "Ben at Beta", emails: [ben], domains: []),
                Investor(id: "inv-quiet", name: "Nobody writes", emails: ["quiet@silent.example"], domains: []),
            ], workspaceDomain: workspace)
        @discardableResult
        func deliver(
            _ id: String, from: String, to: [String], date: Date, replyTo: String? = nil, in mailboxes: [String], name: String? = nil
        ) async throws -> Int64 {
            var thread: Int64 = 0
            for mailbox in mailboxes {
                var m = ParsedMessage()
                m.messageId = id
                m.gmailId = "\(mailbox.prefix { $0 != "@" })-\(id)"
                m.threadId = "t-\(id)"
                m.labelIds = mailbox == from ? ["SENT"] : ["INBOX"]
                m.subject = "About \(id)"
                m.textBody = "Body"
                m.from = .init(name: name, address: from)
                m.to = to.map { .init(name: nil, address: $0) }
                m.inReplyTo = replyTo
                m.references = replyTo.map { [$0] } ?? []
                m.date = date
                m.internalDateMillis = Int64(date.timeIntervalSince1970 * 1000)
                thread = try await db.store(m, account: accounts[mailbox]!, links: []).threadId
            }
            return thread
        }
        try await deliver("a1@firm.example", from: bob, to: [maya], date: ago(10), in: [bob])
        try await deliver(
            "a2@lumenridge.example", from: maya, to: [alex, bob], date: ago(10, plus: 3), replyTo: "a1@firm.example", in: [alex, bob],
            name: "Maya Lind")
        try await deliver("a3@firm.example", from: alex, to: [maya], date: ago(10, plus: 5), replyTo: "a2@lumenridge.example", in: [alex])
        try await deliver("k1@lumenridge.example", from: maya, to: [kim], date: ago(3), in: [kim])
        let kimThread = try await deliver(
            "k2@firm.example", from: kim, to: [maya], date: ago(3, plus: 1), replyTo: "k1@lumenridge.example", in: [kim])
        var previous: String?
        for n in 0..<6 {
            let id = "b\(n)@beta.example"
            let fromBen = n % 2 == 0
            try await deliver(
                id, from: fromBen ? ben : bob, to: [fromBen ? bob : ben], date: ago(205 - Double(n)), replyTo: previous, in: [bob])
            previous = id
        }
        for (n, fromSara) in [true, false, true, false].enumerated() {
            try await deliver(
                "s\(n)@acme.example", from: fromSara ? sara : alex, to: [fromSara ? alex : sara], date: ago(12 - Double(n)), in: [alex],
                name: fromSara ? "Sara Quinn" : nil)
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rel-routes-\(UUID().uuidString)")
        return RelationshipRouteFixture(
            db: db, directory: directory, tokens: tokens, kimThread: kimThread, store: AttachmentStore(root: root))
    }

    func app() -> some ApplicationProtocol {
        let routes = EmailRoutes(
            enabled: true, database: db, directory: directory,
            readModel: ReadModel(database: db, policy: VisibilityPolicy(defaultLevel: .metadata, workspaceDomain: Self.workspace)),
            authenticator: APITokenAuthenticator(directory: directory), attachments: store, oauth: nil, workspaceDomain: Self.workspace,
            clock: ManualCaptureClock(start: now), runNow: { _ in })
        let router = Router()
        router.addRoutes(routes.collection(), atPath: "/api/email")
        return Application(router: router)
    }
}

/// The status and decoded JSON of one answer.
private struct RelReply {
    let status: HTTPResponse.Status
    let json: Any?
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var message: String? { (object["error"] as? [String: Any])?["message"] as? String }
}

private func get(_ client: some TestClientProtocol, _ uri: String, _ token: String?) async throws -> RelReply {
    try await send(client, .get, uri, token)
}

private func send(
    _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?, _ body: String? = nil
) async throws -> RelReply {
    let r = try await client.execute(
        uri: "/api/email/" + uri, method: method, headers: token.map { bearer($0) } ?? [:], body: body.map { ByteBuffer(string: $0) })
    let data = Data(r.body.readableBytesView)
    return RelReply(
        status: r.status, json: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
}

/// A teammate object as a line: email strength grade in out last.
private func line(_ t: [String: Any]) -> String {
    "\(t["email"] as? String ?? "?") \(t["strength"] as? Double ?? -1) \(t["grade"] as? String ?? "?") in \(t["messagesIn"] as? Int ?? -1) out \(t["messagesOut"] as? Int ?? -1) last \(t["lastContactAt"] as? String ?? "-")"
}
private func teammates(_ o: [String: Any]) -> [[String: Any]] { o["teammates"] as? [[String: Any]] ?? [] }

@Suite struct RelationshipRouteTests {
    /// The relationships array: the exact keys, the figures, strongest first.
    @Test(arguments: Mode.allCases)
    func investorsListsTheTeamsRelationships(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            #expect(try await get(c, "investors", nil).status == .unauthorized)
            let r = try await get(c, "investors", f.tokens[alex])
            #expect(r.status == .ok)
            // inv-quiet has no interaction: not listed. maya 52.6 (below), ben 15.0.
            #expect(r.array.map { $0["investorId"] as? String } == ["inv-maya", "inv-ben"])
            for o in r.array {
                #expect(Set(o.keys) == relationshipKeys, "\(o.keys.sorted())")
                for t in teammates(o) { #expect(Set(t.keys) == teammateKeys, "\(t.keys.sorted())") }
                #expect(grades.contains(o["grade"] as? String ?? ""))
            }
            let m = r.array[0]
            // maya, as alex sees it (kim's thread at the default metadata level): in 2 (a2, k1), out 3 (a1, a3,
            // k2), 2 threads, the latest k2 by kim. d = 3 − 1/24 = 2.958333 → R = 0.977470; W = 5 → F = log₂(6)/4
            // = 0.646241; Q = 0.5 + 0.5 × 2/3 = 0.833333 → 52.640 → 52.6, moderate.
            #expect(m["name"] as? String == "Maya at Lumenridge")
            #expect(m["firstContactAt"] as? String == iso(ago(10)))
            #expect(m["lastContactAt"] as? String == iso(ago(3, plus: 1)))
            #expect(m["lastContactBy"] as? String == kim)
            #expect(m["lastInboundAt"] as? String == iso(ago(3)))
            #expect(m["lastOutboundAt"] as? String == iso(ago(3, plus: 1)))
            #expect(m["messagesIn"] as? Int == 2 && m["messagesOut"] as? Int == 3 && m["threads"] as? Int == 2)
            #expect(m["strength"] as? Double == 52.6 && m["grade"] as? String == "moderate")
            // kim: 1 in, 1 out, R(2.958333) × log₂(3)/4 = 0.977470 × 0.396241 → 38.7. alex (d = 9.791667) and bob
            // (d = 9.875): 1 in, 1 out each → 36.7 each.
            #expect(
                teammates(m).map(line) == [
                    "\(kim) 38.7 weak in 1 out 1 last \(iso(ago(3, plus: 1)))",
                    "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
                    "\(bob) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 3)))",
                ])
            let b = r.array[1]
            // ben: 3 in, 3 out with bob, −205 d … −200 d, one thread. Today: R(200) = 0.214311; F = log₂(7)/4 =
            // 0.701839; Q = 1 → 15.041 → 15.0, very weak.
            #expect(b["firstContactAt"] as? String == iso(ago(205)) && b["lastContactAt"] as? String == iso(ago(200)))
            #expect(b["lastContactBy"] as? String == bob && b["lastInboundAt"] as? String == iso(ago(201)))
            #expect(b["messagesIn"] as? Int == 3 && b["messagesOut"] as? Int == 3 && b["threads"] as? Int == 1)
            #expect(b["strength"] as? Double == 15.0 && b["grade"] as? String == "very weak")
            #expect(teammates(b).map(line) == ["\(bob) 15.0 very weak in 3 out 3 last \(iso(ago(200)))"])
            // Strongest first, each in 0...100.
            let strengths = r.array.compactMap { $0["strength"] as? Double }
            #expect(strengths == strengths.sorted(by: >) && strengths.allSatisfy { (0...100).contains($0) })
        }
    }

    /// One investor with its timeline, newest first, paginated; 404 for an unknown id; bad paging is a 400.
    @Test(arguments: Mode.allCases)
    func oneInvestorWithItsTimeline(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            let token = f.tokens[alex]
            let all = try await get(c, "investors/inv-maya", token)
            #expect(all.status == .ok)
            #expect(Set(all.object.keys) == ["investor", "timeline", "limit", "offset", "nextOffset"])
            let investor = all.object["investor"] as? [String: Any] ?? [:]
            #expect(Set(investor.keys) == relationshipKeys.union(["replies"]) && investor["strength"] as? Double == 52.6)
            // Reply times, by hand: maya answered bob's a1 in 3 h (a2); the team answered her in 2 h (a3, alex)
            // and 1 h (k2, kim): median 1.5 h. Per teammate only their own exchanges count.
            let replies = investor["replies"] as? [String: Any] ?? [:]
            #expect(replies["theirMedianSeconds"] as? Double == 10_800 && replies["ourMedianSeconds"] as? Double == 5_400)
            var perTeammate: [String: String] = [:]
            for t in investor["teammates"] as? [[String: Any]] ?? [] {
                let r = t["replies"] as? [String: Any] ?? [:]
                perTeammate[t["email"] as? String ?? "?"] =
                    "\(r["theirMedianSeconds"] as? Double ?? -1) \(r["ourMedianSeconds"] as? Double ?? -1)"
            }
            #expect(perTeammate == [bob: "10800.0 -1.0", alex: "-1.0 7200.0", kim: "-1.0 3600.0"])
            #expect(all.object["limit"] as? Int == 50 && all.object["offset"] as? Int == 0 && all.object["nextOffset"] is NSNull)
            let items = all.object["timeline"] as? [[String: Any]] ?? []
            for i in items { #expect(Set(i.keys) == ["threadId", "messageId", "at", "direction", "teammates"]) }
            #expect(
                items.map { "\($0["messageId"] as? String ?? "-") \($0["direction"] as? String ?? "-") \($0["at"] as? String ?? "-")" } == [
                    "k2@firm.example outbound \(iso(ago(3, plus: 1)))", "k1@lumenridge.example inbound \(iso(ago(3)))",
                    "a3@firm.example outbound \(iso(ago(10, plus: 5)))", "a2@lumenridge.example inbound \(iso(ago(10, plus: 3)))",
                    "a1@firm.example outbound \(iso(ago(10)))",
                ])
            #expect(items.map { $0["teammates"] as? [String] ?? [] } == [[kim], [kim], [alex], [alex, bob], [bob]])
            #expect(Set(items.compactMap { $0["threadId"] as? Int }).count == 2)
            // Pages of two: 0 → next 2, 2 → next 4, 4 → the last one, no next.
            var paged: [String] = []
            var offset: Int? = 0
            var pages = 0
            while let o = offset, pages < 5 {
                let page = try await get(c, "investors/inv-maya?limit=2&offset=\(o)", token)
                #expect(page.status == .ok && page.object["limit"] as? Int == 2 && page.object["offset"] as? Int == o)
                paged += (page.object["timeline"] as? [[String: Any]] ?? []).compactMap { $0["messageId"] as? String }
                offset = page.object["nextOffset"] as? Int
                pages += 1
            }
            #expect(pages == 3)
            #expect(paged == items.compactMap { $0["messageId"] as? String })
            // Past the end: an empty page.
            let past = try await get(c, "investors/inv-maya?limit=2&offset=10", token)
            #expect(past.status == .ok && (past.object["timeline"] as? [Any])?.isEmpty == true && past.object["nextOffset"] is NSNull)
            // An investor without mail: zero figures, an empty timeline.
            let quiet = try await get(c, "investors/inv-quiet", token)
            #expect(quiet.status == .ok && (quiet.object["timeline"] as? [Any])?.isEmpty == true)
            let q = quiet.object["investor"] as? [String: Any] ?? [:]
            #expect(Set(q.keys) == relationshipKeys.union(["replies"]) && q["messagesIn"] as? Int == 0 && q["lastContactAt"] is NSNull)
            #expect((q["replies"] as? [String: Any]).map { $0["theirMedianSeconds"] is NSNull && $0["ourMedianSeconds"] is NSNull } == true)
            #expect(q["name"] as? String == "Nobody writes" && q["strength"] as? Double == 0)
            // Unknown id: 404.
            let unknown = try await get(c, "investors/inv-nobody", token)
            #expect(unknown.status == .notFound && unknown.message != nil)
            #expect(try await get(c, "investors/inv-maya", nil).status == .unauthorized)
            for bad in ["limit=0", "limit=abc", "limit=501", "offset=-1", "offset=x"] {
                let r = try await get(c, "investors/inv-maya?\(bad)", token)
                #expect(r.status == .badRequest && r.message != nil, "\(bad): \(r.status)")
            }
        }
    }

    /// who-knows: by address or domain; 400 without q or with something that is neither.
    @Test(arguments: Mode.allCases)
    func whoKnows(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            let token = f.tokens[alex]
            for q in ["maya@lumenridge.example", "lumenridge.example", "MAYA%40LumenRidge.example"] {
                let r = try await get(c, "who-knows?q=\(q)", token)
                #expect(r.status == .ok, "\(q)")
                #expect(Set(r.object.keys) == ["query", "teammates", "people"])
                #expect(r.object["query"] as? String == q.replacingOccurrences(of: "%40", with: "@"))
                #expect(
                    teammates(r.object).map(line) == [
                        "\(kim) 38.7 weak in 1 out 1 last \(iso(ago(3, plus: 1)))",
                        "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
                        "\(bob) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 3)))",
                    ], "\(q)")
                let people = r.object["people"] as? [[String: Any]] ?? []
                for p in people { #expect(Set(p.keys) == ["address", "name", "lastContactAt", "strength"]) }
                #expect(people.map { $0["address"] as? String } == [maya], "\(q)")
                #expect(people.first?["name"] as? String == "Maya Lind" && people.first?["strength"] as? Double == 52.6)
            }
            // Someone outside the CRM.
            let s = try await get(c, "who-knows?q=acme.example", token)
            #expect(teammates(s.object).map { $0["email"] as? String } == [alex])
            #expect((s.object["people"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Sara Quinn"])
            for bad in ["who-knows", "who-knows?q=", "who-knows?q=lumenridge", "who-knows?q=not%20a%20domain.example", "who-knows?q=maya@"]
            {
                let r = try await get(c, bad, token)
                #expect(r.status == .badRequest && r.message != nil, "\(bad): \(r.status)")
            }
            #expect(try await get(c, "who-knows?q=lumenridge.example", nil).status == .unauthorized)
        }
    }

    /// Going cold, with its two parameters; `cold` is not taken for an investor id.
    @Test(arguments: Mode.allCases)
    func coldInvestors(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            let token = f.tokens[alex]
            let r = try await get(c, "investors/cold", token)
            #expect(r.status == .ok)
            // ben: 6 interactions, last contact 200 days ago. maya is recent.
            #expect(r.array.map { $0["investorId"] as? String } == ["inv-ben"])
            for o in r.array { #expect(Set(o.keys) == relationshipKeys) }
            #expect(try await get(c, "investors/cold?days=199", token).array.count == 1)
            #expect(try await get(c, "investors/cold?days=200", token).array.isEmpty)  // exactly 200 days: not older
            #expect(try await get(c, "investors/cold?minInteractions=6", token).array.count == 1)
            #expect(try await get(c, "investors/cold?minInteractions=7", token).array.isEmpty)
            // maya: 5 interactions, last 3 days ago: cold when 2 days is the threshold; at her last contact her
            // strength was R = 1 × 0.646241 × 0.833333 → 53.9, ben's 70.2: ben first.
            #expect(
                try await get(c, "investors/cold?days=2&minInteractions=5", token).array.map { $0["investorId"] as? String } == [
                    "inv-ben", "inv-maya",
                ])
            for bad in ["days=0", "days=abc", "minInteractions=0", "minInteractions=-3", "days=99999999"] {
                let b = try await get(c, "investors/cold?\(bad)", token)
                #expect(b.status == .badRequest && b.message != nil, "\(bad): \(b.status)")
            }
            #expect(try await get(c, "investors/cold", nil).status == .unauthorized)
        }
    }

    @Test(arguments: Mode.allCases)
    func contactSuggestions(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            let r = try await get(c, "contacts/suggestions", f.tokens[alex])
            #expect(r.status == .ok)
            #expect(r.array.map { $0["address"] as? String } == [sara])
            let s = try #require(r.array.first)
            #expect(Set(s.keys) == ["address", "name", "domain", "messagesIn", "messagesOut", "threads", "lastContactAt", "strength"])
            // 2 in, 2 out, the last 9 days ago: F = log₂(5)/4 = 0.580482, Q = 1, R = 2^(−0.1) = 0.933033 → 54.2.
            #expect(s["name"] as? String == "Sara Quinn" && s["domain"] as? String == "acme.example")
            #expect(s["messagesIn"] as? Int == 2 && s["messagesOut"] as? Int == 2 && s["threads"] as? Int == 4)
            #expect(s["lastContactAt"] as? String == iso(ago(9)) && s["strength"] as? Double == 54.2)
            #expect(try await get(c, "contacts/suggestions", nil).status == .unauthorized)
            // alex marks acme.example private: kim no longer gets sara, alex still does.
            #expect(try await get(c, "contacts/suggestions", f.tokens[kim]).array.count == 1)
            let mark = try await send(c, .put, "privacy/addresses", f.tokens[alex], #"{"domain": "acme.example", "mode": "private"}"#)
            #expect(mark.status == .ok)
            #expect(try await get(c, "contacts/suggestions", f.tokens[kim]).array.isEmpty)
            #expect(try await get(c, "contacts/suggestions", f.tokens[alex]).array.count == 1)
        }
    }

    /// The routes the runtime serves (`serve`) apply the firm's blocklist (CRM_GMAIL_BLOCKLIST) to suggestions,
    /// as `contacts suggest` does: a blocklisted correspondent is never suggested.
    @Test(arguments: Mode.allCases)
    func suggestionsHonourTheConfiguredBlocklist(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        let transport = InProcessFakeTransport(fake: fake)
        let clock = ManualCaptureClock(start: now)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.apiBaseURL = "http://fake.test"
        config.workspaceDomain = RelationshipRouteFixture.workspace
        config.blocklist = ["acme.example"]
        config.attachmentDirectory = f.store.root.path
        let runtime = try CaptureRuntime.build(config, database: f.db, transport: transport, tokens: tokens, clock: clock)
        // The CLI's reports (runtime.relationships) leave sara out.
        #expect(try await runtime.relationships.suggestions(for: .teammate(alex)).isEmpty)
        let router = Router()
        router.addRoutes(
            runtime.routes(authenticator: APITokenAuthenticator(directory: f.directory), runNow: { _ in }).collection(),
            atPath: "/api/email")
        try await Application(router: router).test(mode.testing) { c in
            let r = try await get(c, "contacts/suggestions", f.tokens[alex])
            #expect(r.status == .ok)
            #expect(
                r.array.map { $0["address"] as? String }.isEmpty,
                "blocklisted acme.example suggested: \(r.array.map { $0["address"] ?? "" })")
        }
    }

    /// A member's view respects sharing: kim marks her thread with maya private; alex and bob no longer
    /// count it (figures, teammates, timeline, who-knows), kim still does, and the default restores it.
    @Test(arguments: Mode.allCases)
    func aPrivateMarkHidesInteractionsFromOtherMembers(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            func maya(_ viewer: String) async throws -> [String: Any] {
                let r = try await get(c, "investors", f.tokens[viewer])
                #expect(r.status == .ok)
                return r.array.first { $0["investorId"] as? String == "inv-maya" } ?? [:]
            }
            for v in [alex, bob, kim] { #expect(try await maya(v)["strength"] as? Double == 52.6, "\(v)") }
            let mark = try await send(c, .put, "threads/\(f.kimThread)/sharing", f.tokens[kim], #"{"mode": "private"}"#)
            #expect(mark.status == .ok)
            for v in [alex, bob] {
                let m = try await maya(v)
                // Scenario A alone: in 1, out 2, one thread, the latest a3 by alex: d = 9.791667 → R = 0.927361;
                // W = 3 → F = 0.5; Q = 0.75 → 34.8, weak.
                #expect(m["messagesIn"] as? Int == 1 && m["messagesOut"] as? Int == 2 && m["threads"] as? Int == 1, "\(v)")
                #expect(m["strength"] as? Double == 34.8 && m["grade"] as? String == "weak", "\(v)")
                #expect(m["lastContactBy"] as? String == alex && m["lastContactAt"] as? String == iso(ago(10, plus: 5)), "\(v)")
                #expect(teammates(m).map { $0["email"] as? String } == [alex, bob], "\(v)")
                let one = try await get(c, "investors/inv-maya", f.tokens[v])
                #expect(
                    (one.object["timeline"] as? [[String: Any]])?.map { $0["messageId"] as? String } == [
                        "a3@firm.example", "a2@lumenridge.example", "a1@firm.example",
                    ], "\(v)")
                #expect((one.object["investor"] as? [String: Any])?["strength"] as? Double == 34.8)
                let who = try await get(c, "who-knows?q=lumenridge.example", f.tokens[v])
                #expect(teammates(who.object).map { $0["email"] as? String } == [alex, bob], "\(v)")
            }
            let own = try await maya(kim)
            #expect(own["strength"] as? Double == 52.6 && teammates(own).first?["email"] as? String == kim)
            #expect((try await get(c, "investors/inv-maya", f.tokens[kim]).object["timeline"] as? [Any])?.count == 5)
            // Someone else cannot mark kim's thread (it is not theirs): 404, nothing changes.
            #expect(try await send(c, .put, "threads/\(f.kimThread)/sharing", f.tokens[alex], #"{"mode": "shared"}"#).status == .notFound)
            #expect(try await maya(alex)["strength"] as? Double == 34.8)
            #expect(try await send(c, .put, "threads/\(f.kimThread)/sharing", f.tokens[kim], #"{"mode": "default"}"#).status == .ok)
            #expect(try await maya(alex)["strength"] as? Double == 52.6)
        }
    }
}

/// Issue 15: GET /api/email/search as the authenticated viewer, in-process and over a live socket.
@Suite struct SearchRouteTests {
    static let resultKeys: Set<String> = ["threadId", "subject", "lastAt", "matchedMessageId", "snippet", "mailboxes", "investorIds"]

    @Test(arguments: Mode.allCases)
    func searchAnswersAsTheViewerWithCursors(mode: Mode) async throws {
        let f = try await RelationshipRouteFixture.make()
        try await f.app().test(mode.testing) { c in
            #expect(try await get(c, "search?q=about", nil).status == .unauthorized)
            let missing = try await get(c, "search", f.tokens[kim])
            #expect(missing.status == .badRequest && missing.message?.contains("q is required") == true)
            let unknown = try await get(c, "search?q=label:inbox", f.tokens[kim])
            #expect(unknown.status == .badRequest && unknown.message?.hasPrefix("unknown operator label:") == true)
            #expect(try await get(c, "search?q=about&limit=0", f.tokens[kim]).status == .badRequest)
            // kim's own thread matches on its subject for her...
            let own = try await get(c, "search?q=k1", f.tokens[kim])
            #expect(own.status == .ok)
            let results = own.object["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["threadId"] as? Int64 } == [f.kimThread])
            #expect(results.allSatisfy { Set($0.keys) == Self.resultKeys })
            #expect(results.first?["subject"] as? String == "About k1@lumenridge.example")
            #expect((results.first?["snippet"] as? String)?.contains("«k1»") == true)
            #expect(own.object.keys.contains("nextCursor") && own.object["nextCursor"] is NSNull)
            // ...but bob sees it only as metadata: its subject does not match, its participants do.
            let other = try await get(c, "search?q=k1", f.tokens[bob])
            #expect((other.object["results"] as? [[String: Any]])?.isEmpty == true)
            let byParticipant = try await get(c, "search?q=teammate:kim@firm.example%20from:maya", f.tokens[bob])
            let meta = byParticipant.object["results"] as? [[String: Any]] ?? []
            #expect(meta.map { $0["threadId"] as? Int64 } == [f.kimThread])
            // The snippet shows the participant that matched, nothing of the subject or body.
            let snippet = meta.first?["snippet"] as? String ?? ""
            #expect(meta.first?["subject"] is NSNull && snippet.contains("«maya»") && !snippet.contains("About"), "\(snippet)")
            // Pages of one thread each, every visible thread once.
            var seen: [Int64] = []
            var cursor: String?
            repeat {
                let page = try await get(
                    c, "search?q=body&limit=1" + (cursor.map { "&cursor=" + $0 } ?? ""), f.tokens[alex])
                #expect(page.status == .ok)
                seen += (page.object["results"] as? [[String: Any]] ?? []).compactMap { $0["threadId"] as? Int64 }
                cursor = page.object["nextCursor"] as? String
            } while cursor != nil && seen.count < 50
            #expect(seen.count == Set(seen).count && !seen.isEmpty)
            let bad = try await get(c, "search?q=body&cursor=zzz", f.tokens[alex])
            #expect(bad.status == .badRequest && bad.message?.hasPrefix("invalid cursor") == true)
        }
    }
}
