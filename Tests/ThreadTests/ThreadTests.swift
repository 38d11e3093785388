import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

@Suite struct IdentityTests {
    @Test func messageIDsNormalise() {
        #expect(MessageIdentity.normalizedMessageID(" <AbC@Mail.Example> ") == "AbC@mail.example")
        #expect(MessageIdentity.normalizedMessageID("no-at-sign") == nil)
        #expect(MessageIdentity.normalizedMessageID("a b@c.d") == nil)
        #expect(MessageIdentity.normalizedMessageID(nil) == nil)
    }

    @Test func missingMessageIDFallsBackToAContentHash() {
        var a = ParsedMessage()
        a.subject = "Deck"
        a.from = .init(name: nil, address: "Maya@Lumen.example")
        a.to = [.init(name: nil, address: "alex@firm.example"), .init(name: nil, address: "sam@firm.example")]
        a.date = Date(timeIntervalSince1970: 1_700_000_000)
        var b = a
        b.to.reverse()
        b.from = .init(name: "Maya", address: "maya@lumen.example")
        #expect(MessageIdentity.canonicalKey(a).hasPrefix("hash:"))
        #expect(MessageIdentity.canonicalKey(a) == MessageIdentity.canonicalKey(b))  // same email seen by two teammates
        var c = a
        c.subject = "Deck v2"
        #expect(MessageIdentity.canonicalKey(a) != MessageIdentity.canonicalKey(c))
        var d = a
        d.messageId = "<x@lumen.example>"
        #expect(MessageIdentity.canonicalKey(d) == "mid:x@lumen.example")
    }
}

@Suite struct ThreadResolutionTests {
    static func input(
        _ key: String, mailbox: String, thread: String?, id: String?, replyTo: String? = nil, refs: [String] = []
    ) -> ThreadInput {
        ThreadInput(canonicalKey: key, mailbox: mailbox, gmailThreadId: thread, messageId: id, inReplyTo: replyTo, references: refs)
    }

    @Test func chainsAndForksAreOneThread() {
        var r = ThreadResolver()
        r.add(Self.input("a", mailbox: "alex", thread: "t1", id: "a@x"))
        r.add(Self.input("b", mailbox: "alex", thread: "t2", id: "b@x", replyTo: "a@x", refs: ["a@x"]))
        r.add(Self.input("c", mailbox: "alex", thread: "t3", id: "c@x", replyTo: "a@x", refs: ["a@x"]))  // fork
        r.add(Self.input("d", mailbox: "alex", thread: "t9", id: "d@x"))
        #expect(r.threads() == [["a", "b", "c"], ["d"]])
    }

    @Test func gmailThreadIdGroupsWithinAMailboxOnly() {
        var r = ThreadResolver()
        r.add(Self.input("a", mailbox: "alex", thread: "t1", id: "a@x"))
        r.add(Self.input("b", mailbox: "alex", thread: "t1", id: "b@x"))  // Gmail grouped by subject
        r.add(Self.input("c", mailbox: "sam", thread: "t1", id: "c@x"))  // same thread id string, other mailbox
        #expect(r.threads() == [["a", "b"], ["c"]])
    }

    @Test func missingAndDuplicatedMessageIDs() {
        var r = ThreadResolver()
        r.add(Self.input("hash:1", mailbox: "alex", thread: "t1", id: nil))
        r.add(Self.input("hash:2", mailbox: "alex", thread: "t1", id: nil))
        r.add(Self.input("mid:dup@x", mailbox: "alex", thread: "t7", id: "dup@x"))
        r.add(Self.input("mid:dup@x", mailbox: "sam", thread: "t8", id: "dup@x"))  // the same email, two mailboxes
        #expect(r.threads() == [["hash:1", "hash:2"], ["mid:dup@x"]])
    }

    @Test func fiveHundredReferencesAreCapped() {
        let refs = (0..<500).map { "r\($0)@x" }
        let i = Self.input("m", mailbox: "alex", thread: "t", id: "m@x", replyTo: "r499@x", refs: refs)
        let keys = i.keys()
        #expect(keys.filter { $0.hasPrefix("rfc:r") }.count <= ThreadResolver.referenceCap + 1)
        #expect(keys.contains("rfc:r0@x") && keys.contains("rfc:r499@x"))
        var r = ThreadResolver()
        r.add(i)
        r.add(Self.input("root", mailbox: "sam", thread: "z", id: "r0@x"))
        r.add(Self.input("tail", mailbox: "sam", thread: "y", id: "r499@x"))
        #expect(r.threads() == [["m", "root", "tail"]])
    }

