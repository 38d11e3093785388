import CaptureParsing
import Foundation
@_spi(Testing) import GmailCapture
import Testing

// Issue 14 through the store: ParsedMessages stored into an in-memory CaptureDatabase (one copy per
// mailbox that holds them), read back through ReadModel.interactions and RelationshipReports on a fixed
// clock (`asOf`). Every expected figure is computed by hand from the formula in RelationshipCalculator's
// doc comment:
//
//     strength = round₁(100 × R × F × Q)
//     R = 2^(−d / 90), d = days from the last contact to now
//     w = directness ÷ max(1, recipients / 5)     (1 for From/To, 0.5 for Cc only)
//     F = min(1, log₂(1 + W_in + W_out + W_cc) / 4)   over the last 365 days
//     Q = 0.5 + 0.5 × min/max (two-way), 0.4 (only inbound), 0.25 (only copied), 0.1 (only outbound)
//
// Handy values: log₂(2)/4 = 0.25, log₂(3)/4 = 0.396241, log₂(4)/4 = 0.5, log₂(5)/4 = 0.580482,
// log₂(6)/4 = 0.646241, log₂(7)/4 = 0.701839.

/// 2025-01-01T00:00:00Z.
private let now = Date(timeIntervalSince1970: 1_735_689_600)
private let day: TimeInterval = 86_400
private let hour: TimeInterval = 3_600
/// `d` days before `now`, plus `h` hours.
private func ago(_ d: Double, plus h: Double = 0) -> Date { now.addingTimeInterval(-d * day + h * hour) }
private func iso(_ d: Date) -> String { CaptureDatabase.isoString(d) }

private let alex = "alex@firm.example"
private let bob = "bob@firm.example"
private let kim = "kim@firm.example"
private let maya = "maya@lumenridge.example"
private let mayaInvestor = Investor(
    id: "inv-maya", name: "Maya at Lumenridge", emails: [maya, "maya@lumenridge.vc"], domains: ["lumenridge.example"])

/// A small firm: alex (admin), bob and kim, with mailboxes and CRM users; the investors given.
private struct RelFirm {
    static let workspace = "firm.example"
    let db: CaptureDatabase
    let directory: CRMDirectory
    let accounts: [String: CaptureDatabase.Account]

    static func make(investors: [Investor] = [mayaInvestor]) async throws -> RelFirm {
        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        var accounts: [String: CaptureDatabase.Account] = [:]
        for t in [alex, bob, kim] {
            try await directory.addUser(email: t, name: String(t.prefix { $0 != "@" }).capitalized, admin: t == alex)
            accounts[t] = try await db.upsertAccount(email: t, userId: nil)
        }
        if !investors.isEmpty { _ = try await directory.importInvestors(investors, workspaceDomain: workspace) }
        return RelFirm(db: db, directory: directory, accounts: accounts)
    }

    /// The Gmail id of `id`'s copy in `mailbox`.
    static func gmailId(_ id: String, _ mailbox: String) -> String { "\(mailbox.prefix { $0 != "@" })-\(id)" }

    /// Stores one message in each of `mailboxes` (the sender's copy labelled SENT); `date` nil leaves the
    /// Date header out, `copies` gives each copy's internalDate (default: the date). Returns the thread id.
    @discardableResult
    func deliver(
        _ id: String, from: String, to: [String], cc: [String] = [], date: Date?, replyTo: String? = nil, refs: [String]? = nil,
        thread: String? = nil, in mailboxes: [String], copies: [Date]? = nil, fromName: String? = nil
    ) async throws -> Int64 {
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: Self.workspace)
        var threadId: Int64 = 0
        for (n, mailbox) in mailboxes.enumerated() {
            var m = ParsedMessage()
            m.messageId = id
            m.gmailId = Self.gmailId(id, mailbox)
            m.threadId = "t-\(thread ?? id)-\(mailbox)"
            m.labelIds = mailbox == from ? ["SENT"] : ["INBOX"]
            m.subject = "Subject of \(id)"
            m.textBody = "Body of \(id)"
            m.from = .init(name: fromName, address: from)
            m.to = to.map { .init(name: nil, address: $0) }
            m.cc = cc.map { .init(name: nil, address: $0) }
            m.inReplyTo = replyTo
            m.references = refs ?? replyTo.map { [$0] } ?? []
            m.date = date
            let copyDate = copies.map { $0[n] } ?? date ?? now
            m.internalDateMillis = Int64(copyDate.timeIntervalSince1970 * 1000)
            threadId = try await db.store(m, account: accounts[mailbox]!, links: index.links(for: [from] + to + cc)).threadId
        }
        return threadId
    }

    func delete(_ id: String, in mailbox: String) async throws {
        let n = try await db.markDeleted(accountId: accounts[mailbox]!.id, gmailIds: [Self.gmailId(id, mailbox)], at: now)
        #expect(n == 1, "\(id) in \(mailbox)")
    }

    func readModel(_ level: SharingLevel = .metadata) -> ReadModel {
        ReadModel(database: db, policy: VisibilityPolicy(defaultLevel: level, workspaceDomain: Self.workspace))
    }

    func reports(level: SharingLevel = .metadata, blocklist: [String] = [], asOf: Date = now) -> RelationshipReports {
        RelationshipReports(
            readModel: readModel(level), directory: directory, policy: CapturePolicy(blocklist: blocklist), asOf: asOf)
    }

    /// Scenario A: bob writes to maya; maya replies to alex and bob; alex answers (one thread, two mailboxes).
    /// The copies' internalDates differ from the Date header (which is what counts).
    func scenarioA() async throws -> Int64 {
        try await deliver("a1@firm.example", from: bob, to: [maya], date: ago(10), thread: "A", in: [bob], copies: [ago(10, plus: 0.5)])
        try await deliver(
            "a2@lumenridge.example", from: maya, to: [alex, bob], date: ago(10, plus: 3), replyTo: "a1@firm.example", thread: "A",
            in: [alex, bob], copies: [ago(10, plus: 3.2), ago(10, plus: 3.1)], fromName: "Maya Lind")
        return try await deliver(
            "a3@firm.example", from: alex, to: [maya], date: ago(10, plus: 5), replyTo: "a2@lumenridge.example",
            refs: ["a1@firm.example", "a2@lumenridge.example"], thread: "A", in: [alex], copies: [ago(9)])
    }
}

