import FakeGmail
import FakeGmailBridge
import Foundation
@_spi(Testing) import GmailCapture
import CaptureParsing
import TestSupport
import Testing

/// The Fixtures/history scenarios, replayed against FakeGmail; each one test, key ones in-process and live.
@Suite struct SyncScenarioTests {
    static let alice = "alice@firm.example", bob = "bob@firm.example"

    static func replay(
        _ scenario: Scenario, from: Int = 0, to checkpoint: String? = nil, fake: FakeGmail,
        refs: inout [String: FakeGmail.InsertedMessage]
    ) async throws -> Int {
        var i = from
        while i < scenario.steps.count {
            if case .checkpoint(let name) = scenario.steps[i], name == checkpoint { return i + 1 }
            try await Scenario.apply(scenario.steps[i], to: fake, refs: &refs)
            i += 1
        }
        return i
    }

    @Test(arguments: Door.allCases)
    func cleanBackfillOfSeveralMailboxesAndSharedThreads(door: Door) async throws {
        let (fake, _, refs) = try await SyncHarness.fake("two-teammates")
        try await SyncHarness.with(fake, door: door) { h in
            try await h.enrollAll()
            let outcomes = try await h.engine().syncAll()
            #expect(outcomes.map(\.status) == [.ok, .ok])
            for u in [Self.alice, Self.bob] { #expect(try await h.liveSet(u) == h.expectedSet(u)) }
            let c = try await h.db.counts()
            #expect(c.emails == 4)  // c2 was seen by both: one canonical email, two sightings
            #expect(c.sightings == 5)
            #expect(c.threads == 1)  // Bob had the first half, Alice the second: one conversation
            let runs = try await h.db.syncRuns()
            #expect(runs.count == 2 && runs.allSatisfy { $0.status == .ok })
            _ = refs
        }
    }

    @Test(arguments: Door.allCases)
    func incrementalAddsDeletesLabelsAndAddThenDelete(door: Door) async throws {
        let (fake, scenario, seeded) = try await SyncHarness.fake("incremental-basic")
        let s = try #require(scenario)
        try await SyncHarness.with(fake, door: door) { h in
            try await h.enrollAll()
            let engine = try await h.engine()
            #expect(await engine.sync(mailbox: Self.alice).status == .ok)
            let afterBackfill = try await h.account(Self.alice)
            #expect(afterBackfill.backfillComplete && afterBackfill.historyCursor != nil)
            var r = seeded
            _ = try await Self.replay(s, from: 1, to: "incremental", fake: fake, refs: &r)
            let refs = r
            let before = await h.gets()
            let outcome = await engine.sync(mailbox: Self.alice)
            #expect(outcome.status == .ok, "\(outcome)")
            #expect(try await h.liveSet(Self.alice) == h.expectedSet(Self.alice))
            #expect(await h.gets() - before == 3)  // late1 (metadata + full) and late2 (metadata only: SPAM)
            #expect(outcome.counts.skipped == 1 && outcome.counts.deleted == 1)
            let m1 = try await h.db.sightings(gmailId: refs["m1"]!.id).first?.labelIds
            #expect(m1?.contains("STARRED") == true && m1?.contains("UNREAD") == false)
            let m2 = try await h.db.sightings(gmailId: refs["m2"]!.id)
            #expect(m2.first?.deletedAt != nil)  // the row stays, marked deleted
            let transient = try await h.db.sightings(gmailId: refs["transient"]!.id)
            #expect(transient.isEmpty)  // added then deleted inside one window: nothing
            let excluded = try await h.db.ledgerEntries().first { $0.gmailId == refs["late2"]!.id }?.state
            #expect(excluded == .excluded)
        }
    }

    @Test(arguments: Door.allCases)
    func historyExpiryMidLifeRecoversTheGapWithoutARedownload(door: Door) async throws {
        let (fake, scenario, seeded) = try await SyncHarness.fake("history-expiry")
        try await SyncHarness.with(fake, door: door) { h in
            try await h.enrollAll()
            let engine = try await h.engine()
            #expect(await engine.sync(mailbox: Self.alice).status == .ok)
            var r = seeded
            _ = try await Self.replay(scenario!, from: 1, to: "after-expiry", fake: fake, refs: &r)
            let before = await h.gets()
            let outcome = await engine.sync(mailbox: Self.alice)
            #expect(outcome.status == .ok && outcome.state == .idle, "\(outcome)")
            #expect(try await h.liveSet(Self.alice) == h.expectedSet(Self.alice))  // gap mail present, m1 gone
            #expect(await h.gets() - before == 6)  // only the 3 gap messages (metadata + full), not the mailbox
            let rec = try await h.db.recoveries().first
            #expect(rec?.reason.contains("expired") == true && rec?.deleted == 1)
            let acct = try await h.account(Self.alice)
            let current = await fake.currentHistoryId(user: Self.alice)
            #expect(acct.syncState == .idle && acct.historyCursor == current)
            // And incremental works again from the pinned cursor.
            _ = try await fake.insertMessage(
                user: Self.alice,
                raw: Array(
                    "From: x@lumenridge.example\r\nTo: alice@firm.example\r\nSubject: after\r\nMessage-ID: <after@x>\r\n\r\nhi\r\n".utf8))
            #expect(await engine.sync(mailbox: Self.alice).counts.stored == 1)
        }
    }

    @Test func repeatedExpiryHitsTheLoopBreaker() async throws {
        let (fake, _, _) = try await SyncHarness.fake("history-expiry")
        try await SyncHarness.with(fake) { h0 in
            var h = h0
            h.maxRecoveries = 2
            try await h.enrollAll()
            let engine = try await h.engine()
            _ = await engine.sync(mailbox: Self.alice)
            var states: [SyncState?] = []
            for round in 0..<3 {
                // New mail moves the mailbox past the cursor; then history expires under it.
                _ = try await fake.insertMessage(
                    user: Self.alice,
                    raw: Array(
                        "From: x@lumenridge.example\r\nTo: alice@firm.example\r\nSubject: r\(round)\r\nMessage-ID: <r\(round)@x>\r\n\r\nhi\r\n"
                            .utf8))
                try await fake.expireHistory(user: Self.alice)
                await h.clock.advance(by: .seconds(600))
                states.append(await engine.sync(mailbox: Self.alice).state)
            }
            #expect(states == [.idle, .idle, .needsAttention])
            let acct = try await h.account(Self.alice)
            #expect(acct.syncState == .needsAttention && acct.stateReason?.contains("3 times within 24 h") == true)
            #expect(await engine.sync(mailbox: Self.alice).status == .skipped)  // no loop
        }
    }

    @Test(arguments: Door.allCases)
    func batchFaultsLoseNothing(door: Door) async throws {
        let (fake, scenario, seeded) = try await SyncHarness.fake("batch-faults")
        var refs = seeded
        _ = try await Self.replay(scenario!, to: "backfill", fake: fake, refs: &refs)
        _ = refs
        try await SyncHarness.with(fake, door: door) { h in
            try await h.enrollAll()
            let outcome = await (try h.engine()).sync(mailbox: Self.alice)
            #expect(outcome.status == .ok, "\(outcome)")
            #expect(try await h.liveSet(Self.alice) == h.expectedSet(Self.alice))
            let journal = await fake.journal()
            #expect(journal.contains { $0.status == 503 } && journal.contains { $0.status == 429 })
        }
    }

    @Test func aFailingItemHoldsTheCursorUntilItIsStoredOrParked() async throws {
        let (fake, _, _) = try await SyncHarness.fake("incremental-basic")
        try await SyncHarness.with(fake) { h in
            try await h.enrollAll()
            let engine = try await h.engine()
            _ = await engine.sync(mailbox: Self.alice)
            let cursor0 = try await h.account(Self.alice).historyCursor
            let m = try await fake.insertMessage(
                user: Self.alice,
                raw: Array(
                    "From: a@lumenridge.example\r\nTo: alice@firm.example\r\nSubject: stuck\r\nMessage-ID: <stuck@x>\r\n\r\nx\r\n".utf8))
            try await fake.addFault(FaultRule(pathRegex: "messages/\(m.id)$", status: 503, count: 6))  // beyond the client's retries once
            let first = await engine.sync(mailbox: Self.alice)
            #expect(first.status == .partial && first.counts.failed == 1)
            #expect(try await h.account(Self.alice).historyCursor == cursor0)  // held: the window is not done
            let second = await engine.sync(mailbox: Self.alice)
            #expect(second.status == .ok && second.counts.stored == 1)
            let current = await fake.currentHistoryId(user: Self.alice)
            #expect(try await h.account(Self.alice).historyCursor == current)
        }
    }

    @Test func aMessageThatAlways404sIsGoneAndTheCursorMovesOn() async throws {
        let (fake, _, _) = try await SyncHarness.fake("incremental-basic")
        try await SyncHarness.with(fake) { h in
            try await h.enrollAll()
            let engine = try await h.engine()
            _ = await engine.sync(mailbox: Self.alice)
            let m = try await fake.insertMessage(
                user: Self.alice,
                raw: Array(
                    "From: a@lumenridge.example\r\nTo: alice@firm.example\r\nSubject: ghost\r\nMessage-ID: <ghost@x>\r\n\r\nx\r\n".utf8))
            try await fake.addFault(FaultRule(pathRegex: "messages/\(m.id)$", status: 404))
            let outcome = await engine.sync(mailbox: Self.alice)
            #expect(outcome.status == .ok && outcome.counts.gone == 1)
            let current = await fake.currentHistoryId(user: Self.alice)
            #expect(try await h.account(Self.alice).historyCursor == current)
            let journal = await fake.journal()
            #expect(journal.filter { $0.path.hasSuffix(m.id) }.count == 1)  // one 404 (at the metadata fetch): terminal, no retry loop
        }
    }

    @Test func aRevokedTokenStopsThatMailboxOnly() async throws {
        let (fake, _, _) = try await SyncHarness.fake("two-teammates")
        try await SyncHarness.with(fake) { h in
            try await h.enrollAll()
            await fake.revokeUser(Self.bob)
            let outcomes = try await h.engine().syncAll()
            let byMailbox = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.mailbox, $0) })
            #expect(byMailbox[Self.alice]?.status == .ok)
            #expect(byMailbox[Self.bob]?.state == .needsAdmin)
            let bob = try await h.account(Self.bob)
            #expect(bob.syncState == .needsAdmin && bob.stateReason?.contains("invalid_grant") == true)
            #expect(try await h.liveSet(Self.alice) == h.expectedSet(Self.alice))
        }
    }
}

