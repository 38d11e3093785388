import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

/// A 20,000-message mailbox backfills end to end (fake -> client -> parser -> SQLite file). Memory is
/// bounded by design (one 500-id page and one 100-message chunk at a time); peak RSS is measured by the
/// benchmark, not here.
@Suite struct LargeMailboxTests {
    @Test func twentyThousandMessagesBackfill() async throws {
        let user = "alice@firm.example"
        let fake = FakeGmail(options: .init(seed: 20_000, quota: .off, baseURL: "http://fake.test"))
        await fake.addUser(user)
        for i in 0..<20_000 {
            _ = try await fake.insertMessage(
                user: user, raw: syntheticMail(i, replyTo: i % 5 == 0 && i > 0 ? i - 1 : nil), labelIds: ["INBOX"],
                internalDate: 1_600_000_000_000 + Int64(i) * 1000)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("large-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await SyncHarness.with(fake, dbPath: dir.appendingPathComponent("crm.db").path) { h0 in
            var h = h0
            h.config.backfillPageSize = 500
            try await h.enrollAll()
            let outcome = await (try h.engine(unitsPerSecond: 1_000_000)).sync(mailbox: user)
            #expect(outcome.status == .ok && outcome.counts.stored == 20_000, "\(outcome)")
            #expect(try await h.db.counts().emails == 20_000)
            #expect(try await h.liveSet(user).count == 20_000)
        }
    }
}
