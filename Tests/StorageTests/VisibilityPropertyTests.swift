import CaptureParsing
import Foundation
@_spi(Testing) import GmailCapture
import TestSupport
import Testing

/// Issue 13's property test: random firms (teammates, mail held by one to three of them, threads that
/// merge, sharing levels, a firm default and ceiling, private and shared marks on threads, addresses and
/// domains), every surface of the SQL read model checked against a brute-force reference built on
/// `VisibilityPolicy.visibility` and this test's own bookkeeping.
@Suite struct VisibilityPropertyTests {
    @Test(arguments: 0..<20)
    func everySurfaceAgreesWithTheReference(seed: Int) async throws {
        let world = try await VisibilityWorld.build(seed: seed)
        var problems: [String] = []
        try await world.check(into: &problems)
        // VISIBILITY_STATS=1 prints what each seed exercised (own, internal, private, shared marks, merges).
        if ProcessInfo.processInfo.environment["VISIBILITY_STATS"] != nil { print("seed \(seed): \(world.coverage)") }
        #expect(
            problems.isEmpty,
            "seed \(seed) (\(world.describe)): \(problems.count) problem(s):\n\(problems.prefix(12).joined(separator: "\n"))")
    }

    /// An access log entry names the message read: its Message-ID without brackets, or (without one) the
    /// key the thread object lists it under, never an empty string.
    @Test func accessLogNamesAMessageWithoutAMessageID() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: nil)
        _ = try await db.upsertAccount(email: "kim@firm.example", userId: nil)
        let model = ReadModel(database: db, policy: VisibilityPolicy(defaultLevel: .full, workspaceDomain: "firm.example"))
        var m = ParsedMessage()
        m.gmailId = "s1"; m.threadId = "t1"; m.subject = "No id"; m.textBody = "Body"
        m.from = .init(name: nil, address: "maya@lumen.example"); m.to = [.init(name: nil, address: "sam@firm.example")]
        m.date = Date(timeIntervalSince1970: 1_709_658_000)
        let stored = try await db.store(m, account: sam, links: [])
        let read = try #require(try await model.thread(id: stored.threadId, for: .teammate("kim@firm.example"), surface: .api))
        #expect(read.messages.map(\.visibility) == [.full] && read.messages.first?.messageId == nil)
        let listedAs = try #require(read.thread.messageIds.first)
        #expect(listedAs.hasPrefix("hash:"))
        let log = try await model.accessLog()
        #expect(log.map(\.messageId) == [listedAs], "logged as \(log.map { "\"\($0.messageId)\"" })")
    }

    /// A teammate who deleted their copy no longer holds the message ("owned by the mailboxes that hold
    /// it"): they read it as the remaining holders share it, so a private mark by those hides it.
    @Test func aDeletedCopyNoLongerMakesItOwnMail() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        let kim = try await db.upsertAccount(email: "kim@firm.example", userId: nil)
        let model = ReadModel(database: db, policy: VisibilityPolicy(defaultLevel: .metadata, workspaceDomain: "firm.example"))
        var m = ParsedMessage()
        m.messageId = "d1@lumen.example"; m.threadId = "t1"; m.subject = "Allocation"; m.textBody = "Numbers"
        m.from = .init(name: nil, address: "maya@lumen.example"); m.to = [.init(name: nil, address: "alex@firm.example")]
        m.cc = [.init(name: nil, address: "kim@firm.example")]
        m.date = Date(timeIntervalSince1970: 1_709_658_000)
        m.attachments = [
            ParsedAttachment(
                partId: "1", filename: "cap.xlsx", mimeType: "application/octet-stream", size: 9, contentId: nil, inline: false,
                attachmentId: "att", sha256: nil)
        ]
        for (account, gmailId) in [(alex, "a1"), (kim, "k1")] {
            m.gmailId = gmailId
            _ = try await db.store(m, account: account, links: [])
        }
        let thread = try #require(try await db.emails().first?.threadId)
        #expect(try await model.markThread(thread, owner: "kim@firm.example", mode: .private))
        let asAlex = Viewer.teammate("alex@firm.example")
        #expect(try await model.thread(id: thread, for: asAlex, surface: .api)?.messages.map(\.visibility) == [.full])
        #expect(try await db.markDeleted(accountId: alex.id, gmailIds: ["a1"], at: Date(timeIntervalSince1970: 1_709_700_000)) == 1)
        // Only kim holds it now, and kim marked it private.
        #expect(try await model.thread(id: thread, for: asAlex, surface: .api) == nil)
        #expect(try await model.threads(for: asAlex).isEmpty)
        for a in try await db.attachments() { #expect(try await model.attachment(id: a.id, for: asAlex) == nil) }
        // Without the mark, alex reads it at kim's level.
        #expect(try await model.markThread(thread, owner: "kim@firm.example", mode: .default))
        let read = try await model.thread(id: thread, for: asAlex, surface: .api)
        #expect(read?.messages.map(\.visibility) == [.metadata])
        #expect(read?.messages.first?.owners == ["kim@firm.example"])
    }

    /// A thread mark follows its thread when another thread merges into it (or it into another); when the
    /// same owner marked both, private wins.
    static let mergeCases: [(PrivacyMode?, PrivacyMode?)] = [
        (.shared, .private), (.private, .shared), (.shared, .shared), (nil, .private), (.private, nil), (nil, .shared),
    ]
    @Test(arguments: mergeCases)
    func marksFollowThreadsThatMerge(older: PrivacyMode?, newer: PrivacyMode?) async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: nil)
        _ = try await db.upsertAccount(email: "kim@firm.example", userId: nil)
        let model = ReadModel(database: db, policy: VisibilityPolicy(defaultLevel: .metadata, workspaceDomain: "firm.example"))
        func message(_ id: String, gmail: String, thread: String, replyTo: String? = nil, hour: Double) -> ParsedMessage {
            var m = ParsedMessage()
            m.messageId = id; m.gmailId = gmail; m.threadId = thread; m.inReplyTo = replyTo; m.references = replyTo.map { [$0] } ?? []
            m.subject = id; m.textBody = "Body of \(id)"
            m.from = .init(name: nil, address: "maya@lumen.example"); m.to = [.init(name: nil, address: "sam@firm.example")]
            m.date = Date(timeIntervalSince1970: 1_709_658_000 + hour * 3_600)
            return m
        }
        let a = try await db.store(message("a@lumen.example", gmail: "g1", thread: "ta", hour: 0), account: sam, links: []).threadId
        let b = try await db.store(message("b@lumen.example", gmail: "g2", thread: "tb", hour: 1), account: sam, links: []).threadId
        #expect(a < b)
        if let older { #expect(try await model.markThread(a, owner: "sam@firm.example", mode: older)) }
        if let newer { #expect(try await model.markThread(b, owner: "sam@firm.example", mode: newer)) }
        // A reply to a, in b's Gmail thread: one thread.
        let merged = try await db.store(
            message("c@lumen.example", gmail: "g3", thread: "tb", replyTo: "a@lumen.example", hour: 2), account: sam, links: []
        ).threadId
        #expect(merged == a)
        let want: SharingLevel? = [older, newer].contains(.private) ? nil : [older, newer].contains(.shared) ? .full : .metadata
        let got = try await model.thread(id: merged, for: .teammate("kim@firm.example"), surface: .api)
        #expect(
            got?.messages.map(\.visibility) == want.map { [$0, $0, $0] },
            "older \(String(describing: older)), newer \(String(describing: newer))")
        #expect(try await model.thread(id: b, for: .teammate("kim@firm.example"), surface: .api) == nil)
        // default on the merged thread removes the mark, whichever thread it was made on.
        #expect(try await model.markThread(merged, owner: "sam@firm.example", mode: .default))
        let after = try await model.thread(id: merged, for: .teammate("kim@firm.example"), surface: .api)
        #expect(after?.messages.map(\.visibility) == [.metadata, .metadata, .metadata])
    }

    /// The plain-Swift rules themselves, against the issue's statements.
    @Test func thePolicyStatesTheIssuesRules() {
        let p = VisibilityPolicy(defaultLevel: .metadata, ceiling: .subject, workspaceDomain: "Firm.Example")
        #expect(p.workspaceDomain == "firm.example")
        let kim = Viewer.teammate("kim@firm.example")
        func v(
            _ owners: [String], inside: Bool = false, levels: [String: SharingLevel] = [:], marks: [String: PrivacyMode] = [:]
        )
            -> SharingLevel?
        {
            p.visibility(viewer: kim, owners: owners, isInternal: inside, level: { levels[$0] }, mark: { marks[$0] })
        }
        #expect(v(["KIM@firm.example"], inside: true, marks: ["KIM@firm.example": .private]) == .full)  // own mail: always full
        #expect(v(["sam@firm.example"]) == .metadata)  // the default
        #expect(v(["sam@firm.example"], levels: ["sam@firm.example": .full]) == .subject)  // capped by the ceiling
        #expect(v(["sam@firm.example"], marks: ["sam@firm.example": .shared]) == .subject)  // shared: the ceiling
        #expect(v(["sam@firm.example", "lee@firm.example"], levels: ["lee@firm.example": .subject]) == .subject)  // most generous owner
        #expect(
            v(["sam@firm.example", "lee@firm.example"], levels: ["lee@firm.example": .subject], marks: ["sam@firm.example": .private])
                == nil)
        #expect(v(["sam@firm.example"], inside: true, marks: ["sam@firm.example": .shared]) == nil)  // internal mail
        #expect(v([]) == nil)
        #expect(p.visibility(viewer: .operator, owners: [], isInternal: true, level: { _ in nil }, mark: { _ in .private }) == .full)
        #expect(VisibilityPolicy(defaultLevel: .full, ceiling: .metadata).defaultLevel == .metadata)
    }
}

