import FakeGmail
import FakeGmailBridge
import Foundation
@_spi(Testing) import GmailCapture
import CaptureParsing
import TestSupport
import Testing

func syntheticMail(_ i: Int, to: String = "alice@firm.example", replyTo: Int? = nil) -> [UInt8] {
    var s = "From: Partner \(i % 7) <p\(i % 7)@fund\(i % 5).example>\r\nTo: \(to)\r\nSubject: Note \(i)\r\n"
    s += "Date: Tue, 5 Mar 2024 17:04:00 +0000\r\nMessage-ID: <n\(i)@fund.example>\r\n"
    if let r = replyTo { s += "In-Reply-To: <n\(r)@fund.example>\r\nReferences: <n\(r)@fund.example>\r\n" }
    s += "Content-Type: text/plain; charset=UTF-8\r\n\r\nBody of note \(i).\r\n"
    return Array(s.utf8)
}

/// Kills the sync (the transport throws, as a dying process would stop) at seeded random points during
/// backfill and incremental, restarts with a fresh engine on the same SQLite file, and checks the end
/// state: exactly the mailbox's message set, no duplicates.
@Suite struct CrashSafetyTests {
    static let alice = "alice@firm.example"

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func killedAtRandomPointsEndsWithExactlyTheMailbox(seed: UInt64) async throws {
        var rng = SeededGenerator(seed: seed)
        let fake = FakeGmail(options: .init(seed: seed, quota: .off, baseURL: "http://fake.test"))
        await fake.addUser(Self.alice)
        var ids: [String] = []
        for i in 0..<150 {
            ids.append(
                try await fake.insertMessage(
                    user: Self.alice, raw: syntheticMail(i, replyTo: i > 0 && i % 4 == 0 ? i - 1 : nil),
                    labelIds: ["INBOX"], internalDate: 1_709_000_000_000 + Int64(i) * 60_000
                ).id)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("crm.db").path

        // Backfill, killed repeatedly.
        let backfillKills = try await runUntilDoneWith(&rng, fake: fake, path: path, maxBudget: 12)
        #expect(backfillKills > 0)
        // Changes, then incremental, killed repeatedly.
        for i in 150..<170 { _ = try await fake.insertMessage(user: Self.alice, raw: syntheticMail(i), labelIds: ["INBOX"]) }
        for id in ids.prefix(10) { try await fake.deleteMessage(user: Self.alice, id: id) }
        for id in ids.dropFirst(10).prefix(10) { try await fake.modifyLabels(user: Self.alice, id: id, add: ["STARRED"]) }
        let incrementalKills = try await runUntilDoneWith(&rng, fake: fake, path: path, maxBudget: 3)
        #expect(incrementalKills > 0)

        try await SyncHarness.with(fake, dbPath: path) { h in
            #expect(try await h.liveSet(Self.alice) == h.expectedSet(Self.alice))
            let c = try await h.db.counts()
            #expect(c.emails == 170 && c.sightings == 170)  // every email once, deleted ones kept as rows
            let dupes = Dictionary(grouping: try await h.db.emails(), by: \.messageId).filter { $0.value.count > 1 }
            #expect(dupes.isEmpty)
        }
    }

    /// Syncs until a run completes, each attempt killed after a random number of requests (the budget
    /// grows after each kill so the run can finish).
    func runUntilDoneWith(_ rng: inout SeededGenerator, fake: FakeGmail, path: String, maxBudget: Int) async throws -> Int {
        var kills = 0
        while kills <= 300 {
            let budget = Int.random(in: 1...maxBudget, using: &rng) + kills / 4
            let outcome: SyncOutcome = try await SyncHarness.with(fake, dbPath: path) { h in
                try await h.enrollAll()
                let killer = KillingTransport(inner: h.transport, budget: .init(budget))
                return await (try h.engine(transport: killer)).sync(mailbox: Self.alice)
            }
            if outcome.status == .ok { return kills }
            kills += 1
        }
        Issue.record("never finished")
        return kills
    }
}
