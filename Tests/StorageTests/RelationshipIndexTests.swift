import CaptureParsing
import FakeGmail
import FakeGmailBridge
import Foundation
@testable import GmailCapture
import TestSupport
import Testing

/// The maintained relationship index against the figures computed from every visible message: the same
/// investors report for every viewer, at clock readings around the windows' edges, after new mail,
/// deleted mail, private marks, a sharing change and a changed investor list.
@Suite struct RelationshipIndexTests {
    static let teammates = DemoFirm.teammates

    struct Firm {
        let fake: FakeGmail
        let runtime: CaptureRuntime
        let firm: DemoFirm
    }

    static func firm() async throws -> Firm {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rel-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.databasePath = dir.appendingPathComponent("crm.db").path
        config.workspaceDomain = DemoFirm.domain
        config.apiBaseURL = "http://fakegmail.relindex"
        config.rateUnitsPerSecond = 5_000
        config.attachmentDirectory = dir.appendingPathComponent("attachments").path
        let firm = DemoFirm(conversations: 60, seed: 7)
        let fake = FakeGmail(options: .init(seed: 7, quota: .classic, baseURL: config.apiBaseURL))
        try await firm.seed(fake)
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let runtime = try CaptureRuntime.build(config, transport: transport, tokens: tokens, clock: clock)
        for tm in teammates { try await runtime.directory.addUser(email: tm, name: nil, admin: tm.hasPrefix("alex")) }
        _ = try await runtime.directory.importInvestors(firm.investors, workspaceDomain: DemoFirm.domain)
        for tm in teammates { try await runtime.database.upsertAccount(email: tm, userId: nil) }
        _ = try await runtime.gmail!.engine.syncAll(concurrency: 2)
        return Firm(fake: fake, runtime: runtime, firm: firm)
    }

    static func domain(of address: String) -> String { String(address.split(separator: "@")[1]) }