/// One random firm in an in-memory database, with the bookkeeping the reference reads.
private struct VisibilityWorld {
    struct Person: Sendable {
        /// The canonical identity (what an address mark on any of its spellings covers).
        var id: String
        /// How it may be written in a header or a mark.
        var spellings: [String]
        /// Its canonical domain.
        var domain: String
    }

    struct Message {
        var index: Int
        var parsed: ParsedMessage
        var participants: [Person]
        /// Teammates whose mailboxes hold it, sorted.
        var owners: [String]
        /// The Gmail thread id of each owner's copy.
        var gmailThreads: [String: String]
        var key: String
        /// What thread objects and the access log call it: the Message-ID without brackets, else the canonical key.
        var listedId: String
        var parts: Int
        var sentAt: String
    }

    struct ThreadMark {
        var owner: String, anchorKey: String, mode: PrivacyMode
        /// The thread id it was made on (threads merge since).
        var madeOn: Int64
    }

    static let domain = "firm.example"
    static let names = ["alex", "sam", "kim", "lee", "pat"]

    let seed: Int
    let db: CaptureDatabase
    let reader: ReadModel
    let team: [String]
    let messages: [Message]
    let levels: [String: SharingLevel]
    let threadMarks: [ThreadMark]
    let addressMarks: [String: [String: PrivacyMode]]
    let domainMarks: [String: [String: PrivacyMode]]
    /// canonical key -> (email id, thread id), as stored.
    let stored: [String: (id: Int64, thread: Int64)]
    let investorsByEmail: [Int64: [String]]
    let investorIds: [String]

