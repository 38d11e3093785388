import Foundation
import GmailCapture
import Testing

// Fixtures: three teammates, an investor firm at lumen.example (with a subdomain), and outsiders.
// The clock is fixed; `ago(d, s)` is d days before `now`, shifted by s seconds (negative s = older).
private let now = Date(timeIntervalSince1970: 1_750_000_000)
private let day: TimeInterval = 86_400
private let hour: TimeInterval = 3_600
private func ago(_ days: Double, _ seconds: Double = 0) -> Date { now.addingTimeInterval(-days * day + seconds) }

private let alice = "alice@firm.example"
private let bob = "bob@firm.example"
private let carol = "carol@firm.example"
private let maya = "maya@lumen.example"
private let omar = "omar@lumen.example"
private let li = "li@eu.lumen.example"
private let outsider = "x@otherlumen.example"

private let calc = RelationshipCalculator(teammates: [alice, bob, carol], now: now)

private func msg(
    _ id: Int64, thread: Int64? = nil, at: Date, irt: Int64? = nil, refs: [Int64] = [], from: String?, to: [String] = [],
    cc: [String] = [], bcc: [String] = [], holders: [String]
) -> InteractionMessage {
    InteractionMessage(
        id: id, threadId: thread ?? id, at: at, messageId: mid(id), inReplyTo: irt.map(mid), references: refs.map(mid), from: from,
        to: to, cc: cc, bcc: bcc, holders: holders)
}
private func mid(_ id: Int64) -> String { "m\(id)@mail.example" }

/// The formula applied by hand-checked inputs: (days, W_in, W_out, W_cc).
private func formula(_ d: Double, _ i: Double, _ o: Double, _ c: Double) -> Double {
    RelationshipCalculator.strength(daysSinceLastContact: d, weightedInbound: i, weightedOutbound: o, weightedCopied: c)
}

@Suite struct RelationshipFigureTests {
    /// bob writes to maya; maya replies to alice and bob; alice answers.
    @Test func replyAcrossTwoTeammatesMailboxes() throws {
        let t0 = ago(10)
        let ms = [
            msg(1, thread: 10, at: t0, from: bob, to: [maya], holders: [bob]),
            msg(2, thread: 10, at: t0 + 3 * hour, irt: 1, refs: [1], from: maya, to: [alice, bob], holders: [alice, bob]),
            msg(3, thread: 10, at: t0 + 5 * hour, irt: 2, refs: [1, 2], from: alice, to: [maya], holders: [alice]),
        ]
        let (teamOpt, by) = calc.figures(party: RelationshipParty.address(maya), messages: ms)
        let team = try #require(teamOpt)
        // Team: 1 inbound (2), 2 outbound (1 bob, 3 alice), one thread.
        #expect(team.firstContactAt == t0)
        #expect(team.lastContactAt == t0 + 5 * hour)
        #expect(team.lastInboundAt == t0 + 3 * hour)
        #expect(team.lastOutboundAt == t0 + 5 * hour)
        #expect((team.messagesIn, team.messagesOut) == (1, 2))
        #expect((team.messagesIn30, team.messagesOut30, team.messagesIn90, team.messagesOut90) == (1, 2, 1, 2))
        #expect((team.messagesIn365, team.messagesOut365) == (1, 2))
        #expect((team.interactions, team.threads) == (3, 1))
        // maya's reply (2) to bob's message (1): 3 h = 10 800 s, measured though alice's mailbox also holds it.
        #expect(team.medianTheirReplySeconds == 10_800)
        // alice's answer (3) to maya's (2): 2 h = 7 200 s.
        #expect(team.medianOurReplySeconds == 7_200)
        #expect(team.lastContactBy == alice)  // 3 is the latest; alice sent it
        // Strength: d = 10 − 5/24 = 9.7917 days → R = 2^(−9.7917/90) = 0.92736; every message has ≤ 2
        // recipients and maya in From/To, so w = 1: W_in = 1, W_out = 2, W = 3 → F = log2(4)/4 = 0.5;
        // Q = 0.5 + 0.5 × 1/2 = 0.75 → 100 × 0.92736 × 0.5 × 0.75 = 34.776 → 34.8, weak.
        #expect(team.strength == 34.8)
        #expect(team.grade == .weak)

        #expect(Set(by.keys) == [alice, bob])
        let b = try #require(by[bob])
        // bob holds 1 (he sent it) and 2 (to him): 1 in, 1 out.
        #expect((b.messagesIn, b.messagesOut, b.interactions, b.threads) == (1, 1, 2, 1))
        #expect(b.firstContactAt == t0)
        #expect(b.lastContactAt == t0 + 3 * hour)
        #expect(b.lastInboundAt == t0 + 3 * hour)
        #expect(b.lastOutboundAt == t0)
        #expect(b.medianTheirReplySeconds == 10_800)
        #expect(b.medianOurReplySeconds == nil)
        #expect(b.lastContactBy == bob)
        // d = 10 − 3/24 = 9.875 → R = 0.92677; W = 2 → F = log2(3)/4 = 0.39624; Q = 1 → 36.722 → 36.7.
        #expect(b.strength == 36.7)

        let a = try #require(by[alice])
        // alice holds 2 (to her) and 3 (she sent it). Maya's 2 replies to bob's 1, not to alice: not hers.
        #expect((a.messagesIn, a.messagesOut, a.interactions, a.threads) == (1, 1, 2, 1))
        #expect(a.firstContactAt == t0 + 3 * hour)
        #expect(a.lastContactAt == t0 + 5 * hour)
        #expect(a.medianTheirReplySeconds == nil)
        #expect(a.medianOurReplySeconds == 7_200)
        // d = 9.7917 → R = 0.92736; W = 2 → F = 0.39624; Q = 1 → 36.746 → 36.7.
        #expect(a.strength == 36.7)
        #expect(by[carol] == nil)
    }

