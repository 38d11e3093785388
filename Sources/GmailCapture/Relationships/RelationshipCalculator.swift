public import Foundation

/// Relationship intelligence (issue #14): who on the team knows an external party, how well, since when.
/// A pure computation over message metadata (participants, direction, time), never content; the caller
/// passes only the messages the viewer may see (captured, not deleted, visible).
///
/// **Interaction.** Between teammate T and external party P: a message T's mailbox holds (T in `holders`,
/// whether T sent it or received it by To, Cc, Bcc or a group alias) in which P is the sender or a To/Cc
/// recipient. Bcc never makes P a party. A party is never a teammate: addresses of teammates are
/// excluded from every party predicate. For the team as a whole: a message some teammate's mailbox
/// holds, counted once (distinct ids; duplicate values with one id are merged, holders united).
///
/// **Direction.** Inbound: P sent it. Outbound: T sent it (for the team: any teammate sent it). Anything
/// else (P only copied on a third party's mail, or on another teammate's mail for T's own figures) is an
/// interaction that counts for the dates, `interactions` and `threads`, and is neither in nor out.
///
/// **Windows.** `messagesIn30`... count the messages with `at >= now − N × 86 400 s` (a message exactly
/// N days old is inside; messages dated after `now` are inside every window).
///
/// **Replies.** Within one relationship, an inbound interaction whose In-Reply-To or References names the
/// Message-ID of an outbound interaction is the party replying to us; an outbound one naming an inbound
/// one is us replying to them. The original is the In-Reply-To when it is of the other side, else the
/// last (nearest) such entry of References. Reply time = reply.at − original.at; negative times are
/// ignored; the figure is the median over replies (the mean of the two middle values for an even count).
/// For the team the two sides are the party and the whole team, so a reply in alice's mailbox to a
/// message bob sent is measured; for T's own figures the original must be T's own interaction.
///
/// **lastContactBy.** The teammate of the latest interaction (latest `at`; equal times: the higher id).
/// When several teammates hold that message: its sender if a teammate sent it, else the first teammate
/// in To, then in Cc, then the first holder in address order (only holders qualify).
///
/// **Strength** and **grades**: see `strength(daysSinceLastContact:weightedInbound:weightedOutbound:weightedCopied:)`
/// and `grade(_:)`.
public struct RelationshipCalculator: Sendable {
    /// Lowercased teammate mailbox addresses.
    public let teammates: Set<String>
    public let now: Date
    /// Canonical address (and the lowercased mailbox address itself) → teammate mailbox address.
    private let teammateByAddress: [String: String]