    var policy: VisibilityPolicy { reader.policy }
    var describe: String {
        "team \(team.count), \(messages.count) messages, default \(policy.defaultLevel.rawValue), ceiling \(policy.ceiling.rawValue), domain \(policy.workspaceDomain ?? "none"), levels \(levels.mapValues(\.rawValue)), \(threadMarks.count) thread marks, address marks \(addressMarks), domain marks \(domainMarks)"
    }

    // MARK: - Building

    static func build(seed: Int) async throws -> VisibilityWorld {
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x9E37_79B9 &+ 1_013)
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

        let db = try CaptureDatabase(inMemory: nil)
        let directory = CRMDirectory(database: db)
        let team = Array(names.shuffled(using: &rng).prefix(Int.random(in: 3...5, using: &rng))).map { "\($0)@\(domain)" }.sorted()
        var accounts: [String: CaptureDatabase.Account] = [:]
        for (n, t) in team.enumerated() {
            try await directory.addUser(email: t, name: t.capitalized, admin: n == 0)
            accounts[t] = try await db.upsertAccount(email: t, userId: nil)
        }
        let teammates = team.map { Person(id: $0, spellings: [$0, $0.capitalized], domain: domain) }
        let insiders = [
            Person(id: "ops@firm.example", spellings: ["ops@firm.example", "OPS@Firm.Example"], domain: "firm.example"),
            Person(id: "max@london.firm.example", spellings: ["max@london.firm.example"], domain: "london.firm.example"),
        ]
        let externalGroups: [[Person]] = [
            [
                Person(id: "maya@lumen.example", spellings: ["maya@lumen.example", "Maya@Lumen.Example"], domain: "lumen.example"),
                Person(
                    id: "raj@eu.lumen.example", spellings: ["raj@eu.lumen.example", "RAJ@EU.lumen.example"], domain: "eu.lumen.example"),
            ],
            [Person(id: "eve@notfirm.example", spellings: ["eve@notfirm.example", "Eve@NotFirm.example"], domain: "notfirm.example")],
            [
                Person(
                    id: "janedoe@gmail.com", spellings: ["jane.doe@gmail.com", "janedoe+deals@gmail.com", "Jane.Doe@googlemail.com"],
                    domain: "gmail.com"),
                Person(id: "bobsmith@gmail.com", spellings: ["bob.smith@gmail.com", "BobSmith+x@gmail.com"], domain: "gmail.com"),
            ],
            [
                Person(id: "omar@vc.northwind.example", spellings: ["omar@vc.northwind.example"], domain: "vc.northwind.example"),
                Person(
                    id: "li@northwind.example", spellings: ["li@northwind.example", "Li@Northwind.Example"], domain: "northwind.example"),
            ],
        ]
        let externals = Array(externalGroups.shuffled(using: &rng).prefix(Int.random(in: 3...4, using: &rng))).flatMap { $0 }
        let investors = [
            Investor(id: "inv-lumen", name: "Lumen", domains: ["lumen.example"]),
            Investor(id: "inv-jane", name: "Jane Doe", emails: ["jane.doe@gmail.com"]),
            Investor(id: "inv-northwind", name: "Northwind", domains: ["northwind.example"]),
            Investor(id: "inv-eve", name: "Eve", emails: ["eve@notfirm.example"]),
        ]
        _ = try await directory.importInvestors(investors, workspaceDomain: domain)
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: domain)

        // The mail.
        let count = Int.random(in: 25...40, using: &rng)
        // Stored in two phases with marks in between; the second phase's mail links more often, so that
        // threads marked after the first phase merge.
        let cut = count * 3 / 5
        let offsets = Array(0..<count).shuffled(using: &rng)
        let base = Date(timeIntervalSince1970: 1_709_000_000)
        var messages: [Message] = []
        var mailboxThreads: [String: [String]] = [:]
        for i in 0..<count {
            let internalOnly = chance(0.2)
            let pool = internalOnly ? teammates + insiders : teammates + insiders + externals
            var chosen: [Person] = []
            func pick(_ from: [Person]) -> Person? {
                let left = from.filter { p in !chosen.contains { $0.id == p.id } }
                guard let p = left.randomElement(using: &rng) else { return nil }
                chosen.append(p)
                return p
            }
            let from = pick(internalOnly || chance(0.5) ? teammates + (chance(0.2) ? insiders : []) : externals)!
            let to = (0..<Int.random(in: 1...2, using: &rng)).compactMap { _ in pick(pool) }
            let cc = (0..<Int.random(in: 0...2, using: &rng)).compactMap { _ in pick(pool) }
            func spelling(_ p: Person) -> String { p.spellings.randomElement(using: &rng)! }
            var m = ParsedMessage()
            m.messageId = chance(0.9) ? "m\(i).s\(seed)@mail.example" : nil
            let earlier = messages.compactMap(\.parsed.messageId)
            let linking = i < cut ? 0.12 : 0.25
            if !earlier.isEmpty && chance(linking) {
                m.inReplyTo = earlier.randomElement(using: &rng)
                m.references = [m.inReplyTo!]
            }
            m.subject = "Subject SUBJ-\(i)- of seed \(seed)"
            m.snippet = "snippet \(i)"
            m.textBody = "Body BODY-\(i)- text"
            m.htmlBody = "<p>Body BODY-\(i)- text</p>"
            m.from = .init(name: nil, address: spelling(from))
            m.to = to.map { .init(name: nil, address: spelling($0)) }
            m.cc = cc.map { .init(name: nil, address: spelling($0)) }
            let date = base.addingTimeInterval(Double(offsets[i]) * 5_820)
            m.date = date
            m.internalDateMillis = Int64(date.timeIntervalSince1970 * 1_000)
            let parts = chance(0.3) ? Int.random(in: 1...2, using: &rng) : 0
            m.attachments = (0..<parts).map {
                ParsedAttachment(
                    partId: String($0 + 1), filename: "doc\(i)-\($0).pdf", mimeType: "application/pdf", size: 100 + $0, contentId: nil,
                    inline: false, attachmentId: "att-\(i)-\($0)", sha256: nil)
            }
            let owners = Array(team.shuffled(using: &rng).prefix(Int.random(in: 1...min(3, team.count), using: &rng))).sorted()
            var gmailThreads: [String: String] = [:]
            for o in owners {
                let used = mailboxThreads[o, default: []]
                let t = !used.isEmpty && chance(linking) ? used.randomElement(using: &rng)! : "t\(i)-\(o.prefix(3))"
                gmailThreads[o] = t
                mailboxThreads[o, default: []].append(t)
            }
            let key = MessageIdentity.canonicalKey(m)
            messages.append(
                Message(
                    index: i, parsed: m, participants: chosen, owners: owners, gmailThreads: gmailThreads, key: key,
                    listedId: m.messageId ?? key, parts: parts, sentAt: CaptureDatabase.isoString(date)))
        }

        // Levels, set through a model without a ceiling (as if the firm lowered its ceiling later).
        let readerDomain: String? = chance(0.15) ? nil : (chance(0.3) ? "Firm.Example" : domain)
        let settings = ReadModel(
            database: db, policy: VisibilityPolicy(defaultLevel: .metadata, ceiling: .full, workspaceDomain: readerDomain))
        var levels: [String: SharingLevel] = [:]
        for t in team where chance(0.7) {
            let l = SharingLevel.allCases.randomElement(using: &rng)!
            try await settings.setSharingLevel(chance(0.5) ? .metadata : l, for: t)  // overwritten at once: the last one counts
            try await settings.setSharingLevel(l, for: t)
            levels[t] = l
        }
        let ceiling = SharingLevel.allCases.randomElement(using: &rng)!
        let defaultLevel = SharingLevel.allCases.filter { $0 <= ceiling }.randomElement(using: &rng)!
        let reader = ReadModel(
            database: db, policy: VisibilityPolicy(defaultLevel: defaultLevel, ceiling: ceiling, workspaceDomain: readerDomain))

        // Store in two phases with marks in between, so that threads merge under existing marks.
        var storedSoFar: [Message] = []
        var threadMarks: [ThreadMark] = []
        var addressMarks: [String: [String: PrivacyMode]] = [:]
        var domainMarks: [String: [String: PrivacyMode]] = [:]
        let everyone = insiders + externals + externalGroups.flatMap { $0 }
        let domains = [
            "lumen.example", "eu.lumen.example", "notfirm.example", "gmail.com", "northwind.example", "vc.northwind.example",
            "london.firm.example", "nowhere.example",
        ]
        for phase in [Array(messages[..<cut]), Array(messages[cut...])] {
            for m in phase.shuffled(using: &rng) {
                let addresses = ([m.parsed.from] + m.parsed.to + m.parsed.cc).compactMap { $0?.address }
                for o in m.owners {
                    var copy = m.parsed
                    copy.gmailId = "g\(m.index)-\(o.prefix(3))"
                    copy.threadId = m.gmailThreads[o]
                    copy.labelIds = AddressNormalizer.canonical(m.parsed.from?.address ?? "") == o ? ["SENT"] : ["INBOX"]
                    _ = try await db.store(copy, account: accounts[o]!, links: index.links(for: addresses))
                }
            }
            storedSoFar += phase
            let threadOf = Dictionary(uniqueKeysWithValues: try await db.emails().map { ($0.canonicalKey, $0.threadId ?? -1) })
            for _ in 0..<Int.random(in: 2...7, using: &rng) {
                let mode = [PrivacyMode.private, .private, .shared, .shared, .default].randomElement(using: &rng)!
                let owner = team.randomElement(using: &rng)!
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<4:
                    // A thread: usually one the owner holds a message in.
                    let held = storedSoFar.filter { $0.owners.contains(owner) }
                    let target = chance(0.85) ? held.randomElement(using: &rng) : storedSoFar.randomElement(using: &rng)
                    guard let target, let thread = threadOf[target.key] else { continue }
                    let members = storedSoFar.filter { threadOf[$0.key] == thread }
                    let holds = members.contains { $0.owners.contains(owner) }
                    let done = try await reader.markThread(thread, owner: owner, mode: mode)
                    #expect(done == holds, "seed \(seed): markThread(\(thread), \(owner)) answered \(done), the owner holds: \(holds)")
                    if done {
                        threadMarks.removeAll { $0.owner == owner && threadOf[$0.anchorKey] == thread }
                        if mode != .default {
                            threadMarks.append(ThreadMark(owner: owner, anchorKey: target.key, mode: mode, madeOn: thread))
                        }
                    }
                case 4..<7:
                    let person = everyone.randomElement(using: &rng)!
                    let spelling = person.spellings.randomElement(using: &rng)!
                    try await reader.markAddress(chance(0.3) ? spelling.uppercased() : spelling, owner: owner, mode: mode)
                    addressMarks[owner, default: [:]][person.id] = mode == .default ? nil : mode
                default:
                    let d = domains.randomElement(using: &rng)!
                    let spelled = [d, "@" + d, d.uppercased(), "." + d + "."].randomElement(using: &rng)!
                    try await reader.markDomain(spelled, owner: owner, mode: mode)
                    domainMarks[owner, default: [:]][d] = mode == .default ? nil : mode
                }
            }
        }
        let records = try await db.emails()
        let stored = Dictionary(uniqueKeysWithValues: records.map { ($0.canonicalKey, (id: $0.id, thread: $0.threadId ?? -1)) })
        var investorsByEmail: [Int64: [String]] = [:]
        for l in try await db.investorLinks() { investorsByEmail[l.emailId, default: []].append(l.investorId) }
        return VisibilityWorld(
            seed: seed, db: db, reader: reader, team: team, messages: messages, levels: levels, threadMarks: threadMarks,
            addressMarks: addressMarks, domainMarks: domainMarks, stored: stored,
            investorsByEmail: investorsByEmail.mapValues { $0.sorted() },
            investorIds: investors.map(\.id))
    }

    // MARK: - The reference

    func thread(of m: Message) -> Int64 { stored[m.key]!.thread }
    func emailId(of m: Message) -> Int64 { stored[m.key]!.id }

    func isInternal(_ m: Message) -> Bool {
        guard let d = policy.workspaceDomain else { return false }
        return m.participants.allSatisfy { $0.domain == d || $0.domain.hasSuffix("." + d) }
    }

    /// The owner's override covering `m`: private if any private mark covers it, else shared if a shared one does.
    func mark(_ owner: String, _ m: Message) -> PrivacyMode? {
        var modes: [PrivacyMode] = []
        let t = thread(of: m)
        for tm in threadMarks where tm.owner == owner && stored[tm.anchorKey]?.thread == t { modes.append(tm.mode) }
        for p in m.participants { if let mode = addressMarks[owner]?[p.id] { modes.append(mode) } }
        for (d, mode) in domainMarks[owner] ?? [:] where m.participants.contains(where: { $0.domain == d || $0.domain.hasSuffix("." + d) })
        {
            modes.append(mode)
        }
        return modes.contains(.private) ? .private : modes.contains(.shared) ? .shared : nil
    }

    func reference(_ m: Message, for viewer: Viewer) -> SharingLevel? {
        policy.visibility(
            viewer: viewer, owners: m.owners, isInternal: isInternal(m), level: { levels[$0] }, mark: { mark($0, m) })
    }

    /// What a thread object says (its investorLinks are checked against investorIds).
    struct Shape: Equatable, CustomStringConvertible {
        var id: Int64, subject: String?, firstAt: String?, lastAt: String?, messageIds: [String], mailboxes: [String], investorIds: [String]
        init(
            id: Int64, subject: String?, firstAt: String?, lastAt: String?, messageIds: [String], mailboxes: [String], investorIds: [String]
        ) {
            (self.id, self.subject, self.firstAt, self.lastAt) = (id, subject, firstAt, lastAt)
            (self.messageIds, self.mailboxes, self.investorIds) = (messageIds, mailboxes, investorIds)
        }
        init(_ t: CaptureDatabase.ThreadSummary) {
            self.init(
                id: t.id, subject: t.subject, firstAt: t.firstAt, lastAt: t.lastAt, messageIds: t.messageIds, mailboxes: t.mailboxes,
                investorIds: t.investorIds)
        }
        var description: String {
            "{id \(id), subject \(subject ?? "null"), \(firstAt ?? "null")...\(lastAt ?? "null"), messageIds \(messageIds), mailboxes \(mailboxes), investors \(investorIds)}"
        }
    }

    /// The thread object the viewer should get: built from the visible messages only.
    func expectedSummary(thread: Int64, visible: [(Message, SharingLevel)]) -> Shape {
        let ordered = visible.sorted { ($0.0.sentAt, emailId(of: $0.0)) < ($1.0.sentAt, emailId(of: $1.0)) }
        let investors = Set(ordered.flatMap { investorsByEmail[emailId(of: $0.0)] ?? [] }).sorted()
        return Shape(
            id: thread, subject: ordered.first { $0.1 >= .subject }?.0.parsed.subject, firstAt: ordered.first?.0.sentAt,
            lastAt: ordered.last?.0.sentAt, messageIds: ordered.map(\.0.listedId), mailboxes: Set(ordered.flatMap(\.0.owners)).sorted(),
            investorIds: investors)
    }

    func direction(_ m: Message) -> String {
        let from = m.participants[0]
        if let d = policy.workspaceDomain { return from.domain == d || from.domain.hasSuffix("." + d) ? "outbound" : "inbound" }
        return team.contains(from.id) ? "outbound" : "inbound"
    }

    /// What the firm exercises: how each teammate's view of each message is decided, and the threads.
    var coverage: String {
        var c: [String: Int] = [:]
        for v in team {
            for m in messages {
                let key: String
                if m.owners.contains(v) {
                    key = "own"
                } else if isInternal(m) {
                    key = "internal"
                } else if let l = reference(m, for: .teammate(v)) {
                    key = l.rawValue + (m.owners.contains { mark($0, m) == .shared } ? " (shared mark)" : "")
                } else {
                    key = m.owners.contains { mark($0, m) == .private } ? "private mark" : "hidden otherwise"
                }
                c[key, default: 0] += 1
            }
        }
        let threads = Set(stored.values.map(\.thread)).count
        let moved = threadMarks.filter { stored[$0.anchorKey]?.thread != $0.madeOn }.count
        return "\(threads) threads, \(threadMarks.count) thread marks (\(moved) moved by merges), \(c.sorted { $0.key < $1.key })"
    }

    // MARK: - Checking

    struct LogKey: Hashable, Comparable, CustomStringConvertible {
        var viewer: String, owner: String, messageId: String, level: String, surface: String
        static func < (a: LogKey, b: LogKey) -> Bool { a.description < b.description }
        var description: String { "\(viewer) read \(owner)'s \(messageId) at \(level) (\(surface))" }
    }

    func check(into problems: inout [String]) async throws {
        let threads = Set(stored.values.map(\.thread)).sorted()
        let byThread = Dictionary(grouping: messages, by: { thread(of: $0) })

        // The operator sees everything.
        let all = try await reader.threads(for: .operator, limit: 10_000)
        if Set(all.map(\.id)) != Set(threads) || all.count != threads.count {
            problems.append("operator lists \(all.map(\.id).sorted()), expected \(threads)")
        }
        // Settings read back.
        for t in team {
            let got = try await reader.sharingLevel(of: t)
            let want = min(levels[t] ?? policy.defaultLevel, policy.ceiling)
            if got != want { problems.append("sharingLevel(of: \(t)) = \(got), expected \(want)") }
        }
        if policy.ceiling < .full {
            do {
                try await reader.setSharingLevel(.full, for: team[0])
                problems.append("setSharingLevel(full) above the ceiling \(policy.ceiling) was accepted")
            } catch let e as ReadModel.SettingError {
                if e != .aboveCeiling(.full, ceiling: policy.ceiling) { problems.append("above the ceiling: \(e)") }
            }
        }

        // Lists, for every teammate: exactly the threads with something visible, each built from what is visible.
        var expectedLevels: [String: [Int64: SharingLevel]] = [:]
        var lists: [String: [Int64: CaptureDatabase.ThreadSummary]] = [:]
        for viewerEmail in team {
            let viewer = Viewer.teammate(viewerEmail)
            var levelsById: [Int64: SharingLevel] = [:]
            for m in messages { if let l = reference(m, for: viewer) { levelsById[emailId(of: m)] = l } }
            expectedLevels[viewerEmail] = levelsById
            let expectedThreads = Set(messages.filter { levelsById[emailId(of: $0)] != nil }.map { thread(of: $0) })
            let listed = try await reader.threads(for: viewer, limit: 10_000)
            lists[viewerEmail] = Dictionary(listed.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            if Set(listed.map(\.id)) != expectedThreads || listed.count != expectedThreads.count {
                problems.append(
                    "\(viewerEmail) lists \(listed.map(\.id).sorted()), expected \(expectedThreads.sorted()); missing \(expectedThreads.subtracting(listed.map(\.id)).sorted()), extra \(Set(listed.map(\.id)).subtracting(expectedThreads).sorted())"
                )
            }
            if listed.map({ $0.lastAt ?? "" }) != listed.map({ $0.lastAt ?? "" }).sorted(by: >) {
                problems.append("\(viewerEmail)'s list is not newest first")
            }
            for s in listed {
                let visible = (byThread[s.id] ?? []).compactMap { m in levelsById[emailId(of: m)].map { (m, $0) } }
                let want = expectedSummary(thread: s.id, visible: visible)
                if Shape(s) != want { problems.append("\(viewerEmail) lists thread \(s.id) as \(Shape(s)), expected \(want)") }
                if s.investorLinks.map(\.investorId) != s.investorIds {
                    problems.append("thread \(s.id): investorLinks disagree with investorIds")
                }
            }
            // The same viewer written in another case reads the same.
            let shouted = try await reader.threads(for: .teammate(viewerEmail.uppercased()), limit: 10_000)
            if shouted.map(\.id) != listed.map(\.id) {
                problems.append("\(viewerEmail.uppercased()) lists other threads than \(viewerEmail)")
            }
            // Filters apply to the visible messages only: investor, and text matched against what may be seen.
            for inv in investorIds {
                let got = Set(try await reader.threads(for: viewer, investor: inv, limit: 10_000).map(\.id))
                let want = Set(
                    messages.filter { levelsById[emailId(of: $0)] != nil && (investorsByEmail[emailId(of: $0)] ?? []).contains(inv) }.map {
                        thread(of: $0)
                    })
                if got != want { problems.append("\(viewerEmail) investor \(inv): \(got.sorted()), expected \(want.sorted())") }
            }
            for m in messages.filter({ $0.index % 4 == seed % 4 }) {
                let level = levelsById[emailId(of: m)]
                for (needle, needs) in [("SUBJ-\(m.index)-", SharingLevel.subject), ("BODY-\(m.index)-", .full)] {
                    let got = try await reader.threads(for: viewer, text: needle, limit: 10_000).map(\.id)
                    let want = (level.map { $0 >= needs } ?? false) ? [thread(of: m)] : []
                    if got != want {
                        problems.append("\(viewerEmail) text \(needle): \(got), expected \(want) (level \(level?.rawValue ?? "hidden"))")
                    }
                }
            }
        }
        let afterListing = try await reader.accessLog()
        if !afterListing.isEmpty { problems.append("listing threads wrote \(afterListing.count) access log entries") }

        // One pass of thread reads per teammate: every thread, masked per message, the access log as it should be.
        var expectedLog: [LogKey] = []
        for viewerEmail in team {
            let viewer = Viewer.teammate(viewerEmail)
            let levelsById = expectedLevels[viewerEmail]!
            for t in threads + [threads.last! + 1_000] {
                let visible = (byThread[t] ?? []).compactMap { m in levelsById[emailId(of: m)].map { (m, $0) } }
                    .sorted { ($0.0.sentAt, emailId(of: $0.0)) < ($1.0.sentAt, emailId(of: $1.0)) }
                let got = try await reader.thread(id: t, for: viewer, surface: .api)
                guard !visible.isEmpty else {
                    if let got { problems.append("\(viewerEmail) reads thread \(t) with nothing visible: \(got.messages.map(\.id))") }
                    continue
                }
                guard let got else {
                    problems.append("\(viewerEmail) gets nil for thread \(t), expected \(visible.map { emailId(of: $0.0) })")
                    continue
                }
                let want = expectedSummary(thread: t, visible: visible)
                if Shape(got.thread) != want { problems.append("\(viewerEmail) thread \(t) object \(Shape(got.thread)), expected \(want)") }
                if let listed = lists[viewerEmail]?[t], listed != got.thread {
                    problems.append("\(viewerEmail) thread \(t): the list says \(Shape(listed)), the detail \(Shape(got.thread))")
                }
                if got.thread.investorLinks.map(\.investorId) != got.thread.investorIds {
                    problems.append("thread \(t): investorLinks disagree")
                }
                if got.messages.map(\.id) != visible.map({ emailId(of: $0.0) }) {
                    problems.append(
                        "\(viewerEmail) thread \(t) messages \(got.messages.map(\.id)), expected \(visible.map { emailId(of: $0.0) })")
                    continue
                }
                for (gm, (m, level)) in zip(got.messages, visible) {
                    let at = "\(viewerEmail) thread \(t) message \(m.index) (owners \(m.owners), expected \(level.rawValue))"
                    if gm.visibility != level { problems.append("\(at): visibility \(gm.visibility.rawValue)") }
                    if gm.owners != m.owners { problems.append("\(at): owners \(gm.owners)") }
                    if gm.subject != (level >= .subject ? m.parsed.subject : nil) {
                        problems.append("\(at): subject \(gm.subject ?? "null")")
                    }
                    if gm.snippet != (level >= .subject ? m.parsed.snippet : nil) {
                        problems.append("\(at): snippet \(gm.snippet ?? "null")")
                    }
                    if gm.textBody != (level == .full ? m.parsed.textBody : nil) {
                        problems.append("\(at): textBody \(gm.textBody ?? "null")")
                    }
                    if gm.htmlBody != (level == .full ? m.parsed.htmlBody : nil) {
                        problems.append("\(at): htmlBody \(gm.htmlBody ?? "null")")
                    }
                    if gm.attachments.count != (level == .full ? m.parts : 0) {
                        problems.append("\(at): \(gm.attachments.count) attachments")
                    }
                    // Always there for a visible message.
                    if gm.participants.count != m.participants.count || gm.from?.address != m.parsed.from?.address
                        || gm.to.map(\.address) != m.parsed.to.map(\.address) || gm.cc.map(\.address) != m.parsed.cc.map(\.address)
                    {
                        problems.append("\(at): participants \(gm.participants)")
                    }
                    if gm.date != m.sentAt || gm.sentAt != m.sentAt { problems.append("\(at): date \(gm.date ?? "null")") }
                    if gm.direction != direction(m) { problems.append("\(at): direction \(gm.direction)") }
                    if gm.investorLinks.map(\.investorId) != (investorsByEmail[emailId(of: m)] ?? []) {
                        problems.append("\(at): investor links \(gm.investorLinks)")
                    }
                    if level >= .subject && !m.owners.contains(viewerEmail) {
                        expectedLog += m.owners.map {
                            LogKey(
                                viewer: viewerEmail, owner: $0, messageId: m.listedId, level: level.rawValue,
                                surface: "api")
                        }
                    }
                }
            }
        }
        let log = try await reader.accessLog()
        let gotLog = log.map {
            LogKey(viewer: $0.viewer, owner: $0.owner, messageId: $0.messageId, level: $0.level.rawValue, surface: $0.surface.rawValue)
        }
        if gotLog.sorted() != expectedLog.sorted() {
            let g = Set(gotLog), w = Set(expectedLog)
            problems.append(
                "access log: \(gotLog.count) entries, expected \(expectedLog.count); unexpected \(g.subtracting(w).sorted().prefix(4)); missing \(w.subtracting(g).sorted().prefix(4))"
            )
        }
        for v in team {
            let mine = try await reader.accessLog(viewer: v.uppercased())
            if mine.count != expectedLog.filter({ $0.viewer == v }).count {
                problems.append("accessLog(viewer: \(v)) has \(mine.count) entries")
            }
            let theirs = try await reader.accessLog(owner: v)
            if theirs.count != expectedLog.filter({ $0.owner == v }).count {
                problems.append("accessLog(owner: \(v)) has \(theirs.count) entries")
            }
        }
        if log.contains(where: { $0.at.isEmpty }) { problems.append("an access log entry without a time") }

        // Attachments: downloadable exactly when their message is visible in full.
        let emailsById = Dictionary(uniqueKeysWithValues: messages.map { (emailId(of: $0), $0) })
        for a in try await db.attachments() {
            for v in team {
                let got = try await reader.attachment(id: a.id, for: .teammate(v))
                let level = expectedLevels[v]![a.emailId]
                if (got != nil) != (level == .full) {
                    problems.append(
                        "\(v) attachment \(a.id) of message \(emailsById[a.emailId]?.index ?? -1): \(got == nil ? "refused" : "given") at \(level?.rawValue ?? "hidden")"
                    )
                }
            }
            if try await reader.attachment(id: a.id, for: .operator) == nil {
                problems.append("the operator is refused attachment \(a.id)")
            }
        }

        // The operator reads everything in full, and writes nothing to the log.
        for t in threads {
            guard let got = try await reader.thread(id: t, for: .operator, surface: .cli) else {
                problems.append("the operator gets nil for thread \(t)")
                continue
            }
            let want = (byThread[t] ?? []).map { emailId(of: $0) }.sorted()
            if got.messages.map(\.id).sorted() != want || got.messages.contains(where: { $0.visibility != .full || $0.textBody == nil }) {
                problems.append("the operator's thread \(t): \(got.messages.map { "\($0.id) \($0.visibility.rawValue)" })")
            }
            if got.thread.messageIds.count != want.count { problems.append("the operator's thread object \(t): \(got.thread.messageIds)") }
        }
        if try await reader.accessLog().count != log.count { problems.append("the operator's reads were logged") }
    }
}