    /// The original sits only in bob's mailbox, the reply only in alice's: measured for the team alone.
    @Test func replyWhoseOriginalIsInAnotherMailbox() throws {
        let ms = [
            msg(1, thread: 1, at: ago(5), from: bob, to: [maya], holders: [bob]),
            msg(2, thread: 1, at: ago(4), irt: 1, refs: [1], from: maya, to: [alice], holders: [alice]),
        ]
        let (team, by) = calc.figures(party: RelationshipParty.address(maya), messages: ms)
        #expect(team?.medianTheirReplySeconds == 86_400)  // ago(4) − ago(5) = 1 day
        #expect(team?.lastContactBy == alice)  // 2 is the latest; alice is its only holder
        #expect(by[bob]?.medianTheirReplySeconds == nil)  // bob does not hold the reply
        #expect(by[alice]?.medianTheirReplySeconds == nil)  // the original is not alice's
        #expect(by[bob]?.messagesOut == 1)
        #expect(by[alice]?.messagesIn == 1)
    }

    /// Median over replies: odd and even counts, a negative time ignored, References as fallback.
    @Test func replyTimeMedians() throws {
        let t0 = ago(20)
        let ms = [
            msg(1, thread: 1, at: t0, from: alice, to: [maya], holders: [alice]),
            msg(2, thread: 1, at: t0 + 1 * hour, irt: 1, refs: [1], from: maya, to: [alice], holders: [alice]),  // theirs 1 h
            msg(3, thread: 1, at: t0 + 10 * hour, irt: 2, refs: [1, 2], from: alice, to: [maya], holders: [alice]),  // ours 9 h
            msg(4, thread: 1, at: t0 + 13 * hour, irt: 3, refs: [1, 2, 3], from: maya, to: [alice], holders: [alice]),  // theirs 3 h
            msg(5, thread: 2, at: t0 + 20 * hour, from: alice, to: [maya], holders: [alice]),
            msg(6, thread: 2, at: t0 + 19 * hour, irt: 5, refs: [5], from: maya, to: [alice], holders: [alice]),  // −1 h: ignored
            // maya follows up on her own 4: In-Reply-To names her side, so the last References entry of
            // ours (3, at t0 + 10 h) is the original: 30 h − 10 h = 20 h.
            msg(7, thread: 1, at: t0 + 30 * hour, irt: 4, refs: [1, 2, 3, 4], from: maya, to: [alice], holders: [alice]),
            msg(8, thread: 1, at: t0 + 31 * hour, irt: 7, refs: [1, 2, 3, 4, 7], from: alice, to: [maya], holders: [alice]),  // ours 1 h
        ]
        let team = try #require(calc.figures(party: RelationshipParty.address(maya), messages: ms).team)
        // theirs: [1 h, 3 h, 20 h] → median 3 h = 10 800 s.
        #expect(team.medianTheirReplySeconds == 10_800)
        // ours: [9 h, 1 h] → (3 600 + 32 400) / 2 = 18 000 s.
        #expect(team.medianOurReplySeconds == 18_000)
        #expect((team.messagesIn, team.messagesOut, team.threads) == (4, 4, 2))
    }

