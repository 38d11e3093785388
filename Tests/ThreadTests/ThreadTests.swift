import Foundation
import GmailCapture
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
    static func input(_ key: String, mailbox: String, thread: String?, id: String?, replyTo: String? = nil, refs: [String] = []) -> ThreadInput {
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
        r.add(Self.input("c", mailbox: "sam", thread: "t1", id: "c@x"))   // same thread id string, other mailbox
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
        let conversation: [(key: String, id: String, parent: String?)] = (1...6).map { i in ("m\(i)", "m\(i)@lumen.example", i > 1 ? "m\(i - 1)@lumen.example" : nil) }
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

    /// Property: for random conversations and random arrival orders, the partition is the same.
    @Test(arguments: 1...20)
    func partitionDoesNotDependOnOrder(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var inputs: [ThreadInput] = []
        for i in 0..<40 {
            let parent = i > 0 && Bool.random(using: &rng) ? Int.random(in: 0..<i, using: &rng) : nil
            let mailbox = ["alex", "sam", "kim"][Int.random(in: 0..<3, using: &rng)]
            let thread = "t\(Int.random(in: 0..<8, using: &rng))"
            inputs.append(Self.input("k\(i)", mailbox: mailbox, thread: thread, id: "k\(i)@x", replyTo: parent.map { "k\($0)@x" },
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