    /// Every viewer, at several clock readings: the index's report equals the recomputed one.
    static func expectAgreement(_ f: Firm, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let last = try #require(f.firm.deliveries.map(\.internalDate).max())
        let end = Date(timeIntervalSince1970: Double(last) / 1000)
        let readings = [
            end, end.addingTimeInterval(29.5 * 86_400), end.addingTimeInterval(95 * 86_400), end.addingTimeInterval(400 * 86_400),
        ]
        let viewers: [Viewer] = [.operator] + teammates.map { .teammate($0) }
        var compared = 0
        var suggestedAtAll = 0
        var withReplies = 0
        for now in readings {
            var reports = f.runtime.relationships
            reports.asOf = now
            for viewer in viewers {
                let fast = try await reports.investors(for: viewer)
                let reference = try await reports.investorsRecomputed(for: viewer)
                #expect(fast == reference, "\(label): \(viewer) at \(now)", sourceLocation: sourceLocation)
                compared += reference.count
                for (minimum, days) in [(1, 1), (2, 20), (5, 90)] {
                    let cold = try await reports.cold(for: viewer, minInteractions: minimum, days: days)
                    let coldReference = try await reports.coldRecomputed(for: viewer, minInteractions: minimum, days: days)
                    #expect(
                        cold == coldReference, "\(label): cold \(minimum)/\(days) for \(viewer) at \(now)", sourceLocation: sourceLocation)
                }
                // One investor at a time: the same object, reply-time medians included (read per investor).
                for investor in reference.prefix(3).map(\.investorId) {
                    let one = try await reports.investors(for: viewer, investor: investor)
                    #expect(
                        one == (try await reports.investorsRecomputed(for: viewer, investor: investor)),
                        "\(label): \(investor) alone for \(viewer) at \(now)", sourceLocation: sourceLocation)
                    #expect(one.allSatisfy { $0.replies != nil } && !one.isEmpty, sourceLocation: sourceLocation)
                    withReplies += one.filter { $0.replies?.theirMedianSeconds != nil && $0.replies?.ourMedianSeconds != nil }.count
                }
                // Timelines: the same items (ties in time may be ordered differently by the reference), and
                // pages that cover the list exactly once.
                for investor in reference.prefix(4).map(\.investorId) {
                    func key(_ t: RelationshipReports.TimelineItem) -> String { "\(t.at) \(t.threadId) \(t.messageId ?? "")" }
                    let all = try #require(try await reports.timeline(investorId: investor, for: viewer, limit: 100_000, offset: 0))
                    let ref = try #require(
                        try await reports.timelineRecomputed(investorId: investor, for: viewer, limit: 100_000, offset: 0))
                    #expect(
                        all.sorted { key($0) < key($1) }.map { "\(key($0)) \($0.direction) \($0.teammates)" }
                            == ref.sorted { key($0) < key($1) }.map { "\(key($0)) \($0.direction) \($0.teammates)" },
                        "\(label): timeline of \(investor) for \(viewer)", sourceLocation: sourceLocation)
                    #expect(all.map(\.at) == all.map(\.at).sorted(by: >), sourceLocation: sourceLocation)
                    var paged: [RelationshipReports.TimelineItem] = []
                    while let page = try await reports.timeline(investorId: investor, for: viewer, limit: 7, offset: paged.count),
                        !page.isEmpty
                    {
                        paged += page
                    }
                    #expect(paged.map(key) == all.map(key), "\(label): pages of \(investor)", sourceLocation: sourceLocation)
                }
                // who-knows reads only the mail its party is on; it answers as it does from all the mail.
                var queries: [String] = [
                    "gmail.com", "rosainvests@gmail.com", "ROSA.INVESTS@GMAIL.COM", "nobody@nowhere.example", "quillstone.example",
                    "eu.quillstone.example", "eva@eu.quillstone.example", "firm.example", "kim@firm.example", "co.example",
                ]
                for investor in f.firm.investors.prefix(3) { queries += [investor.emails[0], Self.domain(of: investor.emails[0])] }
                for investor in f.firm.investors.filter({ $0.emails.count > 1 }).prefix(2) {
                    queries.append(Self.domain(of: investor.emails[1]))
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                for q in queries {
                    let fast = try encoder.encode(try await reports.whoKnows(q, for: viewer))
                    let reference = try encoder.encode(try await reports.whoKnowsRecomputed(q, for: viewer))
                    #expect(fast == reference, "\(label): who-knows \(q) for \(viewer) at \(now)", sourceLocation: sourceLocation)
                }
                // Suggestions from the people's index as from all the mail.
                let suggested = try await reports.suggestions(for: viewer)
                #expect(
                    try encoder.encode(suggested) == encoder.encode(try await reports.suggestionsRecomputed(for: viewer)),
                    "\(label): suggestions for \(viewer) at \(now)", sourceLocation: sourceLocation)
                suggestedAtAll += suggested.count
                // Every figure, windows included (the report shows only some of them).
                let indexed = try await reports.indexedFigures(for: viewer)
                let recomputed = try await reports.recomputedFigures(for: viewer)
                #expect(Set(indexed.keys) == Set(recomputed.keys), "\(label): \(viewer) at \(now)", sourceLocation: sourceLocation)
                for (id, r) in recomputed {
                    #expect(indexed[id]?.team == r.team, "\(label): \(viewer) at \(now), \(id) team", sourceLocation: sourceLocation)
                    #expect(indexed[id]?.byTeammate == r.byTeammate, "\(label): \(viewer) at \(now), \(id)", sourceLocation: sourceLocation)
                }
            }
        }
        #expect(compared > 0, "\(label): nothing compared", sourceLocation: sourceLocation)
        #expect(suggestedAtAll > 0, "\(label): no suggestion compared", sourceLocation: sourceLocation)
        #expect(withReplies > 0, "\(label): no reply-time median compared", sourceLocation: sourceLocation)
    }

    @Test func theIndexAgreesWithTheRecomputedReportThroughChanges() async throws {
        let f = try await Self.firm()
        let db = f.runtime.database
        let rm = f.runtime.readModel
        try await Self.expectAgreement(f, "after backfill")

        // Some of kim's and sam's copies deleted (a message can lose one holder or its last one).
        for mailbox in ["kim@firm.example", "sam@firm.example"] {
            let account = try #require(try await db.account(email: mailbox))
            let ids = try await db.knownGmailIds(accountId: account.id).sorted().prefix(25)
            #expect(try await db.markDeleted(accountId: account.id, gmailIds: Array(ids), at: Date()) > 0)
        }
        try await Self.expectAgreement(f, "after deletions")

        // Private marks hide others' mail from some viewers (a thread, an address, a domain).
        let kimThread = try #require(try await rm.threads(for: .teammate("kim@firm.example"), mailbox: "kim@firm.example", limit: 5).first)
        #expect(try await rm.markThread(kimThread.id, owner: "kim@firm.example", mode: .private))
        try await rm.markDomain("quillstone.example", owner: "lee@firm.example", mode: .private)
        try await rm.markAddress("maya@lumenridge.example", owner: "pat@firm.example", mode: .private)
        try await rm.setSharingLevel(.full, for: "sam@firm.example")
        try await Self.expectAgreement(f, "after private marks")

        // New mail in two mailboxes, captured by an incremental sync.
        let raw = Array(
            """
            From: Omar <omar@quillstone.example>\r
            To: kim@firm.example\r
            Cc: alex@firm.example, Eva <eva@eu.quillstone.example>\r
            Subject: Follow-up\r
            Date: \(DateFormatter.rfc2822(Date(timeIntervalSince1970: Double(f.firm.deliveries.map(\.internalDate).max()!) / 1000 - 3600)))\r
            Message-ID: <rel-index-new@quillstone.example>\r
            \r
            Numbers attached.\r

            """.utf8)
        _ = try await f.fake.insertMessage(user: "kim@firm.example", raw: raw)
        _ = try await f.fake.insertMessage(user: "alex@firm.example", raw: raw)
        _ = try await f.runtime.gmail!.engine.syncAll(concurrency: 2)
        try await Self.expectAgreement(f, "after new mail")

        // A new investor (an address of mail already captured) and a changed one: the index is rebuilt.
        var investors = try await f.runtime.directory.investors()
        investors.append(Investor(id: "inv-new", name: "Associate at Quillstone", emails: ["associate@quillstone.example"], domains: []))
        investors[0].emails.append("associate@lumenridge.example")
        _ = try await f.runtime.directory.importInvestors(investors, workspaceDomain: DemoFirm.domain)
        _ = try await f.runtime.directory.rematch(workspaceDomain: DemoFirm.domain)
        try await Self.expectAgreement(f, "after the investor list changed")
        let reports = f.runtime.relationships
        #expect(try await reports.investors(for: .operator).contains { $0.investorId == "inv-new" })
    }
}

extension DateFormatter {
    static func rfc2822(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: d)
    }
}

/// The index's month arithmetic against Foundation's Gregorian calendar (UTC), which it replaced.
@Suite struct RelationshipMonthTests {
    @Test func monthsAgreeWithFoundationsCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var rng = FakeRandom(seed: 14)
        // 1600-01-01 to 2400-01-01, random instants plus every month boundary's neighbours.
        var instants = (0..<20_000).map { _ in Double.random(in: -11_676_096_000...13_569_465_600, using: &rng).rounded(.down) }
        for year in [1600, 1899, 1900, 1969, 1970, 2000, 2024, 2026, 2083, 2100, 2399] {
            for month in 1...12 {
                let start = calendar.date(from: DateComponents(year: year, month: month, day: 1))!.timeIntervalSince1970
                instants += [start - 1, start, start + 0.5]
            }
        }
        for at in instants {
            let c = calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: at))
            let expected = c.year! * 12 + c.month! - 1
            #expect(RelationshipIndex.month(at) == expected, "\(at)")
            #expect(RelationshipIndex.monthStart(expected) <= at && at < RelationshipIndex.monthStart(expected + 1), "\(at)")
        }
    }
}
