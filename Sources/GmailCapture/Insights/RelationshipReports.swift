public import Foundation
import GRDB

/// The relationship reports every surface shows (CLI, routes; later MCP and the UI): computed from the
/// metadata of the messages a viewer may see (`ReadModel.interactions`), never from content, with
/// `RelationshipCalculator`'s figures and strength formula.
public struct RelationshipReports: Sendable {
    public let readModel: ReadModel
    public let directory: CRMDirectory
    public let policy: CapturePolicy
    public let clock: any CaptureClock
    /// Compute as of this moment instead of the clock's now (reports "as of" a date).
    public var asOf: Date?

    public init(
        readModel: ReadModel, directory: CRMDirectory, policy: CapturePolicy = CapturePolicy(), clock: any CaptureClock = SystemClock(),
        asOf: Date? = nil
    ) {
        self.readModel = readModel
        self.directory = directory
        self.policy = policy
        self.clock = clock
        self.asOf = asOf
    }

    var now: Date { asOf ?? clock.now() }

    /// Whether an address is outside the firm (not on the workspace domain or a subdomain): only external
    /// people have relationships; mail among colleagues never counts.
    func external(_ address: String) -> Bool {
        guard let d = readModel.policy.workspaceDomain else { return true }
        return !AddressNormalizer.isAt(address, domain: d)
    }