    /// One message held by alice and bob is one message for the team; per-mailbox rows merge.
    @Test func messageHeldByTwoTeammatesCountedOnce() throws {
        let ms = [
            // The same message (id 1) as two per-mailbox rows; maya writes to alice, cc bob.
            msg(1, thread: 1, at: ago(5), from: maya, to: [alice], cc: [bob], holders: [alice]),
            msg(1, thread: 1, at: ago(5), from: maya, to: [alice], cc: [bob], holders: [bob]),
            msg(2, thread: 1, at: ago(4), irt: 1, from: alice, to: [maya], cc: [bob], holders: [alice, bob]),
        ]
        let (teamOpt, by) = calc.figures(party: RelationshipParty.address(maya), messages: ms)
        let team = try #require(teamOpt)
        #expect((team.messagesIn, team.messagesOut, team.interactions, team.threads) == (1, 1, 2, 1))
        #expect(team.medianOurReplySeconds == 86_400)
        let a = try #require(by[alice]), b = try #require(by[bob])
        #expect((a.messagesIn, a.messagesOut, a.interactions) == (1, 1, 2))
        // bob was only copied on alice's 2: an interaction, neither in nor out.
        #expect((b.messagesIn, b.messagesOut, b.interactions) == (1, 0, 2))
        #expect(b.lastOutboundAt == nil)
        #expect(b.lastContactAt == ago(4))
        // Distinct messages, not a sum over teammates: 1 + 1 inbound rows, 1 for the team.
        #expect(team.messagesIn < a.messagesIn + b.messagesIn)
        // Team: d = 4 → R = 2^(−4/90) = 0.96966; W_in = W_out = 1 → F = 0.39624, Q = 1 → 38.42 → 38.4.
        #expect(team.strength == 38.4)
        // bob: W_in = 1, W_cc = 1 (maya in To of 2, 2 recipients) → F = 0.39624; only inbound, Q = 0.4
        // → 100 × 0.96966 × 0.39624 × 0.4 = 15.369 → 15.4, very weak.
        #expect(b.strength == 15.4)
        #expect(b.grade == .veryWeak)
    }

    /// maya only copied on omar's mail to alice and on bob's mail: dates and threads, neither in nor out.
    @Test func ccOnlyThirdPartyMail() throws {
        let ms = [
            msg(1, thread: 7, at: ago(20), from: omar, to: [alice], cc: [maya], holders: [alice]),
            msg(2, thread: 8, at: ago(10), from: bob, to: [omar], cc: [maya, alice], holders: [alice, bob]),
        ]
        let (teamOpt, by) = calc.figures(party: RelationshipParty.address(maya), messages: ms)
        let team = try #require(teamOpt)
        // Team: 1 is a third party's (copied), 2 is bob's (outbound for the team).
        #expect((team.messagesIn, team.messagesOut, team.interactions, team.threads) == (0, 1, 2, 2))
        #expect(team.firstContactAt == ago(20))
        #expect(team.lastContactAt == ago(10))
        #expect(team.lastInboundAt == nil)
        #expect(team.lastOutboundAt == ago(10))
        #expect(team.lastContactBy == bob)
        // W_cc = 0.5 (1: maya in Cc, 2 recipients), W_out = 0.5 (2: Cc, 3 recipients) → W = 1, F = 0.25;
        // only outbound, Q = 0.1; R = 2^(−10/90) = 0.92587 → 2.315 → 2.3.
        #expect(team.strength == 2.3)

        let a = try #require(by[alice])
        // For alice both are someone else's mail with maya copied.
        #expect((a.messagesIn, a.messagesOut, a.interactions, a.threads) == (0, 0, 2, 2))
        #expect(a.firstContactAt == ago(20))
        #expect(a.lastContactAt == ago(10))
        #expect(a.lastInboundAt == nil && a.lastOutboundAt == nil)
        #expect((a.messagesIn30, a.messagesOut30, a.messagesIn365, a.messagesOut365) == (0, 0, 0, 0))
        // W_cc = 1 → F = 0.25; neither, Q = 0.25; R = 0.92587 → 5.787 → 5.8.
        #expect(a.strength == 5.8)
        let b = try #require(by[bob])
        #expect((b.messagesIn, b.messagesOut, b.interactions, b.threads) == (0, 1, 1, 1))
        // W_out = 0.5 → F = log2(1.5)/4 = 0.14624; Q = 0.1; R = 0.92587 → 1.354 → 1.4.
        #expect(b.strength == 1.4)

        // omar sent 1 to alice: inbound for omar.
        let o = try #require(calc.figures(party: RelationshipParty.address(omar), messages: ms).team)
        #expect((o.messagesIn, o.messagesOut, o.interactions) == (1, 1, 2))
    }