    /// Partner B saw the first half of a conversation, partner A the second half, C only the middle;
    /// whatever order the mailboxes sync in, it is one thread.
    @Test func threeMailboxesOneConversationInEveryOrder() {
        let conversation: [(key: String, id: String, parent: String?)] = (1...6).map { i in
            ("m\(i)", "m\(i)@lumen.example", i > 1 ? "m\(i - 1)@lumen.example" : nil)
        }
        func sightings(_ mailbox: String, _ range: ClosedRange<Int>) -> [ThreadInput] {
            range.map { i in
                let m = conversation[i - 1]
                let refs = (1..<i).map { "m\($0)@lumen.example" }
                return Self.input(m.key, mailbox: mailbox, thread: "\(mailbox)-t", id: m.id, replyTo: m.parent, refs: refs)
            }
        }
        let mailboxes = [sightings("bob", 1...3), sightings("alice", 4...6), sightings("carol", 3...4)]
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var partitions: Set<[[String]]> = []
        for order in orders {
            var r = ThreadResolver()
            for mb in order { mailboxes[mb].forEach { r.add($0) } }
            partitions.insert(r.threads())
        }
        #expect(partitions == [[["m1", "m2", "m3", "m4", "m5", "m6"]]])
    }

    /// The union-find reference model (test-only) agrees with itself whatever the order: kept as the
    /// oracle the SQL resolver is checked against in `SQLThreadResolutionTests`.
    @Test(arguments: 1...20)
    func referenceModelPartitionDoesNotDependOnOrder(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var inputs: [ThreadInput] = []
        for i in 0..<40 {
            let parent = i > 0 && Bool.random(using: &rng) ? Int.random(in: 0..<i, using: &rng) : nil
            let mailbox = ["alex", "sam", "kim"][Int.random(in: 0..<3, using: &rng)]
            let thread = "t\(Int.random(in: 0..<8, using: &rng))"
            inputs.append(
                Self.input(
                    "k\(i)", mailbox: mailbox, thread: thread, id: "k\(i)@x", replyTo: parent.map { "k\($0)@x" },
                    refs: parent.map { ["k\($0)@x"] } ?? []))
        }
        var baseline = ThreadResolver()
        inputs.forEach { baseline.add($0) }
        let expected = baseline.threads()
        for _ in 0..<5 {
            var r = ThreadResolver()
            inputs.shuffled(using: &rng).forEach { r.add($0) }
            #expect(r.threads() == expected)
        }
    }
}

/// The resolver production uses: `CaptureDatabase.store` joins each message to its thread in SQL
/// (`joinThread`). Random conversations seen by several mailboxes, stored in random orders (one message
/// per transaction, and in the backfill's batches), must always end in the same partition, and that
/// partition must be the connected components of the conversation graph, computed here independently.
@Suite struct SQLThreadResolutionTests {
    static let mailboxes = ["alex@firm.example", "sam@firm.example", "kim@firm.example"]

    /// One mailbox's copy of an email.
    struct Sighting {
        var email: Int
        var mailbox: Int
        var gmailThread: String
        var gmailId: String
    }

    /// A random world: `emails` emails, each replying to an earlier one or not, each seen by one to three
    /// mailboxes, each copy in its conversation's Gmail thread or (one in five) a stray one. Some emails have no Message-ID
    /// (identity by content hash); replies to them carry no reference.
    struct World {
        var messages: [ParsedMessage] = []
        var sightings: [Sighting] = []
        /// Canonical keys of the threads, computed from the graph (not from production code's keys).
        var expected: [[String]] = []
        var keys: [String] = []

