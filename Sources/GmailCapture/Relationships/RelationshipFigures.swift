public import Foundation

/// The five strength grades (cut-offs on the rounded strength, see `RelationshipCalculator.grade(_:)`):
/// very strong ≥ 80, strong ≥ 60, moderate ≥ 40, weak ≥ 20, very weak below 20.
public enum StrengthGrade: String, Sendable, Codable, CaseIterable {
    case veryStrong = "very strong"
    case strong
    case moderate
    case weak
    case veryWeak = "very weak"
}

/// Figures for one relationship (a teammate and an external party, or the whole team and a party).
///
/// Definitions (see `RelationshipCalculator` for the full rules): an interaction is a message a
/// teammate's mailbox holds in which the party is the sender or a To/Cc recipient; inbound when the
/// party sent it, outbound when the teammate (for the team: any teammate) sent it, otherwise neither
/// (the party only copied on someone else's mail), which still counts for the dates and `threads`.
/// Windows are the last 30, 90 and 365 days on the injected clock, inclusive at the edge
/// (`at >= now − N days`).
public struct RelationshipFigures: Sendable, Equatable {
    public var firstContactAt: Date?
    public var lastContactAt: Date?
    public var lastInboundAt: Date?
    public var lastOutboundAt: Date?
    /// All time.
    public var messagesIn: Int
    public var messagesOut: Int
    public var messagesIn30: Int
    public var messagesOut30: Int
    public var messagesIn90: Int
    public var messagesOut90: Int
    public var messagesIn365: Int
    public var messagesOut365: Int
    /// Distinct messages that are interactions (inbound, outbound and copied).
    public var interactions: Int
    /// Distinct threads of those.
    public var threads: Int
    /// Median seconds the external side takes to reply to the team.
    public var medianTheirReplySeconds: Double?
    /// Median seconds the team takes to reply to them.
    public var medianOurReplySeconds: Double?
    /// 0...100, rounded to one decimal (`RelationshipCalculator.strength`).
    public var strength: Double
    public var grade: StrengthGrade
    /// The teammate of the latest interaction (for a teammate's own figures: that teammate).
    public var lastContactBy: String?

    public init(
        firstContactAt: Date? = nil, lastContactAt: Date? = nil, lastInboundAt: Date? = nil, lastOutboundAt: Date? = nil,
        messagesIn: Int = 0, messagesOut: Int = 0, messagesIn30: Int = 0, messagesOut30: Int = 0, messagesIn90: Int = 0,
        messagesOut90: Int = 0, messagesIn365: Int = 0, messagesOut365: Int = 0, interactions: Int = 0, threads: Int = 0,
        medianTheirReplySeconds: Double? = nil, medianOurReplySeconds: Double? = nil, strength: Double = 0,
        grade: StrengthGrade = .veryWeak, lastContactBy: String? = nil
    ) {
        self.firstContactAt = firstContactAt
        self.lastContactAt = lastContactAt
        self.lastInboundAt = lastInboundAt
        self.lastOutboundAt = lastOutboundAt
        self.messagesIn = messagesIn
        self.messagesOut = messagesOut
        self.messagesIn30 = messagesIn30
        self.messagesOut30 = messagesOut30
        self.messagesIn90 = messagesIn90
        self.messagesOut90 = messagesOut90
        self.messagesIn365 = messagesIn365
        self.messagesOut365 = messagesOut365
        self.interactions = interactions
        self.threads = threads
        self.medianTheirReplySeconds = medianTheirReplySeconds
        self.medianOurReplySeconds = medianOurReplySeconds
        self.strength = strength
        self.grade = grade
        self.lastContactBy = lastContactBy
    }
}

/// Predicates over canonical addresses naming an external party for `RelationshipCalculator.figures`.
public enum RelationshipParty {
    /// Exactly one address (canonicalised before comparing).
    public static func address(_ address: String) -> @Sendable (String) -> Bool {
        let a = AddressNormalizer.canonical(address) ?? address.lowercased()
        return { $0 == a }
    }

    /// Any of these addresses (an investor's own addresses; canonicalised before comparing).
    public static func addresses(_ addresses: some Sequence<String>) -> @Sendable (String) -> Bool {
        let set = Set(addresses.map { AddressNormalizer.canonical($0) ?? $0.lowercased() })
        return { set.contains($0) }
    }

    /// Every address at `domain` or at one of its subdomains (`a@fund.example`, `b@eu.fund.example`;
    /// not `c@otherfund.example`). Case-insensitive; a leading `@` or `.` and a trailing `.` are ignored.
    public static func domain(_ domain: String) -> @Sendable (String) -> Bool {
        let d = AddressNormalizer.domain(domain)
        return { address in d.map { AddressNormalizer.isAt(address.lowercased(), domain: $0) } ?? false }
    }
}