@Suite struct PolicyAndStalenessTests {
    static let alice = "alice@firm.example"

    @Test func blocklistedMailIsExcludedBeforeBodiesAreFetched() async throws {
        let (fake, _, _) = try await SyncHarness.fake("incremental-basic")
        _ = try await fake.insertMessage(
            user: Self.alice,
            raw: Array(
                "From: hr@payroll.example\r\nTo: alice@firm.example\r\nSubject: Payslip\r\nMessage-ID: <pay@x>\r\n\r\nprivate\r\n".utf8))
        try await SyncHarness.with(fake) { h0 in
            var h = h0
            h.config.blocklist = ["payroll.example"]  // CRM_GMAIL_BLOCKLIST
            try await h.enrollAll()
            let outcome = await (try h.engine()).sync(mailbox: Self.alice)
            #expect(outcome.status == .ok && outcome.counts.skipped == 1 && outcome.counts.stored == 5)
            let fullFetches = await fake.journal().filter { $0.method == "gmail.users.messages.get" && $0.status == 200 }.count
            #expect(fullFetches == 6 + 5)  // 6 metadata fetches, 5 full ones: the payslip's body never left Gmail
            let bodies = try await h.db.emails().filter { $0.subject == "Payslip" }
            #expect(bodies.isEmpty)
        }
    }

    @Test func aStaleCursorIsRecoveredBeforeUse() async throws {
        let (fake, _, _) = try await SyncHarness.fake("incremental-basic")
        try await SyncHarness.with(fake) { h in
            try await h.enrollAll()
            let engine = try await h.engine()
            _ = await engine.sync(mailbox: Self.alice)
            await h.clock.advance(by: .seconds(6 * 86_400))  // CRM_GMAIL_HISTORY_STALE_DAYS = 5
            _ = try await fake.insertMessage(
                user: Self.alice,
                raw: Array(
                    "From: a@lumenridge.example\r\nTo: alice@firm.example\r\nSubject: later\r\nMessage-ID: <later@x>\r\n\r\nx\r\n".utf8))
            let outcome = await engine.sync(mailbox: Self.alice)
            #expect(outcome.status == .ok && outcome.counts.stored == 1)
            let reason = try await h.db.recoveries().first?.reason
            #expect(reason?.contains("older than 5 days") == true)
        }
    }
}