/// One teammate figure as a line, for readable comparisons.
private func line(_ t: RelationshipReports.TeammateFigure) -> String {
    "\(t.email) \(t.strength) \(t.grade.rawValue) in \(t.messagesIn) out \(t.messagesOut) last \(t.lastContactAt ?? "-")"
}

/// The scalar figures of an investor relationship as a line.
private func line(_ r: RelationshipReports.InvestorRelationship) -> String {
    [
        r.investorId, r.name, "first \(r.firstContactAt ?? "-")", "last \(r.lastContactAt ?? "-")", "by \(r.lastContactBy ?? "-")",
        "in@ \(r.lastInboundAt ?? "-")", "out@ \(r.lastOutboundAt ?? "-")", "in \(r.messagesIn)", "out \(r.messagesOut)",
        "threads \(r.threads)", "strength \(r.strength)", r.grade.rawValue,
    ].joined(separator: " | ")
}

private func expectedLine(
    _ id: String, _ name: String, first: Date?, last: Date?, by: String?, lastIn: Date?, lastOut: Date?, in i: Int, out o: Int,
    threads: Int, strength: Double, grade: StrengthGrade
) -> String {
    [
        id, name, "first \(first.map(iso) ?? "-")", "last \(last.map(iso) ?? "-")", "by \(by ?? "-")",
        "in@ \(lastIn.map(iso) ?? "-")", "out@ \(lastOut.map(iso) ?? "-")", "in \(i)", "out \(o)", "threads \(threads)",
        "strength \(strength)", grade.rawValue,
    ].joined(separator: " | ")
}