    /// Bcc never makes the bcc'd address a party; it does count as a recipient for the weight.
    @Test func bccIsNotAParty() throws {
        let hidden = [msg(1, at: ago(3), from: alice, to: [omar], bcc: [maya], holders: [alice])]
        let (team, by) = calc.figures(party: RelationshipParty.address(maya), messages: hidden)
        #expect(team == nil)
        #expect(by.isEmpty)
        #expect(calc.people(messages: hidden).keys.sorted() == [omar])

        // maya in To with 9 others in Bcc: 10 recipients → w = 1 ÷ (10/5) = 0.5.
        let bulk = [msg(2, at: now, from: alice, to: [maya], bcc: (1...9).map { "p\($0)@elsewhere.example" }, holders: [alice])]
        let t = try #require(calc.figures(party: RelationshipParty.address(maya), messages: bulk).team)
        // W_out = 0.5 → F = log2(1.5)/4 = 0.14624; only outbound, Q = 0.1; R = 1 → 1.462 → 1.5.
        #expect(t.strength == 1.5)
    }

    /// Windows are inclusive at the edge: exactly 30 days old is inside, one second more is outside.
    @Test func windowsAtTheEdges() throws {
        let ms = [
            msg(1, at: ago(30), from: maya, to: [alice], holders: [alice]),
            msg(2, at: ago(30, -1), from: maya, to: [alice], holders: [alice]),
            msg(3, at: ago(90), from: maya, to: [alice], holders: [alice]),
            msg(4, at: ago(90, -1), from: maya, to: [alice], holders: [alice]),
            msg(5, at: ago(365), from: maya, to: [alice], holders: [alice]),
            msg(6, at: ago(365, -1), from: maya, to: [alice], holders: [alice]),
            msg(7, at: now, from: alice, to: [maya], holders: [alice]),
            msg(8, at: ago(400), from: alice, to: [maya], holders: [alice]),
        ]
        let f = try #require(calc.figures(party: RelationshipParty.address(maya), messages: ms).team)
        // In: 30d → 1 (msg 1); 90d → 1, 2, 3 = 3; 365d → 1…5 = 5; all = 6.
        #expect((f.messagesIn30, f.messagesIn90, f.messagesIn365, f.messagesIn) == (1, 3, 5, 6))
        // Out: 7 (now) in every window; 8 (400 days) only all time.
        #expect((f.messagesOut30, f.messagesOut90, f.messagesOut365, f.messagesOut) == (1, 1, 1, 2))
        #expect((f.interactions, f.threads) == (8, 8))
        #expect(f.firstContactAt == ago(400))
        #expect(f.lastContactAt == now)
        #expect(f.lastInboundAt == ago(30))
        #expect(f.lastOutboundAt == now)
        // W_in = 5, W_out = 1 (365-day window) → W = 6, F = log2(7)/4 = 0.70184; Q = 0.5 + 0.5 × 1/5 = 0.6;
        // R = 1 → 42.110 → 42.1, moderate.
        #expect(f.strength == 42.1)
        #expect(f.grade == .moderate)
    }