        init(seed: UInt64, emails: Int = 40, strayThreads: Int = 12) {
            var rng = SeededGenerator(seed: seed)
            var parent: [Int?] = []
            var hasId: [Bool] = []
            for i in 0..<emails {
                hasId.append(Int.random(in: 0..<10, using: &rng) != 0)
                var p = i > 0 && Bool.random(using: &rng) ? Int.random(in: 0..<i, using: &rng) : nil
                if let q = p, !hasId[q] { p = nil }
                parent.append(p)
                var m = ParsedMessage()
                if hasId[i] { m.messageId = "k\(i)@lumen.example" }
                if let q = p {
                    m.inReplyTo = "k\(q)@lumen.example"
                    // The chain of ancestors with ids, oldest first, as References.
                    var chain: [String] = []
                    var a: Int? = q
                    while let x = a, hasId[x] { chain.insert("k\(x)@lumen.example", at: 0); a = parent[x] }
                    m.references = chain
                }
                m.subject = "Note \(i)"
                m.from = .init(name: nil, address: "p\(i % 4)@lumen.example")
                m.to = [.init(name: nil, address: Self.mailboxesAddress(i % 3))]
                m.date = Date(timeIntervalSince1970: 1_709_658_000 + Double(i) * 60)
                m.textBody = "Body of note \(i)."
                messages.append(m)
            }
            keys = messages.map(MessageIdentity.canonicalKey)
            // Sightings: a random non-empty set of mailboxes per email. Gmail usually files a copy in its
            // conversation's thread, sometimes in an unrelated one (Gmail groups by subject too).
            func top(_ i: Int) -> Int { var x = i; while let q = parent[x] { x = q }; return x }
            var n = 0
            for i in 0..<emails {
                var seen = (0..<3).filter { _ in Bool.random(using: &rng) }
                if seen.isEmpty { seen = [Int.random(in: 0..<3, using: &rng)] }
                for mb in seen {
                    n += 1
                    let thread =
                        Int.random(in: 0..<5, using: &rng) == 0 ? "x\(Int.random(in: 0..<strayThreads, using: &rng))" : "c\(top(i))"
                    sightings.append(Sighting(email: i, mailbox: mb, gmailThread: thread, gmailId: String(format: "g%04d", n)))
                }
            }
            // Expected partition: components of (reply -> parent) edges and (same mailbox, same Gmail thread) edges.
            var root = Array(0..<emails)
            func find(_ x: Int) -> Int { var x = x; while root[x] != x { x = root[x] }; return x }
            func join(_ a: Int, _ b: Int) { let ra = find(a), rb = find(b); if ra != rb { root[max(ra, rb)] = min(ra, rb) } }
            for i in 0..<emails { if let q = parent[i] { join(i, q) } }
            var firstInThread: [String: Int] = [:]
            for s in sightings {
                let k = "\(s.mailbox)/\(s.gmailThread)"
                if let other = firstInThread[k] { join(s.email, other) } else { firstInThread[k] = s.email }
            }
            let groups = Dictionary(grouping: 0..<emails, by: find).values
            expected = groups.map { $0.map { keys[$0] }.sorted() }.sorted { $0[0] < $1[0] }
        }

        static func mailboxesAddress(_ i: Int) -> String { SQLThreadResolutionTests.mailboxes[i] }

        func message(for s: Sighting) -> ParsedMessage {
            var m = messages[s.email]
            m.gmailId = s.gmailId
            m.threadId = s.gmailThread
            m.labelIds = ["INBOX"]
            return m
        }
    }

    /// Stores `order` into a fresh in-memory database, one transaction per message or (batched) in the
    /// backfill's per-mailbox chunks of consecutive sightings; returns the partition storage holds.
    static func store(_ world: World, _ order: [Sighting], batched: Bool) async throws -> [[String]] {
        let db = try CaptureDatabase(inMemory: nil)
        var accounts: [CaptureDatabase.Account] = []
        for m in mailboxes { accounts.append(try await db.upsertAccount(email: m, userId: nil)) }
        if batched {
            var i = 0
            while i < order.count {
                var j = i
                while j < order.count, order[j].mailbox == order[i].mailbox, j - i < 7 { j += 1 }
                let chunk = order[i..<j].map { (message: world.message(for: $0), links: [InvestorLink]()) }
                let stored = try await db.store(batch: chunk, account: accounts[order[i].mailbox])
                #expect(stored.count == chunk.count)
                i = j
            }
        } else {
            for s in order { _ = try await db.store(world.message(for: s), account: accounts[s.mailbox], links: []) }
        }
        let counts = try await db.counts()
        #expect(counts.emails == world.messages.count && counts.sightings == order.count)
        return try await db.threadPartition()
    }

    @Test(arguments: 1...12)
    func partitionDoesNotDependOnArrivalOrder(seed: UInt64) async throws {
        let world = World(seed: seed)
        #expect(world.expected.count > 1 && world.expected.count < world.messages.count, "a degenerate world: \(world.expected)")
        // The reference model agrees with the graph.
        var reference = ThreadResolver()
        for s in world.sightings { reference.add(ThreadInput(world.message(for: s), mailbox: Self.mailboxes[s.mailbox])) }
        #expect(reference.threads() == world.expected)
        // Storage, in the order generated and in shuffled orders, message by message and batched.
        var rng = SeededGenerator(seed: seed &* 7_919)
        let inOrder = try await Self.store(world, world.sightings, batched: false)
        #expect(inOrder == world.expected)
        for round in 0..<4 {
            let order = world.sightings.shuffled(using: &rng)
            let partition = try await Self.store(world, order, batched: round % 2 == 1)
            #expect(partition == world.expected, "seed \(seed), round \(round)")
        }
        // Newest first (the backfill's order): replies arrive before what they reply to.
        #expect(try await Self.store(world, world.sightings.reversed(), batched: true) == world.expected)
    }
}