    /// Median reply times within a relationship (seconds; null without any reply): how long the other
    /// side takes to answer the team (or this teammate), and the team (or this teammate) to answer them.
    /// Shown on single-investor reads (`--investor ID`, `GET /api/email/investors/{id}`).
    public struct ReplyTimes: Sendable, Equatable, Encodable {
        public var theirMedianSeconds: Double?
        public var ourMedianSeconds: Double?
        enum CodingKeys: String, CodingKey { case theirMedianSeconds, ourMedianSeconds }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(theirMedianSeconds, forKey: .theirMedianSeconds)
            try c.encode(ourMedianSeconds, forKey: .ourMedianSeconds)
        }
        init(_ f: RelationshipFigures) {
            theirMedianSeconds = f.medianTheirReplySeconds
            ourMedianSeconds = f.medianOurReplySeconds
        }
    }

    /// A teammate's side of a relationship.
    public struct TeammateFigure: Sendable, Equatable, Encodable {
        public var email: String
        public var strength: Double
        public var grade: StrengthGrade
        public var messagesIn: Int
        public var messagesOut: Int
        public var lastContactAt: String?
        /// Only on single-investor reads.
        public var replies: ReplyTimes?

        enum CodingKeys: String, CodingKey { case email, strength, grade, messagesIn, messagesOut, lastContactAt, replies }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(email, forKey: .email)
            try c.encode(strength, forKey: .strength)
            try c.encode(grade, forKey: .grade)
            try c.encode(messagesIn, forKey: .messagesIn)
            try c.encode(messagesOut, forKey: .messagesOut)
            try c.encode(lastContactAt, forKey: .lastContactAt)
            try c.encodeIfPresent(replies, forKey: .replies)
        }
    }

    /// The team's relationship with one investor (`investors relationships --json`, `GET /api/email/investors`).
    public struct InvestorRelationship: Sendable, Equatable, Encodable {
        public var investorId: String
        public var name: String
        public var firstContactAt: String?
        public var lastContactAt: String?
        public var lastContactBy: String?
        public var lastInboundAt: String?
        public var lastOutboundAt: String?
        public var messagesIn: Int
        public var messagesOut: Int
        public var threads: Int
        public var strength: Double
        public var grade: StrengthGrade
        public var teammates: [TeammateFigure]
        /// Interactions all time (for "going cold"); not part of the JSON.
        public var interactions: Int
        /// Only on single-investor reads.
        public var replies: ReplyTimes?

        enum CodingKeys: String, CodingKey {
            case investorId, name, firstContactAt, lastContactAt, lastContactBy, lastInboundAt, lastOutboundAt, messagesIn, messagesOut,
                threads
            case strength, grade, teammates, replies
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(investorId, forKey: .investorId)
            try c.encode(name, forKey: .name)
            try c.encode(firstContactAt, forKey: .firstContactAt)
            try c.encode(lastContactAt, forKey: .lastContactAt)
            try c.encode(lastContactBy, forKey: .lastContactBy)
            try c.encode(lastInboundAt, forKey: .lastInboundAt)
            try c.encode(lastOutboundAt, forKey: .lastOutboundAt)
            try c.encode(messagesIn, forKey: .messagesIn)
            try c.encode(messagesOut, forKey: .messagesOut)
            try c.encode(threads, forKey: .threads)
            try c.encode(strength, forKey: .strength)
            try c.encode(grade, forKey: .grade)
            try c.encode(teammates, forKey: .teammates)
            try c.encodeIfPresent(replies, forKey: .replies)
        }
    }

    static func iso(_ d: Date?) -> String? { d.map { CaptureDatabase.isoString($0) } }

    static func teammates(_ byTeammate: [String: RelationshipFigures], replies: Bool = false) -> [TeammateFigure] {
        // The calculator's documented order: strongest first, ties to the later last contact, then the address.
        RelationshipCalculator.ranked(byTeammate).map { email, f in
            TeammateFigure(
                email: email, strength: f.strength, grade: f.grade, messagesIn: f.messagesIn, messagesOut: f.messagesOut,
                lastContactAt: iso(f.lastContactAt), replies: replies ? ReplyTimes(f) : nil)
        }
    }

    /// An investor's report object from its team and per-teammate figures (with reply times when `replies`).
    static func relationship(
        id: String, name: String, team t: RelationshipFigures, byTeammate: [String: RelationshipFigures], replies: Bool
    ) -> InvestorRelationship {
        InvestorRelationship(
            investorId: id, name: name, firstContactAt: iso(t.firstContactAt), lastContactAt: iso(t.lastContactAt),
            lastContactBy: t.lastContactBy, lastInboundAt: iso(t.lastInboundAt), lastOutboundAt: iso(t.lastOutboundAt),
            messagesIn: t.messagesIn, messagesOut: t.messagesOut, threads: t.threads, strength: t.strength, grade: t.grade,
            teammates: teammates(byTeammate, replies: replies), interactions: t.interactions, replies: replies ? ReplyTimes(t) : nil)
    }

    /// Message positions by sender and To/Cc address, so a party's figures read only the mail it is on
    /// (everything a figure uses, replies' originals included, names the party).
    static func index(_ messages: [InteractionMessage]) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for (i, m) in messages.enumerated() {
            for a in Set([m.from].compactMap { $0 } + m.to + m.cc) { out[a, default: []].append(i) }
        }
        return out
    }

    static func involving(_ addresses: Set<String>, _ messages: [InteractionMessage], _ index: [String: [Int]]) -> [InteractionMessage] {
        Set(addresses.flatMap { index[$0] ?? [] }).sorted().map { messages[$0] }
    }

    func calculator() async throws -> RelationshipCalculator {
        let teammates = Set(try await readModel.database.accounts().map { $0.email.lowercased() })
        return RelationshipCalculator(teammates: teammates, now: now)
    }

    /// One object per investor with at least one interaction visible to `viewer` (or only `investor`),
    /// strongest first. An investor's figures aggregate over its own addresses (primary and aliases).
    ///
    /// Read from the maintained relationship index (`RelationshipIndex`): the queued messages are derived
    /// first, then a few hundred summary rows are read; `investorsRecomputed` is the same report computed
    /// from every visible message (the reference the index is tested against).
    public func investors(for viewer: Viewer, investor: String? = nil) async throws -> [InvestorRelationship] {
        let now = self.now
        let (index, figures, medians) = try await withIndex(viewer) { index, db, hidden in
            (
                index, try index.figures(db, now: now, hidden: hidden, only: investor),
                try investor.map { try index.replyMedians(db, investor: $0, hidden: hidden) } ?? [:]
            )
        }
        var out: [InvestorRelationship] = []
        for p in index.investors where investor == nil || p.id == investor {
            guard var (t, byTeammate) = figures[p.id], t.interactions > 0 else { continue }
            if investor != nil {
                // One investor: its reply-time medians too (per scope; the index keeps no medians).
                (t.medianTheirReplySeconds, t.medianOurReplySeconds) = medians[""] ?? (nil, nil)
                for k in byTeammate.keys {
                    (byTeammate[k]!.medianTheirReplySeconds, byTeammate[k]!.medianOurReplySeconds) = medians[k] ?? (nil, nil)
                }
            }
            out.append(Self.relationship(id: p.id, name: p.name, team: t, byTeammate: byTeammate, replies: investor != nil))
        }
        return out.sorted { ($0.strength, $1.investorId) > ($1.strength, $0.investorId) }
    }

    /// Every investor's team and per-teammate figures from the index, as `investors` reads them.
    func indexedFigures(for viewer: Viewer) async throws -> [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])]
    {
        let now = self.now
        return try await withIndex(viewer) { index, db, hidden in try index.figures(db, now: now, hidden: hidden, only: nil) }
    }

    /// Runs `body` in one write transaction over the relationship index, brought up to date first, with
    /// the messages hidden from `viewer` (none for the operator).
    func withIndex<T: Sendable>(
        _ viewer: Viewer, _ body: @escaping @Sendable (RelationshipIndex, Database, Set<Int64>) throws -> T
    ) async throws -> T {
        let index = try await relationshipIndex()
        return try await readModel.database.writer.write { db in
            try index.drain(db)
            return try body(index, db, try viewer.email.map { try RelationshipIndex.hidden(db, viewer: $0) } ?? [])
        }
    }

    /// The same figures computed from every visible message (medians of reply times, which the index
    /// does not keep, left out).
    func recomputedFigures(
        for viewer: Viewer
    ) async throws -> [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] {
        let messages = try await readModel.interactions(for: viewer)
        let index = Self.index(messages)
        let calc = try await calculator()
        var out: [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] = [:]
        for inv in try await directory.investors() {
            let addresses = Set(inv.emails.compactMap { AddressNormalizer.canonical($0) })
            guard !addresses.isEmpty else { continue }
            var (team, byTeammate) = calc.figures(
                party: { addresses.contains($0) && external($0) }, messages: Self.involving(addresses, messages, index))
            guard var t = team, t.interactions > 0 else { continue }
            t.medianTheirReplySeconds = nil
            t.medianOurReplySeconds = nil
            for k in byTeammate.keys {
                byTeammate[k]!.medianTheirReplySeconds = nil
                byTeammate[k]!.medianOurReplySeconds = nil
            }
            out[inv.id] = (t, byTeammate)
        }
        return out
    }

    /// `investors(for:investor:)` computed from every message the viewer may see (no index).
    func investorsRecomputed(for viewer: Viewer, investor: String? = nil) async throws -> [InvestorRelationship] {
        try await relationships(try await readModel.interactions(for: viewer), only: investor).map(\.relationship)
    }

    /// Each investor's relationship with its own addresses and its messages (read once per report).
    func relationships(
        _ messages: [InteractionMessage], only investor: String? = nil
    ) async throws
        -> [(relationship: InvestorRelationship, addresses: Set<String>, messages: [InteractionMessage])]
    {
        let index = Self.index(messages)
        let calc = try await calculator()
        var out: [(relationship: InvestorRelationship, addresses: Set<String>, messages: [InteractionMessage])] = []
        for inv in try await directory.investors() where investor == nil || inv.id == investor {
            let addresses = Set(inv.emails.compactMap { AddressNormalizer.canonical($0) })
            guard !addresses.isEmpty else { continue }
            let theirs = Self.involving(addresses, messages, index)
            let (team, byTeammate) = calc.figures(party: { addresses.contains($0) && external($0) }, messages: theirs)
            guard let t = team, t.interactions > 0 else { continue }
            let r = Self.relationship(id: inv.id, name: inv.name, team: t, byTeammate: byTeammate, replies: investor != nil)
            out.append((r, addresses, theirs))
        }
        return out.sorted {
            ($0.relationship.strength, $1.relationship.investorId) > ($1.relationship.strength, $0.relationship.investorId)
        }
    }

    /// Investors with at least `minInteractions` interactions whose last contact is older than `days`
    /// days, ordered by how strong the relationship was: its strength as of its last contact (today's
    /// strength has decayed for all of them, to 0 after a year).
    ///
    /// Read from the relationship index, like `investors`; `coldRecomputed` is the per-query reference.
    public func cold(for viewer: Viewer, minInteractions: Int = 5, days: Int = 90) async throws -> [InvestorRelationship] {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        let candidates = try await investors(for: viewer).compactMap { r -> (InvestorRelationship, Date)? in
            guard r.interactions >= minInteractions,
                let last = r.lastContactAt.flatMap({ try? Date.ISO8601FormatStyle(timeZone: .gmt).parse($0) }), last < cutoff
            else { return nil }
            return (r, last)
        }
        // How strong each relationship was at its last contact.
        let ranked = try await withIndex(viewer) { index, db, hidden in
            try candidates.map { r, last in
                (r, try index.figures(db, now: last, hidden: hidden, only: r.investorId)[r.investorId]?.team.strength ?? 0)
            }
        }
        return ranked.sorted { ($0.1, $1.0.investorId) > ($1.1, $0.0.investorId) }.map(\.0)
    }

    /// The relationship index over the current teammates and investors.
    func relationshipIndex() async throws -> RelationshipIndex {
        let teammates = Set(try await readModel.database.accounts().map { $0.email.lowercased() })
        return RelationshipIndex(
            teammates: teammates, investors: try await directory.investors(), workspaceDomain: readModel.policy.workspaceDomain)
    }

    /// `cold` computed from every message the viewer may see (no index).
    func coldRecomputed(for viewer: Viewer, minInteractions: Int = 5, days: Int = 90) async throws -> [InvestorRelationship] {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        let teammates = try await calculator().teammates
        var ranked: [(InvestorRelationship, Double)] = []
        for (r, addresses, theirs) in try await relationships(try await readModel.interactions(for: viewer))
        where r.interactions >= minInteractions {
            guard let last = r.lastContactAt.flatMap({ try? Date.ISO8601FormatStyle(timeZone: .gmt).parse($0) }), last < cutoff else {
                continue
            }
            let then = RelationshipCalculator(teammates: teammates, now: last).figures(
                party: { addresses.contains($0) && external($0) }, messages: theirs
            ).team
            ranked.append((r, then?.strength ?? 0))
        }
        return ranked.sorted { ($0.1, $1.0.investorId) > ($1.1, $0.0.investorId) }.map(\.0)
    }

    /// `who-knows`: the teammates who know an address or a domain (its subdomains included), strongest
    /// first, and the people there with their last contact and strength.
    public struct WhoKnows: Sendable, Encodable {
        public struct Person: Sendable, Encodable {
            public var address: String
            public var name: String?
            public var lastContactAt: String?
            public var strength: Double
            enum CodingKeys: String, CodingKey { case address, name, lastContactAt, strength }
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(address, forKey: .address)
                try c.encode(name, forKey: .name)
                try c.encode(lastContactAt, forKey: .lastContactAt)
                try c.encode(strength, forKey: .strength)
            }
        }
        public var query: String
        public var teammates: [TeammateFigure]
        public var people: [Person]
    }

    public enum QueryError: Error, Equatable, CustomStringConvertible {
        case notAnAddressOrDomain(String)
        public var description: String {
            switch self {
            case .notAnAddressOrDomain(let q): return "\"\(q)\" is neither an email address nor a domain"
            }
        }
    }

    /// Read from the people's relationship index (`RelationshipIndex`, migration 0017): the party's
    /// per-teammate summaries, and for a domain the team summaries of its addresses (its subdomains'
    /// included); `whoKnowsRecomputed` is the same answer computed from every visible message.
    public func whoKnows(_ query: String, for viewer: Viewer) async throws -> WhoKnows {
        let (_, party) = try Self.party(query)
        let now = self.now
        let readModel = self.readModel
        let (byTeammate, people, names) = try await withIndex(viewer) { _, db, hidden in
            let ledger = RelationshipLedger.people
            switch party {
            case .address(let a):
                let mine = try ledger.figures(db, now: now, hidden: hidden, parties: [a])[a]
                let people = mine.map { [a: $0.team] } ?? [:]
                return (mine?.byTeammate ?? [:], people, try readModel.lastNames(db, of: Array(people.keys), viewer: viewer))
            case .domain(let d):
                let mine = try ledger.figures(db, now: now, hidden: hidden, parties: [d])[d]
                let people = try ledger.figures(
                    db, now: now, hidden: hidden, parties: try RelationshipIndex.addresses(db, at: d), teamOnly: true
                ).mapValues(\.team)
                return (mine?.byTeammate ?? [:], people, try readModel.lastNames(db, of: Array(people.keys), viewer: viewer))
            }
        }
        return WhoKnows(query: query, teammates: Self.teammates(byTeammate), people: Self.people(people, names: names))
    }

    static func people(_ figures: [String: RelationshipFigures], names: [String: String]) -> [WhoKnows.Person] {
        figures.map { address, f in
            WhoKnows.Person(address: address, name: names[address], lastContactAt: iso(f.lastContactAt), strength: f.strength)
        }.sorted { ($0.strength, $1.address) > ($1.strength, $0.address) }
    }

    /// `whoKnows` from every visible message: the reference the index is tested against.
    func whoKnowsRecomputed(_ query: String, for viewer: Viewer) async throws -> WhoKnows {
        let (matches, _) = try Self.party(query)
        let (messages, names) = try await readModel.interactionsAndNames(for: viewer)
        return try await whoKnows(query, matches: matches, messages: messages, names: names)
    }

    /// A who-knows query as an address or a domain: the test for an address and the mail to read.
    static func party(_ query: String) throws -> (matches: @Sendable (String) -> Bool, party: ReadModel.Party) {
        let q = query.trimmingCharacters(in: .whitespaces).lowercased()
        if q.contains("@"), !q.hasPrefix("@") {
            guard let canonical = AddressNormalizer.canonical(q) else { throw QueryError.notAnAddressOrDomain(query) }
            return (RelationshipParty.address(q), .address(canonical))
        }
        guard let domain = AddressNormalizer.validDomain(q) else { throw QueryError.notAnAddressOrDomain(query) }
        return (RelationshipParty.domain(domain), .domain(domain))
    }

    func whoKnows(
        _ query: String, matches: @escaping @Sendable (String) -> Bool, messages: [InteractionMessage], names: [String: String]
    ) async throws -> WhoKnows {
        let calc = try await calculator()
        let (_, byTeammate) = calc.figures(party: { matches($0) && external($0) }, messages: messages)
        let people = calc.people(messages: messages).filter { matches($0.key) && external($0.key) }.map { address, f in
            WhoKnows.Person(address: address, name: names[address], lastContactAt: Self.iso(f.lastContactAt), strength: f.strength)
        }.sorted { ($0.strength, $1.address) > ($1.strength, $0.address) }
        return WhoKnows(query: query, teammates: Self.teammates(byTeammate), people: people)
    }

    /// A correspondent worth adding to the CRM.
    public struct Suggestion: Sendable, Encodable {
        public var address: String
        public var name: String?
        public var domain: String
        public var messagesIn: Int
        public var messagesOut: Int
        public var threads: Int
        public var lastContactAt: String?
        public var strength: Double
        enum CodingKeys: String, CodingKey { case address, name, domain, messagesIn, messagesOut, threads, lastContactAt, strength }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(address, forKey: .address)
            try c.encode(name, forKey: .name)
            try c.encode(domain, forKey: .domain)
            try c.encode(messagesIn, forKey: .messagesIn)
            try c.encode(messagesOut, forKey: .messagesOut)
            try c.encode(threads, forKey: .threads)
            try c.encode(lastContactAt, forKey: .lastContactAt)
            try c.encode(strength, forKey: .strength)
        }
    }

    /// Local parts of senders that are machines, lists or bulk mail, never suggested.
    static let bulkLocalParts = [
        "noreply", "no-reply", "donotreply", "do-not-reply", "notifications", "notification", "newsletter", "news",
        "mailer-daemon", "bounce", "bounces", "postmaster", "marketing", "updates", "info", "hello", "support",
    ]

    /// Frequent two-way external correspondents (at least two messages each way) who are not CRM investors,
    /// excluding the workspace domain, public mail providers' bulk senders (no-reply, newsletters,
    /// notifications and the like) and blocklisted addresses or domains; strongest first.
    ///
    /// Read from the people's relationship index: the addresses whose team summary has two messages each
    /// way (a superset: the viewer's hidden messages can only take some away), then their figures for
    /// the viewer. `suggestionsRecomputed` computes the same from every visible message.
    public func suggestions(for viewer: Viewer) async throws -> [Suggestion] {
        let investors = try await directory.investors()
        let known = Set(investors.flatMap { $0.emails.compactMap { AddressNormalizer.canonical($0) } })
        let now = self.now
        let readModel = self.readModel
        let reports = self
        let (figures, names) = try await withIndex(viewer) { _, db, hidden in
            let candidates = try String.fetchAll(
                db,
                sql: """
                    SELECT party FROM email_rel_people_summary
                    WHERE scope = '' AND n_in >= 2 AND n_out >= 2 AND instr(party, '@') > 0 ORDER BY party
                    """
            ).filter { reports.suggestible($0, known: known) }
            let figures = try RelationshipLedger.people.figures(db, now: now, hidden: hidden, parties: candidates, teamOnly: true)
                .mapValues(\.team).filter { $0.value.messagesIn >= 2 && $0.value.messagesOut >= 2 }
            return (figures, try readModel.lastNames(db, of: Array(figures.keys), viewer: viewer))
        }
        return Self.suggestions(figures, names: names)
    }

    /// `suggestions` computed from every visible message (no index): the reference.
    func suggestionsRecomputed(for viewer: Viewer) async throws -> [Suggestion] {
        let investors = try await directory.investors()
        let known = Set(investors.flatMap { $0.emails.compactMap { AddressNormalizer.canonical($0) } })
        let (messages, names) = try await readModel.interactionsAndNames(for: viewer)
        return try await suggestions(messages: messages, names: names, known: known)
    }

    /// Whether an address may be suggested at all (before its figures): not an investor's, not on the
    /// workspace domain, not a bulk sender's local part, not excluded by the capture policy.
    func suggestible(_ address: String, known: Set<String>) -> Bool {
        let parts = address.split(separator: "@", maxSplits: 1)
        guard parts.count == 2, !known.contains(address) else { return false }
        let local = String(parts[0])
        if let d = readModel.policy.workspaceDomain, AddressNormalizer.isAt(address, domain: d) { return false }
        if Self.bulkLocalParts.contains(where: { local == $0 || local.hasPrefix($0 + "+") || local.hasPrefix($0 + ".") }) { return false }
        if case .exclude = policy.decide(labels: [], participants: [address]) { return false }
        return true
    }

    func suggestions(messages: [InteractionMessage], names: [String: String], known: Set<String>) async throws -> [Suggestion] {
        let calc = try await calculator()
        let figures = calc.people(messages: messages).filter { address, f in
            f.messagesIn >= 2 && f.messagesOut >= 2 && suggestible(address, known: known)
        }
        return Self.suggestions(figures, names: names)
    }

    static func suggestions(_ figures: [String: RelationshipFigures], names: [String: String]) -> [Suggestion] {
        figures.map { address, f in
            Suggestion(
                address: address, name: names[address], domain: String(address.split(separator: "@", maxSplits: 1)[1]),
                messagesIn: f.messagesIn, messagesOut: f.messagesOut, threads: f.threads, lastContactAt: iso(f.lastContactAt),
                strength: f.strength)
        }.sorted { ($0.strength, $1.address) > ($1.strength, $0.address) }
    }

    /// One visible interaction with an investor, for its timeline.
    public struct TimelineItem: Sendable, Encodable {
        public var threadId: Int64
        public var messageId: String?
        public var at: String
        /// inbound, outbound, or copied (the investor only copied on someone else's mail).
        public var direction: String
        public var teammates: [String]
        enum CodingKeys: String, CodingKey { case threadId, messageId, at, direction, teammates }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(threadId, forKey: .threadId)
            try c.encode(messageId, forKey: .messageId)
            try c.encode(at, forKey: .at)
            try c.encode(direction, forKey: .direction)
            try c.encode(teammates, forKey: .teammates)
        }
    }

    /// An investor's visible interactions, newest first, paginated; nil when the investor does not exist.
    /// Read from the relationship index (the investor's team entries, newest first); `timelineRecomputed`
    /// is the per-query reference.
    public func timeline(investorId: String, for viewer: Viewer, limit: Int, offset: Int) async throws -> [TimelineItem]? {
        guard try await directory.investors().contains(where: { $0.id == investorId }) else { return nil }
        return try await withIndex(viewer) { index, db, hidden in
            try index.timeline(db, investor: investorId, hidden: hidden, limit: limit, offset: offset)
        }
    }

    /// `timeline` computed from every message the viewer may see (no index).
    func timelineRecomputed(investorId: String, for viewer: Viewer, limit: Int, offset: Int) async throws -> [TimelineItem]? {
        guard let inv = try await directory.investors().first(where: { $0.id == investorId }) else { return nil }
        let addresses = Set(inv.emails.compactMap { AddressNormalizer.canonical($0) })
        let teammates = Set(try await readModel.database.accounts().map { $0.email.lowercased() })
        let items = try await readModel.interactions(for: viewer).compactMap { m -> TimelineItem? in
            let partyIsSender = m.from.map { addresses.contains($0) } ?? false
            let partyIsRecipient = (m.to + m.cc).contains { addresses.contains($0) }
            guard partyIsSender || partyIsRecipient else { return nil }
            let teamSent = m.from.map { teammates.contains($0) } ?? false
            let direction = partyIsSender ? "inbound" : teamSent ? "outbound" : "copied"
            return TimelineItem(
                threadId: m.threadId, messageId: m.messageId, at: CaptureDatabase.isoString(m.at), direction: direction,
                teammates: m.holders)
        }.sorted { ($0.at, $0.threadId) > ($1.at, $1.threadId) }
        return Array(items.dropFirst(offset).prefix(limit))
    }
}