    /// A message dated after `now` (a skewed clock) is inside every window and has recency 1.
    @Test func futureDatedMessage() throws {
        let f = try #require(
            calc.figures(
                party: RelationshipParty.address(maya), messages: [msg(1, at: now + hour, from: maya, to: [alice], holders: [alice])]
            )
            .team)
        #expect((f.messagesIn30, f.messagesIn90, f.messagesIn365) == (1, 1, 1))
        // R = 1 (d clamped to 0), F = log2(2)/4 = 0.25, only inbound Q = 0.4 → 10.0.
        #expect(f.strength == 10.0)
    }

    @Test func lastContactByTieRules() throws {
        let party = RelationshipParty.address(maya)
        func by(_ ms: [InteractionMessage]) -> String? { calc.figures(party: party, messages: ms).team?.lastContactBy }
        let older = msg(1, at: ago(10), from: carol, to: [maya], holders: [carol])
        // The sender, when a teammate holding it sent it (alice, also holding it, is in To).
        #expect(by([older, msg(2, at: ago(1), from: bob, to: [maya, alice], holders: [alice, bob])]) == bob)
        // Else the first teammate in To (carol before alice, though alice comes first among the holders).
        #expect(by([older, msg(2, at: ago(1), from: maya, to: [carol, alice], holders: [alice, carol])]) == carol)
        // Else the first teammate in Cc (To holds no teammate).
        #expect(by([older, msg(2, at: ago(1), from: maya, to: [omar], cc: [bob, alice], holders: [alice, bob])]) == bob)
        // Else the holders in address order (a group alias; Bcc).
        #expect(by([older, msg(2, at: ago(1), from: maya, to: ["deals@firm.example"], holders: [carol, bob])]) == bob)
        #expect(by([older, msg(2, at: ago(1), from: maya, to: [omar], bcc: [carol, alice], holders: [alice, carol])]) == alice)
        // Only holders qualify: carol sent it but her mailbox does not hold it, so alice (To) is credited.
        #expect(by([older, msg(2, at: ago(1), from: carol, to: [maya, alice], holders: [alice])]) == alice)
        // The latest interaction decides, not the latest message of a teammate.
        #expect(by([msg(2, at: ago(1), from: maya, to: [bob], holders: [bob]), older]) == bob)
        // Two interactions at the same instant: the higher id is the latest.
        #expect(
            by([msg(5, at: ago(1), from: maya, to: [alice], holders: [alice]), msg(6, at: ago(1), from: maya, to: [bob], holders: [bob])])
                == bob)
        #expect(
            by([msg(6, at: ago(1), from: maya, to: [bob], holders: [bob]), msg(5, at: ago(1), from: maya, to: [alice], holders: [alice])])
                == bob)
    }

    @Test func domainPredicateIncludesSubdomains() throws {
        let lumen = RelationshipParty.domain("lumen.example")
        #expect(lumen(maya) && lumen(li) && lumen("deep@a.b.lumen.example"))
        #expect(!lumen(outsider) && !lumen("y@lumen.example.com") && !lumen("lumen.example"))
        let spelled = RelationshipParty.domain("@Lumen.Example.")
        #expect(spelled(maya) && spelled(li) && !spelled(outsider))

        let ms = [
            msg(1, thread: 1, at: ago(3), from: maya, to: [alice], holders: [alice]),
            msg(2, thread: 2, at: ago(2), from: li, to: [bob], holders: [bob]),
            msg(3, thread: 1, at: ago(1), irt: 1, refs: [1], from: alice, to: [maya, li], holders: [alice]),
            msg(4, thread: 3, at: ago(0.5), from: outsider, to: [alice], holders: [alice]),
        ]
        let (teamOpt, by) = calc.figures(party: lumen, messages: ms)
        let team = try #require(teamOpt)
        // 1 (maya) and 2 (li, a subdomain) inbound; 3 to both counted once; 4 (otherlumen) not a party.
        #expect((team.messagesIn, team.messagesOut, team.interactions, team.threads) == (2, 1, 3, 2))
        #expect(team.lastContactAt == ago(1))
        #expect(team.lastContactBy == alice)
        #expect(team.medianOurReplySeconds == 2 * day)  // 3 answers 1: ago(1) − ago(3)
        #expect(team.medianTheirReplySeconds == nil)
        // R = 2^(−1/90) = 0.99233; W_in = 2, W_out = 1 → F = 0.5; Q = 0.75 → 37.212 → 37.2.
        #expect(team.strength == 37.2)
        #expect(Set(by.keys) == [alice, bob])
        #expect((by[alice]?.messagesIn, by[alice]?.messagesOut) == (1, 1))
        #expect((by[bob]?.messagesIn, by[bob]?.messagesOut) == (1, 0))

        // An investor's own addresses only (not other people at the domain).
        let investor = RelationshipParty.addresses(["Maya@Lumen.example", "maya@lumen.vc"])
        let inv = try #require(calc.figures(party: investor, messages: ms).team)
        #expect((inv.messagesIn, inv.messagesOut, inv.interactions, inv.threads) == (1, 1, 2, 1))
        // R = 0.99233; W = 2 → F = 0.39624; Q = 1 → 39.320 → 39.3.
        #expect(inv.strength == 39.3)
    }

    /// A party predicate never matches a teammate (a domain query for the firm's own domain).
    @Test func teammatesAreNeverAParty() {
        let inside = [msg(1, at: ago(1), from: alice, to: [bob], cc: [carol], holders: [alice, bob, carol])]
        let (team, by) = calc.figures(party: RelationshipParty.domain("firm.example"), messages: inside)
        #expect(team == nil)
        #expect(by.isEmpty)
        #expect(calc.people(messages: inside).isEmpty)
    }

    @Test func peopleAreExternalCorrespondentsOfHeldMail() throws {
        let ms = [
            msg(1, thread: 1, at: ago(3), from: maya, to: [alice], cc: [omar], holders: [alice]),
            msg(2, thread: 1, at: ago(2), from: alice, to: [maya, li], holders: [alice]),
            msg(3, thread: 2, at: ago(1), from: bob, to: [omar], bcc: [outsider], holders: [bob]),
            msg(4, thread: 3, at: ago(1), from: maya, to: ["z@elsewhere.example"], holders: []),  // no teammate holds it
        ]
        let people = calc.people(messages: ms)
        #expect(people.keys.sorted() == [li, maya, omar])
        let m = try #require(people[maya])
        #expect((m.messagesIn, m.messagesOut, m.interactions, m.threads) == (1, 1, 2, 1))
        #expect(m.lastContactBy == alice)
        let o = try #require(people[omar])
        // omar: copied on maya's 1; bob wrote to him in 3.
        #expect((o.messagesIn, o.messagesOut, o.interactions, o.threads) == (0, 1, 2, 2))
        #expect(o.lastContactBy == bob)
        #expect(people[li]?.messagesOut == 1)
    }

    /// The formula applied to a fixture: directness, the recipient discount and the 365-day window.
    @Test func strengthFromMessages() throws {
        let others = (1...9).map { "p\($0)@elsewhere.example" }
        let ms = [
            msg(1, thread: 1, at: ago(100), from: alice, to: [maya], holders: [alice]),  // out, w = 1
            msg(2, thread: 1, at: ago(99), irt: 1, from: maya, to: [alice], holders: [alice]),  // in, w = 1
            msg(3, thread: 2, at: ago(95), from: alice, to: [maya], cc: others, holders: [alice]),  // out, 10 recipients: w = 0.5
            msg(4, thread: 3, at: ago(90), from: omar, to: [alice], cc: [maya], holders: [alice]),  // copied, Cc: w = 0.5
            msg(5, thread: 4, at: ago(400), from: alice, to: [maya], holders: [alice]),  // out, outside 365 days
        ]
        let f = try #require(calc.figures(party: RelationshipParty.address(maya), messages: ms).byTeammate[alice])
        #expect((f.messagesIn, f.messagesOut, f.messagesOut365, f.interactions, f.threads) == (1, 3, 2, 5, 4))
        // d = 90 → R = 0.5; W_in = 1, W_out = 1 + 0.5 = 1.5, W_cc = 0.5 → W = 3, F = 0.5;
        // Q = 0.5 + 0.5 × 1/1.5 = 0.8333 → 100 × 0.5 × 0.5 × 0.8333 = 20.833 → 20.8, weak.
        #expect(f.strength == 20.8)
        #expect(f.grade == .weak)
        #expect(f.strength == formula(90, 1, 1.5, 0.5))

        // Mail only sent by us, never answered: bob wrote today. W_out = 1 → F = 0.25, Q = 0.1 → 2.5.
        let lone = try #require(
            calc.figures(party: RelationshipParty.address(maya), messages: [msg(9, at: now, from: bob, to: [maya], holders: [bob])]).team)
        #expect(lone.strength == 2.5)
        #expect(lone.grade == .veryWeak)
    }

    @Test func rankingIsStrongestFirst() {
        let by: [String: RelationshipFigures] = [
            alice: RelationshipFigures(lastContactAt: ago(5), strength: 40),
            bob: RelationshipFigures(lastContactAt: ago(1), strength: 72.5),
            carol: RelationshipFigures(lastContactAt: ago(2), strength: 40),
        ]
        #expect(RelationshipCalculator.ranked(by).map(\.email) == [bob, carol, alice])  // 72.5; 40 later; 40 earlier
    }
}