    public init(teammates: Set<String>, now: Date) {
        let lowered = Set(teammates.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() })
        self.teammates = lowered
        self.now = now
        var map: [String: String] = [:]
        for t in lowered.sorted() {
            if let c = AddressNormalizer.canonical(t), map[c] == nil { map[c] = t }
        }
        for t in lowered { map[t] = t }
        self.teammateByAddress = map
    }

    // MARK: Public entry points

    /// Figures for an external party given as a predicate over canonical addresses (one address; an
    /// investor's own addresses; every address at a domain and its subdomains): the team as a whole
    /// (distinct messages, never sums over teammates; nil without any interaction) and each teammate
    /// with at least one interaction.
    public func figures(
        party: (String) -> Bool, messages: [InteractionMessage]
    ) -> (team: RelationshipFigures?, byTeammate: [String: RelationshipFigures]) {
        var teamEntries: [Entry] = []
        var perTeammate: [String: [Entry]] = [:]
        for m in Self.distinct(messages) {
            for c in contributions(party: party, message: m) {
                let entry = Entry(message: m, direction: Direction(c.direction), weight: c.weight)
                if let t = c.teammate { perTeammate[t, default: []].append(entry) } else { teamEntries.append(entry) }
            }
        }
        let team = compute(teamEntries, lastContactBy: { self.contactTeammate(of: $0) })
        var byTeammate: [String: RelationshipFigures] = [:]
        for (t, entries) in perTeammate {
            byTeammate[t] = compute(entries, lastContactBy: { _ in t })
        }
        return (team, byTeammate)
    }

    /// What one message contributes to a party's figures: nothing unless a teammate's mailbox holds it and
    /// the party is its sender or a To/Cc recipient; then one contribution for the team (`teammate` nil,
    /// credited to `contactTeammate`) and one for each holding teammate (credited to them). The per-query
    /// figures and the maintained relationship index both derive from this, so they cannot disagree.
    public func contributions(party: (String) -> Bool, message m: InteractionMessage) -> [Contribution] {
        withoutActuallyEscaping(party) { contributions(parties: [$0], message: m)[0] }
    }

    /// `contributions(party:message:)` for several parties of one message (the relationship index derives
    /// every external address and domain of each message), the per-message work done once.
    public func contributions(parties: [(String) -> Bool], message m: InteractionMessage) -> [[Contribution]] {
        let holders = teammateHolders(m)
        guard !holders.isEmpty else { return parties.map { _ in [] } }
        let recipients = Self.recipientCount(m)
        let sender = m.from.flatMap { teammateByAddress[$0] }
        let credited = contactTeammate(of: m, holders: holders)
        return parties.map { party in
            let isParty: (String) -> Bool = { party($0) && !self.isTeammate($0) }
            guard let directness = Self.directness(m, isParty) else { return [] }
            let weight = Self.messageWeight(directness: directness, recipients: recipients)
            let partySent = m.from.map(isParty) ?? false
            var out = [
                Contribution(
                    teammate: nil, direction: partySent ? .inbound : sender != nil ? .outbound : .neither, weight: weight,
                    credited: credited)
            ]
            out.reserveCapacity(holders.count + 1)
            for t in holders {
                out.append(
                    Contribution(
                        teammate: t, direction: partySent ? .inbound : sender == t ? .outbound : .neither, weight: weight, credited: t))
            }
            return out
        }
    }

    /// One message's part in a relationship (see `contributions`).
    public struct Contribution: Sendable, Equatable {
        public enum Direction: Int, Sendable { case neither = 0, inbound = 1, outbound = 2 }
        /// nil: the team as a whole.
        public var teammate: String?
        public var direction: Direction
        public var weight: Double
        /// Who the message is credited to when it is the latest (`lastContactBy`).
        public var credited: String?
    }

    /// External correspondents (not teammates) with their team figures per address, for "who knows" and
    /// suggestions: every canonical address that is the sender or a To/Cc recipient of a message some
    /// teammate holds. The caller filters group aliases, the workspace domain, bulk senders and the like.
    public func people(messages: [InteractionMessage]) -> [String: RelationshipFigures] {
        let ms = Self.distinct(messages)
        var byAddress: [String: [Int]] = [:]
        for (i, m) in ms.enumerated() where !teammateHolders(m).isEmpty {
            var seen = Set<String>()
            for a in [m.from].compactMap({ $0 }) + m.to + m.cc where !isTeammate(a) && seen.insert(a).inserted {
                byAddress[a, default: []].append(i)
            }
        }
        var result: [String: RelationshipFigures] = [:]
        for (address, indices) in byAddress {
            let isParty: (String) -> Bool = { $0 == address }
            var entries: [Entry] = []
            entries.reserveCapacity(indices.count)
            for i in indices {
                let m = ms[i]
                guard let directness = Self.directness(m, isParty) else { continue }
                let d: Direction = m.from == address ? .inbound : m.from.flatMap({ teammateByAddress[$0] }) != nil ? .outbound : .copied
                entries.append(
                    Entry(message: m, direction: d, weight: Self.messageWeight(directness: directness, recipients: Self.recipientCount(m))))
            }
            if let f = compute(entries, lastContactBy: { self.contactTeammate(of: $0) }) { result[address] = f }
        }
        return result
    }

    /// Teammates' figures strongest first (equal strength: the later last contact, then the address).
    public static func ranked(_ byTeammate: [String: RelationshipFigures]) -> [(email: String, figures: RelationshipFigures)] {
        byTeammate.map { (email: $0.key, figures: $0.value) }.sorted { a, b in
            if a.figures.strength != b.figures.strength { return a.figures.strength > b.figures.strength }
            let la = a.figures.lastContactAt ?? .distantPast, lb = b.figures.lastContactAt ?? .distantPast
            if la != lb { return la > lb }
            return a.email < b.email
        }
    }

    // MARK: Strength

    /// The relationship strength, 0–100, rounded to one decimal:
    ///
    ///     strength = round₁(100 × R × F × Q)
    ///
    ///     R (recency)     = 2^(−d / 90)          d = days from lastContactAt to now (0 when in the future);
    ///                                             exponential decay with a half-life of 90 days
    ///     w (one message) = directness ÷ max(1, recipients / 5)
    ///                       directness = 1 when the party is the sender or a To recipient, 0.5 when only in Cc;
    ///                       recipients = distinct To + Cc + Bcc addresses (up to 5 recipients: no discount)
    ///     W_in, W_out, W_cc = Σ w over the interactions of the last 365 days that are inbound, outbound,
    ///                       and neither (the party copied on a third party's mail)
    ///     F (frequency)   = min(1, log₂(1 + W_in + W_out + W_cc) / 4)
    ///                       saturating: 1 weighted message → 0.25, 3 → 0.5, 7 → 0.75, 15 or more → 1
    ///     Q (reciprocity) = 0.5 + 0.5 × min(W_in, W_out) / max(W_in, W_out)   when W_in > 0 and W_out > 0
    ///                       0.4   when only inbound (they write, we never do)
    ///                       0.25  when neither (only copied together on others' mail)
    ///                       0.1   when only outbound (we write, they never reply)
    ///
    /// round₁(x) rounds to one decimal, halves away from zero. No interaction in the last 365 days
    /// gives F = 0 and so strength 0.
    public static func strength(
        daysSinceLastContact: Double, weightedInbound: Double, weightedOutbound: Double, weightedCopied: Double
    )
        -> Double
    {
        let r = recency(days: daysSinceLastContact)
        let f = frequency(weightedMessages: weightedInbound + weightedOutbound + weightedCopied)
        let q = reciprocity(weightedInbound: weightedInbound, weightedOutbound: weightedOutbound)
        return (1000 * r * f * q).rounded(.toNearestOrAwayFromZero) / 10
    }

    /// R = 2^(−d / 90): 1 today, 0.5 after 90 days, 0.25 after 180.
    public static func recency(days: Double) -> Double { pow(2, -max(0, days) / halfLifeDays) }

    /// F = min(1, log₂(1 + W) / 4).
    public static func frequency(weightedMessages w: Double) -> Double { min(1, log2(1 + max(0, w)) / 4) }

    /// Q: two-way 0.5 + 0.5 × balance; only inbound 0.4; neither 0.25; only outbound 0.1.
    public static func reciprocity(weightedInbound i: Double, weightedOutbound o: Double) -> Double {
        switch (i > 0, o > 0) {
        case (true, true): 0.5 + 0.5 * min(i, o) / max(i, o)
        case (true, false): 0.4
        case (false, true): 0.1
        case (false, false): 0.25
        }
    }

    /// w = directness ÷ max(1, recipients / 5), directness 1 (sender or To) or 0.5 (Cc only).
    public static func messageWeight(directness: Double, recipients: Int) -> Double {
        directness / max(1, Double(recipients) / 5)
    }

    /// Grades on the rounded strength: very strong ≥ 80, strong ≥ 60, moderate ≥ 40, weak ≥ 20, else very weak.
    public static func grade(_ strength: Double) -> StrengthGrade {
        switch strength {
        case 80...: .veryStrong
        case 60..<80: .strong
        case 40..<60: .moderate
        case 20..<40: .weak
        default: .veryWeak
        }
    }

    public static let halfLifeDays: Double = 90
    public static let frequencyWindowDays: Double = 365

    // MARK: Core

    private enum Direction {
        case inbound, outbound, copied
        init(_ d: Contribution.Direction) {
            switch d {
            case .inbound: self = .inbound
            case .outbound: self = .outbound
            case .neither: self = .copied
            }
        }
    }

    private struct Entry {
        var message: InteractionMessage
        var direction: Direction
        var weight: Double
    }

    func isTeammate(_ address: String) -> Bool { teammateByAddress[address] != nil }

    /// The message's holders that are teammates (lowercased).
    private func teammateHolders(_ m: InteractionMessage) -> [String] {
        var seen = Set<String>()
        return m.holders.map { $0.lowercased() }.filter { teammates.contains($0) && seen.insert($0).inserted }
    }

    /// 1 when the party is the sender or a To recipient, 0.5 when only in Cc, nil when not a party.
    private static func directness(_ m: InteractionMessage, _ isParty: (String) -> Bool) -> Double? {
        if let f = m.from, isParty(f) { return 1 }
        if m.to.contains(where: isParty) { return 1 }
        if m.cc.contains(where: isParty) { return 0.5 }
        return nil
    }

    private static func recipientCount(_ m: InteractionMessage) -> Int { Set(m.to + m.cc + m.bcc).count }

    /// One value per id, in first-seen order; holders of duplicates united and sorted.
    private static func distinct(_ messages: [InteractionMessage]) -> [InteractionMessage] {
        var index: [Int64: Int] = [:]
        var out: [InteractionMessage] = []
        out.reserveCapacity(messages.count)
        for m in messages {
            if let i = index[m.id] {
                if out[i].holders != m.holders { out[i].holders = Array(Set(out[i].holders + m.holders)).sorted() }
            } else {
                index[m.id] = out.count
                out.append(m)
            }
        }
        return out
    }

    /// The teammate credited with a message: its sender if a teammate holding it sent it, else the first
    /// holding teammate in To, then in Cc, then the first holder in address order.
    private func contactTeammate(of m: InteractionMessage) -> String? {
        contactTeammate(of: m, holders: teammateHolders(m))
    }

    private func contactTeammate(of m: InteractionMessage, holders list: [String]) -> String? {
        let holders = Set(list)
        if let f = m.from, let t = teammateByAddress[f], holders.contains(t) { return t }
        for a in m.to { if let t = teammateByAddress[a], holders.contains(t) { return t } }
        for a in m.cc { if let t = teammateByAddress[a], holders.contains(t) { return t } }
        return holders.sorted().first
    }

    private func compute(_ entries: [Entry], lastContactBy: (InteractionMessage) -> String?) -> RelationshipFigures? {
        guard !entries.isEmpty else { return nil }
        let day: TimeInterval = 86_400
        let cut30 = now.addingTimeInterval(-30 * day)
        let cut90 = now.addingTimeInterval(-90 * day)
        let cut365 = now.addingTimeInterval(-Self.frequencyWindowDays * day)
        var f = RelationshipFigures()
        var threads = Set<Int64>()
        var latest: InteractionMessage?
        var wIn = 0.0, wOut = 0.0, wCopied = 0.0
        var inboundByMid: [String: InteractionMessage] = [:]
        var outboundByMid: [String: InteractionMessage] = [:]
        for e in entries {
            let m = e.message
            threads.insert(m.threadId)
            if f.firstContactAt.map({ m.at < $0 }) ?? true { f.firstContactAt = m.at }
            if let l = latest {
                if m.at > l.at || (m.at == l.at && m.id > l.id) { latest = m }
            } else {
                latest = m
            }
            let in365 = m.at >= cut365
            switch e.direction {
            case .inbound:
                f.messagesIn += 1
                if m.at >= cut30 { f.messagesIn30 += 1 }
                if m.at >= cut90 { f.messagesIn90 += 1 }
                if in365 { f.messagesIn365 += 1; wIn += e.weight }
                if f.lastInboundAt.map({ m.at > $0 }) ?? true { f.lastInboundAt = m.at }
                if let mid = m.messageId { Self.keepEarliest(&inboundByMid, mid, m) }
            case .outbound:
                f.messagesOut += 1
                if m.at >= cut30 { f.messagesOut30 += 1 }
                if m.at >= cut90 { f.messagesOut90 += 1 }
                if in365 { f.messagesOut365 += 1; wOut += e.weight }
                if f.lastOutboundAt.map({ m.at > $0 }) ?? true { f.lastOutboundAt = m.at }
                if let mid = m.messageId { Self.keepEarliest(&outboundByMid, mid, m) }
            case .copied:
                if in365 { wCopied += e.weight }
            }
        }
        f.lastContactAt = latest?.at
        f.interactions = entries.count
        f.threads = threads.count
        (f.medianTheirReplySeconds, f.medianOurReplySeconds) = Self.replyMedians(
            entries.map { ($0.message, $0.direction == .inbound ? true : $0.direction == .outbound ? false : nil) },
            inboundByMid: inboundByMid, outboundByMid: outboundByMid)
        let days = (f.lastContactAt.map { now.timeIntervalSince($0) } ?? 0) / day
        f.strength = Self.strength(daysSinceLastContact: days, weightedInbound: wIn, weightedOutbound: wOut, weightedCopied: wCopied)
        f.grade = Self.grade(f.strength)
        f.lastContactBy = latest.flatMap(lastContactBy)
        return f
    }

    /// The medians of reply times within one relationship (see **Replies**): each interaction with its
    /// side (true: the party's, inbound; false: ours, outbound; nil: neither), in the order the figures
    /// read them (by message id). The relationship index computes a single party's medians with it.
    public static func replyMedians(_ items: [(message: InteractionMessage, inbound: Bool?)]) -> (theirs: Double?, ours: Double?) {
        var inboundByMid: [String: InteractionMessage] = [:]
        var outboundByMid: [String: InteractionMessage] = [:]
        for (m, inbound) in items {
            guard let inbound, let mid = m.messageId else { continue }
            if inbound { keepEarliest(&inboundByMid, mid, m) } else { keepEarliest(&outboundByMid, mid, m) }
        }
        return replyMedians(items, inboundByMid: inboundByMid, outboundByMid: outboundByMid)
    }

    private static func replyMedians(
        _ items: [(message: InteractionMessage, inbound: Bool?)], inboundByMid: [String: InteractionMessage],
        outboundByMid: [String: InteractionMessage]
    ) -> (theirs: Double?, ours: Double?) {
        var theirs: [Double] = []
        var ours: [Double] = []
        for (m, inbound) in items {
            switch inbound {
            case true?: if let t = replyTime(m, to: outboundByMid) { theirs.append(t) }
            case false?: if let t = replyTime(m, to: inboundByMid) { ours.append(t) }
            case nil: break
            }
        }
        return (median(theirs), median(ours))
    }

    private static func keepEarliest(_ map: inout [String: InteractionMessage], _ mid: String, _ m: InteractionMessage) {
        if let old = map[mid], old.at <= m.at { return }
        map[mid] = m
    }

    /// Seconds from the original (the In-Reply-To if of the other side, else the last such References
    /// entry) to the reply; nil when it replies to nothing of the other side or the time is negative.
    private static func replyTime(_ reply: InteractionMessage, to otherSide: [String: InteractionMessage]) -> Double? {
        let candidates = [reply.inReplyTo].compactMap { $0 } + reply.references.reversed()
        for c in candidates {
            if let original = otherSide[c], original.id != reply.id {
                let t = reply.at.timeIntervalSince(original.at)
                return t >= 0 ? t : nil
            }
        }
        return nil
    }

    private static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