@Suite struct RelationshipStoreTests {
    /// bob writes to maya; maya replies to alex and bob; alex answers. Plus mail that must not count for
    /// maya: omar at her firm's domain writing to kim (not one of the investor's own addresses), and
    /// internal mail between alex and bob.
    @Test func replyAcrossTwoTeammatesMailboxes() async throws {
        let f = try await RelFirm.make()
        _ = try await f.scenarioA()
        try await f.deliver("o1@lumenridge.example", from: "omar@lumenridge.example", to: [kim], date: ago(1), in: [kim])
        try await f.deliver("i1@firm.example", from: alex, to: [bob], date: ago(0.5), in: [alex, bob])
        for viewer in [Viewer.operator, .teammate(alex), .teammate(bob), .teammate(kim)] {
            let rows = try await f.reports().investors(for: viewer)
            #expect(rows.map(\.investorId) == ["inv-maya"], "\(viewer)")
            let r = try #require(rows.first)
            // Team: in = a2 (one message, though two mailboxes hold it), out = a1 (bob), a3 (alex); one thread.
            // Times are the Date headers (not the copies' internalDates). The latest is a3, sent by alex.
            // Strength: d = 10 − 5/24 = 9.791667 → R = 2^(−9.791667/90) = 0.927361; W_in = 1, W_out = 2
            // (≤ 2 recipients, maya in From/To: w = 1) → F = log₂(4)/4 = 0.5; Q = 0.5 + 0.5 × 1/2 = 0.75
            // → 100 × 0.927361 × 0.5 × 0.75 = 34.776 → 34.8, weak.
            #expect(
                line(r)
                    == expectedLine(
                        "inv-maya", "Maya at Lumenridge", first: ago(10), last: ago(10, plus: 5), by: alex, lastIn: ago(10, plus: 3),
                        lastOut: ago(10, plus: 5), in: 1, out: 2, threads: 1, strength: 34.8, grade: .weak), "\(viewer)")
            #expect(r.interactions == 3)
            // alex holds a2 (in) and a3 (out): d = 9.791667 → R = 0.927361; W = 2 → F = log₂(3)/4 = 0.396241;
            // Q = 1 → 36.746 → 36.7. bob holds a1 (out) and a2 (in): d = 10 − 3/24 = 9.875 → R = 0.926766
            // → 100 × 0.926766 × 0.396241 = 36.722 → 36.7. Equal strength: alex (the later last contact, and
            // first in address order).
            #expect(
                r.teammates.map(line) == [
                    "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
                    "\(bob) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 3)))",
                ], "\(viewer)")
        }
    }

    /// A message without a Date header is placed at the earliest internalDate of its mailbox copies.
    @Test func aMessageWithoutADateUsesTheEarliestCopy() async throws {
        let f = try await RelFirm.make()
        // kim's copy arrived at −2 d + 1 h, bob's (stored second) at −2 d.
        try await f.deliver(
            "nd@lumenridge.example", from: maya, to: [kim, bob], date: nil, in: [kim, bob], copies: [ago(2, plus: 1), ago(2)])
        let r = try #require(try await f.reports().investors(for: .operator).first)
        // One inbound, 2 recipients (w = 1): F = 0.25, Q = 0.4; d = 2 → R = 2^(−2/90) = 0.984715
        // → 100 × 0.984715 × 0.25 × 0.4 = 9.847 → 9.8, very weak. lastContactBy: the first teammate in To (kim).
        #expect(
            line(r)
                == expectedLine(
                    "inv-maya", "Maya at Lumenridge", first: ago(2), last: ago(2), by: kim, lastIn: ago(2), lastOut: nil, in: 1, out: 0,
                    threads: 1, strength: 9.8, grade: .veryWeak))
        #expect(
            r.teammates.map(line) == [
                "\(bob) 9.8 very weak in 1 out 0 last \(iso(ago(2)))", "\(kim) 9.8 very weak in 1 out 0 last \(iso(ago(2)))",
            ])
    }

    /// lastContactBy when several teammates hold the latest message and none sent it: the first teammate
    /// in To; when To names none of them (a group alias), the first holder in address order.
    @Test func lastContactByAmongSeveralHolders() async throws {
        let f = try await RelFirm.make()
        try await f.deliver("g1@lumenridge.example", from: maya, to: [bob, alex], date: ago(3), in: [alex, bob])
        #expect(try await f.reports().investors(for: .operator).first?.lastContactBy == bob)
        try await f.deliver("g2@lumenridge.example", from: maya, to: ["deals@firm.example"], cc: [kim], date: ago(2), in: [bob, kim])
        #expect(try await f.reports().investors(for: .operator).first?.lastContactBy == kim)  // first in Cc
        try await f.deliver("g3@lumenridge.example", from: maya, to: ["deals@firm.example"], date: ago(1), in: [kim, bob])
        #expect(try await f.reports().investors(for: .operator).first?.lastContactBy == bob)  // holders in address order
        // An investor's alias counts as the investor (maya@lumenridge.vc); a colleague at the domain does not.
        try await f.deliver("g4@lumenridge.vc", from: "maya@lumenridge.vc", to: [kim], date: ago(0.5), in: [kim])
        try await f.deliver("g5@lumenridge.example", from: "omar@lumenridge.example", to: [alex], date: ago(0.25), in: [alex])
        let r = try #require(try await f.reports().investors(for: .operator).first)
        #expect((r.messagesIn, r.messagesOut, r.threads, r.lastContactBy) == (4, 0, 4, kim))
        #expect(r.lastContactAt == iso(ago(0.5)))
    }

    /// Deleted mail leaves the figures: deleted in every mailbox, the message is gone; deleted in one, it
    /// still counts for the other holder only.
    @Test func deletedMailLeavesTheFigures() async throws {
        let f = try await RelFirm.make()
        _ = try await f.scenarioA()
        // a2 deleted in bob's mailbox only: the team figures are unchanged (alex still holds it); bob keeps a1
        // only: out 1, d = 10 → R = 2^(−10/90) = 0.925875; F = 0.25; Q = 0.1 → 2.315 → 2.3.
        try await f.delete("a2@lumenridge.example", in: bob)
        var r = try #require(try await f.reports().investors(for: .operator).first)
        #expect(
            line(r)
                == expectedLine(
                    "inv-maya", "Maya at Lumenridge", first: ago(10), last: ago(10, plus: 5), by: alex, lastIn: ago(10, plus: 3),
                    lastOut: ago(10, plus: 5), in: 1, out: 2, threads: 1, strength: 34.8, grade: .weak))
        #expect(
            r.teammates.map(line) == [
                "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))", "\(bob) 2.3 very weak in 0 out 1 last \(iso(ago(10)))",
            ])
        // Deleted in alex's mailbox too: a2 is gone. Team: out 2 (a1, a3): W = 2 → F = 0.396241, Q = 0.1,
        // R(9.791667) = 0.927361 → 3.675 → 3.7. alex: a3 only: F = 0.25, Q = 0.1 → 2.318 → 2.3; bob 2.3 as above
        // (equal: address order).
        try await f.delete("a2@lumenridge.example", in: alex)
        r = try #require(try await f.reports().investors(for: .operator).first)
        #expect(
            line(r)
                == expectedLine(
                    "inv-maya", "Maya at Lumenridge", first: ago(10), last: ago(10, plus: 5), by: alex, lastIn: nil,
                    lastOut: ago(10, plus: 5), in: 0, out: 2, threads: 1, strength: 3.7, grade: .veryWeak))
        #expect(
            r.teammates.map(line) == [
                "\(alex) 2.3 very weak in 0 out 1 last \(iso(ago(10, plus: 5)))", "\(bob) 2.3 very weak in 0 out 1 last \(iso(ago(10)))",
            ])
        // Everything deleted: the investor has no interaction and is not listed; its timeline is empty.
        try await f.delete("a1@firm.example", in: bob)
        try await f.delete("a3@firm.example", in: alex)
        #expect(try await f.reports().investors(for: .operator).isEmpty)
        #expect(try await f.reports().timeline(investorId: "inv-maya", for: .operator, limit: 10, offset: 0)?.isEmpty == true)
    }

    /// An investor imported after the mail was stored appears (with its figures) once added and rematched.
    @Test func rematchAfterAddingAnInvestor() async throws {
        let f = try await RelFirm.make()
        let raj = "raj@quillstone.example"
        try await f.deliver("r1@quillstone.example", from: raj, to: [kim], date: ago(5), thread: "R", in: [kim])
        try await f.deliver(
            "r2@firm.example", from: kim, to: [raj], date: ago(4), replyTo: "r1@quillstone.example", thread: "R", in: [kim])
        #expect(try await f.reports().investors(for: .operator).map(\.investorId) == [])
        #expect(try await f.db.investorLinks().isEmpty)
        _ = try await f.directory.importInvestors(
            [Investor(id: "inv-raj", name: "Raj at Quillstone", emails: [raj], domains: [])], workspaceDomain: RelFirm.workspace)
        let relinked = try await f.directory.rematch(workspaceDomain: RelFirm.workspace)
        #expect(relinked.links == 2)
        #expect(Set(try await f.db.investorLinks().map(\.investorId)) == ["inv-raj"])
        let rows = try await f.reports().investors(for: .operator)
        #expect(rows.map(\.investorId) == ["inv-raj"])
        let r = try #require(rows.first)
        // 1 in, 1 out; d = 4 → R = 2^(−4/90) = 0.969663; W = 2 → F = 0.396241; Q = 1 → 38.422 → 38.4, weak.
        #expect(
            line(r)
                == expectedLine(
                    "inv-raj", "Raj at Quillstone", first: ago(5), last: ago(4), by: kim, lastIn: ago(5), lastOut: ago(4), in: 1, out: 1,
                    threads: 1, strength: 38.4, grade: .weak))
        #expect(r.teammates.map(line) == ["\(kim) 38.4 weak in 1 out 1 last \(iso(ago(4)))"])
        #expect(try await f.reports().investors(for: .operator, investor: "inv-raj").map(\.investorId) == ["inv-raj"])
        #expect(try await f.reports().investors(for: .operator, investor: "inv-nobody").isEmpty)
    }

    /// kim's own thread with maya: alex sees it at the firm default (metadata) until kim marks the thread,
    /// the address or the domain private; kim's own view never changes.
    @Test(arguments: ["thread", "address", "domain"])
    func aPrivateMarkHidesATeammatesInteractions(kind: String) async throws {
        let f = try await RelFirm.make()
        _ = try await f.scenarioA()
        try await f.deliver("k1@lumenridge.example", from: maya, to: [kim], date: ago(3), thread: "K", in: [kim])
        let kimThread = try await f.deliver(
            "k2@firm.example", from: kim, to: [maya], date: ago(3, plus: 1), replyTo: "k1@lumenridge.example", thread: "K", in: [kim])
        // Everything: in 2 (a2, k1), out 3 (a1, a3, k2), threads 2; the latest is k2 (kim). d = 3 − 1/24 =
        // 2.958333 → R = 2^(−2.958333/90) = 0.977470; W = 5 → F = log₂(6)/4 = 0.646241; Q = 0.5 + 0.5 × 2/3 =
        // 0.833333 → 52.640 → 52.6, moderate. kim: 1 in, 1 out: R = 0.977470 × F 0.396241 × Q 1 → 38.731 → 38.7.
        let all = expectedLine(
            "inv-maya", "Maya at Lumenridge", first: ago(10), last: ago(3, plus: 1), by: kim, lastIn: ago(3), lastOut: ago(3, plus: 1),
            in: 2, out: 3, threads: 2, strength: 52.6, grade: .moderate)
        let allTeammates = [
            "\(kim) 38.7 weak in 1 out 1 last \(iso(ago(3, plus: 1)))", "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
            "\(bob) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 3)))",
        ]
        for viewer in [Viewer.teammate(alex), .teammate(kim), .operator] {
            let r = try #require(try await f.reports().investors(for: viewer).first)
            #expect(line(r) == all, "\(viewer)")
            #expect(r.teammates.map(line) == allTeammates, "\(viewer)")
        }
        let model = f.readModel()
        switch kind {
        case "thread": #expect(try await model.markThread(kimThread, owner: kim, mode: .private))
        case "address": try await model.markAddress("Maya@LumenRidge.example", owner: kim, mode: .private)
        default: try await model.markDomain("lumenridge.example", owner: kim, mode: .private)
        }
        // alex (and bob) now see scenario A only: the figures of replyAcrossTwoTeammatesMailboxes.
        for viewer in [alex, bob] {
            let r = try #require(try await f.reports().investors(for: .teammate(viewer)).first)
            #expect(
                line(r)
                    == expectedLine(
                        "inv-maya", "Maya at Lumenridge", first: ago(10), last: ago(10, plus: 5), by: alex, lastIn: ago(10, plus: 3),
                        lastOut: ago(10, plus: 5), in: 1, out: 2, threads: 1, strength: 34.8, grade: .weak), "\(viewer)")
            #expect(r.teammates.map(line) == Array(allTeammates.dropFirst()), "\(viewer)")
            let timeline = try #require(
                try await f.reports().timeline(investorId: "inv-maya", for: .teammate(viewer), limit: 10, offset: 0))
            #expect(timeline.map(\.messageId) == ["a3@firm.example", "a2@lumenridge.example", "a1@firm.example"])
            let who = try await f.reports().whoKnows(maya, for: .teammate(viewer))
            #expect(who.teammates.map(\.email) == [alex, bob])
        }
        // kim's own view and the operator's are unchanged.
        for viewer in [Viewer.teammate(kim), .operator] {
            let r = try #require(try await f.reports().investors(for: viewer).first)
            #expect(line(r) == all, "\(viewer)")
            #expect(r.teammates.map(line) == allTeammates, "\(viewer)")
        }
        // Back to the default: alex counts kim's mail again (changes apply at the next read).
        switch kind {
        case "thread": #expect(try await model.markThread(kimThread, owner: kim, mode: .default))
        case "address": try await model.markAddress(maya, owner: kim, mode: .default)
        default: try await model.markDomain("lumenridge.example", owner: kim, mode: .default)
        }
        #expect(try await f.reports().investors(for: .teammate(alex)).first.map(line) == all)
    }

    /// A teammate who deleted their copy of a message no longer holds it: what they see of it is what the
    /// remaining holder shares, so a private mark by that holder hides it.
    @Test func aDeletedCopyDoesNotKeepAPrivateMessageVisible() async throws {
        let f = try await RelFirm.make()
        let thread = try await f.deliver("d1@lumenridge.example", from: maya, to: [alex], cc: [kim], date: ago(2), in: [alex, kim])
        #expect(try await f.readModel().markThread(thread, owner: kim, mode: .private))
        // alex holds it: alex sees it (own mail), kim among its holders.
        #expect(try await f.reports().investors(for: .teammate(alex)).first?.teammates.map(\.email) == [alex, kim])
        try await f.delete("d1@lumenridge.example", in: alex)
        // Now only kim holds it, and kim marked it private.
        #expect(try await f.readModel().interactions(for: .teammate(alex)).isEmpty)
        #expect(try await f.reports().investors(for: .teammate(alex)).isEmpty)
        #expect(try await f.reports().investors(for: .teammate(kim)).first?.teammates.map(\.email) == [kim])
    }

    /// Mail whose every participant is on the workspace domain is nobody's relationship: not for an
    /// address on the domain that is not an enrolled mailbox, not for the domain, not for suggestions.
    @Test func internalOnlyMailNeverCounts() async throws {
        let f = try await RelFirm.make()
        let carol = "carol@firm.example", eu = "ops@eu.firm.example"
        for n in 0..<2 {
            try await f.deliver("ci\(n)@firm.example", from: carol, to: [alex], date: ago(Double(5 - n)), in: [alex])
            try await f.deliver("co\(n)@firm.example", from: alex, to: [carol, eu], date: ago(Double(5 - n), plus: 1), in: [alex])
        }
        try await f.deliver("tb@firm.example", from: alex, to: [bob], cc: [kim], date: ago(1), in: [alex, bob, kim])
        for viewer in [Viewer.operator, .teammate(alex), .teammate(bob)] {
            let reports = f.reports(level: .full)
            #expect(try await reports.investors(for: viewer).isEmpty, "\(viewer)")
            #expect(try await reports.suggestions(for: viewer).isEmpty, "\(viewer)")
            for q in [carol, eu, "firm.example", "eu.firm.example"] {
                let who = try await reports.whoKnows(q, for: viewer)
                #expect(
                    who.teammates.isEmpty && who.people.isEmpty, "\(viewer) \(q): \(who.teammates.map(line)) \(who.people.map(\.address))")
            }
        }
        // kim's view holds only the internal message kim's own mailbox holds (the rest is internal to others).
        #expect(try await f.readModel().interactions(for: .teammate(kim)).map(\.messageId) == ["tb@firm.example"])
    }

    /// who-knows by address (any spelling) and by domain (subdomains included, look-alike domains not).
    @Test func whoKnowsByAddressAndByDomain() async throws {
        let f = try await RelFirm.make()
        _ = try await f.scenarioA()
        try await f.deliver("o1@lumenridge.example", from: "omar@lumenridge.example", to: [kim], date: ago(20), in: [kim])
        try await f.deliver("e1@eu.lumenridge.example", from: "raj@eu.lumenridge.example", to: [bob], date: ago(30), in: [bob])
        try await f.deliver("x1@otherlumenridge.example", from: "x@otherlumenridge.example", to: [alex], date: ago(1), in: [alex])
        let reports = f.reports()

        for q in [maya, "Maya@LumenRidge.Example", " maya@lumenridge.example "] {
            let who = try await reports.whoKnows(q, for: .operator)
            #expect(who.query == q)
            // As in replyAcrossTwoTeammatesMailboxes: alex 36.7, bob 36.7; maya herself 34.8.
            #expect(
                who.teammates.map(line) == [
                    "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
                    "\(bob) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 3)))",
                ], "\(q)")
            #expect(who.people.map(\.address) == [maya], "\(q)")
            #expect(who.people.first?.name == "Maya Lind" && who.people.first?.strength == 34.8)
            #expect(who.people.first?.lastContactAt == iso(ago(10, plus: 5)))
        }

        for q in ["lumenridge.example", "LumenRidge.Example", "lumenridge.example."] {
            let who = try await reports.whoKnows(q, for: .operator)
            // bob: a1 out, a2 in, raj in → in 2, out 1; W = 3 → F = 0.5; Q = 0.5 + 0.5 × 1/2 = 0.75; last a2:
            // R(9.875) = 0.926766 → 34.754 → 34.8. alex 36.7 as above. kim: omar in (−20 d): F = 0.25, Q = 0.4,
            // R = 2^(−20/90) = 0.857244 → 8.572 → 8.6. x@otherlumenridge.example is not at the domain.
            #expect(
                who.teammates.map(line) == [
                    "\(alex) 36.7 weak in 1 out 1 last \(iso(ago(10, plus: 5)))",
                    "\(bob) 34.8 weak in 2 out 1 last \(iso(ago(10, plus: 3)))",
                    "\(kim) 8.6 very weak in 1 out 0 last \(iso(ago(20)))",
                ], "\(q)")
            // People, strongest first: maya 34.8; omar 8.6; raj (−30 d): R = 0.793701 × 0.25 × 0.4 → 7.937 → 7.9.
            #expect(who.people.map(\.address) == [maya, "omar@lumenridge.example", "raj@eu.lumenridge.example"], "\(q)")
            #expect(who.people.map(\.strength) == [34.8, 8.6, 7.9], "\(q)")
        }

        // The subdomain alone.
        let eu = try await reports.whoKnows("eu.lumenridge.example", for: .operator)
        #expect(eu.teammates.map(\.email) == [bob] && eu.people.map(\.address) == ["raj@eu.lumenridge.example"])
        // Someone nobody knows: an empty answer, not an error.
        let nobody = try await reports.whoKnows("nobody@nowhere.example", for: .operator)
        #expect(nobody.teammates.isEmpty && nobody.people.isEmpty)
        // Not an address or a domain.
        for bad in ["", "lumenridge", "not a domain.example", "maya@", "@", "..."] {
            await #expect(throws: RelationshipReports.QueryError.self, "\(bad)") { _ = try await reports.whoKnows(bad, for: .operator) }
        }
    }

    /// Suggestions: two-way (at least two messages each way), not an investor, not on the workspace domain,
    /// not a bulk sender, not blocklisted.
    @Test func suggestions() async throws {
        let f = try await RelFirm.make()
        var seq = 0
        /// `inbound` messages from `who` to alex and `outbound` from alex to them, a day apart, ending `lastDay` ago.
        func exchange(_ who: String, inbound: Int, outbound: Int, lastDay: Double = 9) async throws {
            var steps: [Bool] = []
            for i in 0..<max(inbound, outbound) {
                if i < inbound { steps.append(true) }
                if i < outbound { steps.append(false) }
            }
            for (n, fromThem) in steps.enumerated() {
                seq += 1
                let at = ago(lastDay + Double(steps.count - 1 - n))
                try await f.deliver(
                    "s\(seq)@x.example", from: fromThem ? who : alex, to: [fromThem ? alex : who], date: at, in: [alex],
                    fromName: fromThem && who.hasPrefix("sara@") ? "Sara Quinn" : nil)
            }
        }
        try await exchange("sara@acme.example", inbound: 2, outbound: 2)
        try await exchange("ivy@acme.example", inbound: 2, outbound: 1)  // one way short
        try await exchange("leo@acme.example", inbound: 1, outbound: 5)
        try await exchange(maya, inbound: 2, outbound: 2)  // an investor
        try await exchange("maya@lumenridge.vc", inbound: 2, outbound: 2)  // the investor's alias
        try await exchange("carol@firm.example", inbound: 2, outbound: 2)  // the workspace domain
        try await exchange("ops@eu.firm.example", inbound: 2, outbound: 2)  // a subdomain of it
        try await exchange("noreply@service.example", inbound: 2, outbound: 2)
        try await exchange("no-reply@service.example", inbound: 2, outbound: 2)
        try await exchange("newsletter@paper.example", inbound: 2, outbound: 2)
        try await exchange("zed@block.example", inbound: 2, outbound: 2)  // blocklisted address
        try await exchange("ann@spam.example", inbound: 2, outbound: 2)  // blocklisted domain
        try await exchange("bo@eu.spam.example", inbound: 2, outbound: 2)  // its subdomain
        let reports = f.reports(blocklist: ["zed@block.example", "@spam.example"])
        let rows = try await reports.suggestions(for: .operator)
        #expect(rows.map(\.address) == ["sara@acme.example"])
        let s = try #require(rows.first)
        // sara: in at −12 d and −10 d, out at −11 d and −9 d (four threads); W_in = W_out = 2
        // → F = log₂(5)/4 = 0.580482; Q = 1; d = 9 → R = 2^(−0.1) = 0.933033 → 54.161 → 54.2.
        #expect(s.name == "Sara Quinn" && s.domain == "acme.example" && s.threads == 4)
        #expect((s.messagesIn, s.messagesOut, s.lastContactAt, s.strength) == (2, 2, iso(ago(9)), 54.2))
        // Without the blocklist, ann, bo and zed are suggested too (the same figures as sara's).
        let open = try await f.reports().suggestions(for: .operator)
        #expect(Set(open.map(\.address)) == ["sara@acme.example", "zed@block.example", "ann@spam.example", "bo@eu.spam.example"])
        // kim sees alex's mail at metadata level: the same suggestions; with sara's address marked private by
        // alex, kim no longer gets sara.
        #expect(try await reports.suggestions(for: .teammate(kim)).map(\.address) == ["sara@acme.example"])
        try await f.readModel().markAddress("sara@acme.example", owner: alex, mode: .private)
        #expect(try await reports.suggestions(for: .teammate(kim)).isEmpty)
        #expect(try await reports.suggestions(for: .teammate(alex)).map(\.address) == ["sara@acme.example"])
    }

    /// Going cold: at least N interactions, last contact older than D days, ordered by the strength the
    /// relationship had at its last contact (not today's, which decay has reordered).
    @Test func goingCold() async throws {
        let investors = [
            Investor(id: "inv-a", name: "Ana", emails: ["ana@alpha.example"], domains: []),
            Investor(id: "inv-b", name: "Ben", emails: ["ben@beta.example"], domains: []),
            Investor(id: "inv-c", name: "Cy", emails: ["cy@gamma.example"], domains: []),
            Investor(id: "inv-d", name: "Di", emails: ["di@delta.example"], domains: []),
            Investor(id: "inv-e", name: "Ed", emails: ["ed@epsilon.example"], domains: []),
        ]
        let f = try await RelFirm.make(investors: investors)
        /// `count` messages alternating in, out, in… one a day, the last `lastDay` days ago, in bob's mailbox.
        func history(_ who: String, count: Int, lastDay: Double) async throws {
            for n in 0..<count {
                let fromThem = n % 2 == 0
                try await f.deliver(
                    "\(who.prefix { $0 != "@" })\(n)@h.example", from: fromThem ? who : bob, to: [fromThem ? bob : who],
                    date: ago(lastDay + Double(count - 1 - n)), thread: who, in: [bob])
            }
        }
        try await history("ana@alpha.example", count: 5, lastDay: 100)  // in 3, out 2
        try await history("ben@beta.example", count: 6, lastDay: 200)  // in 3, out 3
        try await history("cy@gamma.example", count: 4, lastDay: 150)  // too few by default
        try await history("di@delta.example", count: 5, lastDay: 30)  // still warm
        try await history("ed@epsilon.example", count: 5, lastDay: 90)  // exactly 90 days: not older
        let reports = f.reports()
        // At its last contact (R = 1): ana W_in 3, W_out 2 → F = log₂(6)/4 = 0.646241, Q = 0.5 + 0.5 × 2/3 =
        // 0.833333 → 53.9; ben 3/3 → F = log₂(7)/4 = 0.701839, Q = 1 → 70.2. So ben first, although today ana
        // is stronger: ana R(100) = 0.462937 → 24.9; ben R(200) = 0.214311 → 15.0.
        let cold = try await reports.cold(for: .operator)
        #expect(cold.map(\.investorId) == ["inv-b", "inv-a"])
        #expect(cold.map(\.strength) == [15.0, 24.9])
        #expect(cold.map(\.lastContactAt) == [iso(ago(200)), iso(ago(100))])
        // min 4 adds cy (at its last contact: 2 in, 2 out → F = 0.580482, Q = 1 → 58.0): ben, cy, ana.
        #expect(try await reports.cold(for: .operator, minInteractions: 4).map(\.investorId) == ["inv-b", "inv-c", "inv-a"])
        // days 150: only what is older than 150 days (cy's last contact is exactly 150 days ago).
        #expect(try await reports.cold(for: .operator, minInteractions: 4, days: 150).map(\.investorId) == ["inv-b"])
        // days 20 takes di too (5 interactions, 30 days; its last-contact strength equals ana's: 53.9, then by id).
        #expect(try await reports.cold(for: .operator, days: 20).map(\.investorId) == ["inv-b", "inv-a", "inv-d", "inv-e"])
        #expect(try await reports.cold(for: .operator, minInteractions: 7).isEmpty)
        // A viewer who sees none of bob's mail sees nothing go cold: bob marks the domains private.
        for d in ["alpha.example", "beta.example"] { try await f.readModel().markDomain(d, owner: bob, mode: .private) }
        #expect(try await reports.cold(for: .teammate(kim)).isEmpty)
        #expect(try await reports.cold(for: .teammate(bob)).map(\.investorId) == ["inv-b", "inv-a"])
    }

    /// The timeline: the investor's visible interactions newest first, paginated, each inbound, outbound or
    /// copied (the investor only in Cc of someone else's mail), with the mailboxes that hold it.
    @Test func timelineNewestFirstWithDirections() async throws {
        let f = try await RelFirm.make()
        let a = try await f.scenarioA()
        let copied = try await f.deliver(
            "c1@quillstone.example", from: "raj@quillstone.example", to: [kim], cc: [maya], date: ago(8), in: [kim])
        let ccOut = try await f.deliver("c2@firm.example", from: bob, to: ["raj@quillstone.example"], cc: [maya], date: ago(7), in: [bob])
        let reports = f.reports()
        let all = try #require(try await reports.timeline(investorId: "inv-maya", for: .operator, limit: 50, offset: 0))
        let rows = all.map { "\($0.messageId ?? "-") \($0.direction) \($0.at) \($0.threadId) \($0.teammates.joined(separator: ","))" }
        #expect(
            rows == [
                "c2@firm.example outbound \(iso(ago(7))) \(ccOut) \(bob)",
                "c1@quillstone.example copied \(iso(ago(8))) \(copied) \(kim)",
                "a3@firm.example outbound \(iso(ago(10, plus: 5))) \(a) \(alex)",
                "a2@lumenridge.example inbound \(iso(ago(10, plus: 3))) \(a) \(alex),\(bob)",
                "a1@firm.example outbound \(iso(ago(10))) \(a) \(bob)",
            ])
        // Pages of two.
        var paged: [String?] = []
        for offset in stride(from: 0, through: 6, by: 2) {
            let page = try #require(try await reports.timeline(investorId: "inv-maya", for: .operator, limit: 2, offset: offset))
            #expect(page.count == max(0, min(2, 5 - offset)), "offset \(offset)")
            paged += page.map(\.messageId)
        }
        #expect(paged == all.map(\.messageId))
        // Unknown investor: nil (a 404 for the route); an investor without mail: empty.
        #expect(try await reports.timeline(investorId: "inv-nobody", for: .operator, limit: 5, offset: 0) == nil)
        // The copied message counts for dates and threads, not for in/out: in 1, out 3 (a1, a3, c2), threads 3.
        let r = try #require(try await reports.investors(for: .operator).first)
        #expect((r.messagesIn, r.messagesOut, r.threads, r.interactions) == (1, 3, 3, 5))
        let kims = try #require(r.teammates.first { $0.email == kim })
        #expect(kims.messagesIn == 0 && kims.messagesOut == 0)
    }
}