@Suite struct StrengthFormulaTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var days: Double, inbound: Double, outbound: Double, copied: Double
        var expected: Double
        var testDescription: String { name }
    }

    // strength = round₁(100 × R × F × Q), R = 2^(−d/90), F = min(1, log2(1 + W)/4), W = W_in + W_out + W_cc,
    // Q = 0.5 + 0.5 × min/max (two-way), 0.4 (only in), 0.25 (neither), 0.1 (only out).
    static let rows: [Row] = [
        // Recency only (W = 16 → F = min(1, log2(17)/4 = 1.022) = 1; balanced, Q = 1):
        Row(name: "today", days: 0, inbound: 8, outbound: 8, copied: 0, expected: 100.0),  // R = 1
        Row(name: "one half-life", days: 90, inbound: 8, outbound: 8, copied: 0, expected: 50.0),  // R = 0.5
        Row(name: "two half-lives", days: 180, inbound: 8, outbound: 8, copied: 0, expected: 25.0),  // R = 0.25
        Row(name: "half a half-life", days: 45, inbound: 8, outbound: 8, copied: 0, expected: 70.7),  // R = 2^−0.5 = 0.70711
        Row(name: "contact in the future", days: -3, inbound: 8, outbound: 8, copied: 0, expected: 100.0),  // d clamped to 0
        // Frequency, saturating (R = 1, Q = 1):
        Row(name: "W = 2", days: 0, inbound: 1, outbound: 1, copied: 0, expected: 39.6),  // log2(3)/4 = 0.39624
        Row(name: "W = 3", days: 0, inbound: 1.5, outbound: 1.5, copied: 0, expected: 50.0),  // log2(4)/4 = 0.5
        Row(name: "W = 7", days: 0, inbound: 3.5, outbound: 3.5, copied: 0, expected: 75.0),  // log2(8)/4 = 0.75
        Row(name: "W = 15 saturates", days: 0, inbound: 7.5, outbound: 7.5, copied: 0, expected: 100.0),  // log2(16)/4 = 1
        Row(name: "W = 100 saturated", days: 0, inbound: 50, outbound: 50, copied: 0, expected: 100.0),  // min(1, 1.66) = 1
        // Reciprocity at W = 3 (F = 0.5, R = 1):
        Row(name: "two-way balanced", days: 0, inbound: 1.5, outbound: 1.5, copied: 0, expected: 50.0),  // Q = 1
        Row(name: "two-way 1 in : 2 out", days: 0, inbound: 1, outbound: 2, copied: 0, expected: 37.5),  // Q = 0.5 + 0.25 = 0.75
        Row(name: "one-way inbound", days: 0, inbound: 3, outbound: 0, copied: 0, expected: 20.0),  // Q = 0.4
        Row(name: "only copied", days: 0, inbound: 0, outbound: 0, copied: 3, expected: 12.5),  // Q = 0.25
        Row(name: "one-way outbound, no reply", days: 0, inbound: 0, outbound: 3, copied: 0, expected: 5.0),  // Q = 0.1
        // Directness: an exchange with the party in To both ways, vs our message with them only in Cc (w = 0.5):
        Row(name: "to both ways", days: 0, inbound: 1, outbound: 1, copied: 0, expected: 39.6),  // as W = 2 above
        // W = 1.5 → F = log2(2.5)/4 = 0.33048; Q = 0.5 + 0.5 × 0.5 = 0.75 → 24.786 → 24.8
        Row(name: "our side in cc", days: 0, inbound: 1, outbound: 0.5, copied: 0, expected: 24.8),
        // Large recipient list: our message to 20 recipients, w = 1 ÷ (20/5) = 0.25; their reply w = 1.
        // W = 1.25 → F = log2(2.25)/4 = 0.29248; Q = 0.5 + 0.5 × 0.25 = 0.625 → 18.280 → 18.3
        Row(name: "our message to 20 recipients", days: 0, inbound: 1, outbound: 0.25, copied: 0, expected: 18.3),
        // Everything together: R = 0.5, W = 3 → F = 0.5, Q = 0.5 + 0.5 × 1/1.5 = 0.8333 → 20.833 → 20.8
        Row(name: "mixed at 90 days", days: 90, inbound: 1, outbound: 1.5, copied: 0.5, expected: 20.8),
        // Nothing in the last 365 days: F = log2(1)/4 = 0 → 0, however recent the last contact was.
        Row(name: "no interaction in the window", days: 400, inbound: 0, outbound: 0, copied: 0, expected: 0),
        // R = 2^(−30/90) = 0.79370; W = 4 → F = log2(5)/4 = 0.58048; Q = 1 → 46.073 → 46.1
        Row(name: "a month ago, 2 and 2", days: 30, inbound: 2, outbound: 2, copied: 0, expected: 46.1),
    ]

    @Test(arguments: rows) func table(_ row: Row) {
        let s = RelationshipCalculator.strength(
            daysSinceLastContact: row.days, weightedInbound: row.inbound, weightedOutbound: row.outbound, weightedCopied: row.copied)
        #expect(s == row.expected)
    }

    @Test func messageWeights() {
        #expect(RelationshipCalculator.messageWeight(directness: 1, recipients: 1) == 1)  // To, alone
        #expect(RelationshipCalculator.messageWeight(directness: 0.5, recipients: 2) == 0.5)  // Cc
        #expect(RelationshipCalculator.messageWeight(directness: 1, recipients: 5) == 1)  // 5/5 = 1: no discount yet
        #expect(RelationshipCalculator.messageWeight(directness: 1, recipients: 10) == 0.5)  // 1 ÷ 2
        #expect(RelationshipCalculator.messageWeight(directness: 1, recipients: 20) == 0.25)  // 1 ÷ 4
        #expect(RelationshipCalculator.messageWeight(directness: 0.5, recipients: 20) == 0.125)  // 0.5 ÷ 4
        #expect(RelationshipCalculator.messageWeight(directness: 1, recipients: 0) == 1)
    }

    @Test func components() {
        #expect(RelationshipCalculator.recency(days: 0) == 1)
        #expect(RelationshipCalculator.recency(days: 90) == 0.5)
        #expect(RelationshipCalculator.recency(days: 270) == 0.125)
        #expect(RelationshipCalculator.frequency(weightedMessages: 0) == 0)
        #expect(RelationshipCalculator.frequency(weightedMessages: 1) == 0.25)
        #expect(RelationshipCalculator.frequency(weightedMessages: 15) == 1)
        #expect(RelationshipCalculator.frequency(weightedMessages: 31) == 1)
        #expect(RelationshipCalculator.reciprocity(weightedInbound: 2, weightedOutbound: 2) == 1)
        #expect(RelationshipCalculator.reciprocity(weightedInbound: 4, weightedOutbound: 1) == 0.625)
        #expect(RelationshipCalculator.reciprocity(weightedInbound: 1, weightedOutbound: 0) == 0.4)
        #expect(RelationshipCalculator.reciprocity(weightedInbound: 0, weightedOutbound: 0) == 0.25)
        #expect(RelationshipCalculator.reciprocity(weightedInbound: 0, weightedOutbound: 1) == 0.1)
    }

    @Test(arguments: [
        (100.0, StrengthGrade.veryStrong), (80.0, .veryStrong), (79.9, .strong), (60.0, .strong), (59.9, .moderate),
        (40.0, .moderate), (39.9, .weak), (20.0, .weak), (19.9, .veryWeak), (0.0, .veryWeak),
    ])
    func gradeCutOffs(_ strength: Double, _ grade: StrengthGrade) {
        #expect(RelationshipCalculator.grade(strength) == grade)
    }

    @Test func gradeNames() {
        #expect(StrengthGrade.allCases.map(\.rawValue) == ["very strong", "strong", "moderate", "weak", "very weak"])
    }
}
