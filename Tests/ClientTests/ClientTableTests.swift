import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Synchronization
import Testing

/// Seconds in a duration (tests' own conversion, so the expectation does not lean on the library's).
private func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

// MARK: - The token bucket

/// Quota waits, computed by hand. Buckets start full with one second of budget; a call takes its units
/// at once (the balance may go negative) and waits until the balance is back to zero; the wait is the
/// larger of the mailbox's and the project's; waits move the virtual clock, so later calls see the
/// refill that happened while an earlier one waited.
struct BucketCase: Sendable, CustomTestStringConvertible {
    struct Call: Sendable {
        var mailbox: String
        var units: Int
        /// Idle time before the call.
        var after: Double = 0
        /// The wait this call must make, in seconds.
        var wait: Double
    }
    var name: String
    var perMailbox: Int
    var perProject: Int
    var calls: [Call]
    var testDescription: String { name }

    static func a(_ units: Int, after: Double = 0, wait: Double) -> Call {
        Call(mailbox: "a@firm.example", units: units, after: after, wait: wait)
    }
    static func b(_ units: Int, after: Double = 0, wait: Double) -> Call {
        Call(mailbox: "b@firm.example", units: units, after: after, wait: wait)
    }

    static let all: [BucketCase] = [
        // 10/s: 5 + 5 empty the burst; the third call is 5 short = 0.5 s; during that 0.5 s 5 units came
        // back and went to the third call, so the fourth is 5 short again.
        BucketCase(
            name: "a burst, then the rate", perMailbox: 10, perProject: 1_000,
            calls: [a(5, wait: 0), a(5, wait: 0), a(5, wait: 0.5), a(5, wait: 0.5)]),
        // 5 idle seconds refill to the 10-unit capacity, not to 50: 30 units are 20 short = 2 s; the next
        // 10 find the balance at -20 + 2 s x 10 = 0, so wait 1 s.
        BucketCase(
            name: "idle time refills one second of budget at most", perMailbox: 10, perProject: 1_000,
            calls: [a(10, wait: 0), a(30, after: 5, wait: 2), a(10, wait: 1)]),
        // Per-mailbox 10/s, project 20/s: a and b each spend their own burst, which is the project's
        // burst; a's second 10 is 10 short in its bucket (1 s) and in the project's (0.5 s): 1 s. By then
        // b's bucket is full again and the project has refilled to 10: b waits nothing.
        BucketCase(
            name: "mailboxes have their own buckets and share the project's", perMailbox: 10, perProject: 20,
            calls: [a(10, wait: 0), b(10, wait: 0), a(10, wait: 1), b(10, wait: 0)]),
        // Project 10/s binds before the mailboxes' 100/s: b's 10 are 10 short in the project (1 s); a's 5
        // after that find the project at 0: 0.5 s.
        BucketCase(
            name: "the project budget binds when it is the smaller", perMailbox: 100, perProject: 10,
            calls: [a(10, wait: 0), b(10, wait: 1), a(5, wait: 0.5)]),
        // Zero units are free and take nothing from the bucket.
        BucketCase(
            name: "zero units never wait", perMailbox: 10, perProject: 1_000,
            calls: [a(10, wait: 0), a(0, wait: 0), a(5, wait: 0.5)]),
        // A fractional wait is rounded up to the millisecond: 1 unit short at 3/s is 0.333… s -> 0.334 s.
        BucketCase(
            name: "waits are rounded up to the millisecond", perMailbox: 3, perProject: 1_000,
            calls: [a(3, wait: 0), a(1, wait: 0.334)]),
    ]
}

@Suite struct RateLimiterTableTests {
    @Test(arguments: BucketCase.all)
    func acquireWaitsWhatTheBucketsImply(_ c: BucketCase) async throws {
        let clock = VirtualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
        let limiter = RateLimiter(unitsPerSecondPerMailbox: c.perMailbox, unitsPerSecondPerProject: c.perProject, clock: clock)
        var waits: [Double] = []
        for call in c.calls {
            if call.after > 0 { await clock.advance(by: .milliseconds(Int64(call.after * 1000))) }
            let before = clock.totalSlept
            try await limiter.acquire(units: call.units, mailbox: call.mailbox)
            waits.append(seconds(clock.totalSlept - before))
        }
        #expect(zip(waits, c.calls.map(\.wait)).allSatisfy { abs($0 - $1) < 1e-9 }, "waits \(waits), expected \(c.calls.map(\.wait))")
        for mailbox in Set(c.calls.map(\.mailbox)) {
            #expect(await limiter.unitsSpent(mailbox) == c.calls.filter { $0.mailbox == mailbox }.map(\.units).reduce(0, +))
        }
    }

    /// On the manual clock a call that owes 0.5 s is released exactly when 0.5 s have passed, not before.
    @Test func aWaitingCallIsReleasedExactlyAtItsDeadline() async throws {
        let clock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
        let limiter = RateLimiter(unitsPerSecondPerMailbox: 8, unitsPerSecondPerProject: 1_000, clock: clock)
        try await limiter.acquire(units: 8, mailbox: "a@firm.example")  // the whole burst, no wait
        #expect(clock.sleepers == 0)
        let done = Mutex(false)
        let waiter = Task {
            try await limiter.acquire(units: 4, mailbox: "a@firm.example")  // 4 short at 8/s: 0.5 s
            done.withLock { $0 = true }
        }
        for _ in 0..<500 where clock.sleepers == 0 { try await Task.sleep(for: .milliseconds(10)) }  // bounded: the task starts
        try #require(clock.sleepers == 1, "the call never started waiting")
        clock.advance(by: .milliseconds(250))
        #expect(clock.sleepers == 1 && !done.withLock { $0 })  // 0.25 s: still waiting
        clock.advance(by: .milliseconds(250))
        try await waiter.value
        #expect(clock.sleepers == 0 && done.withLock { $0 })
    }

    /// The bucket as a value, with time passed in.
    struct ReserveCase: Sendable, CustomTestStringConvertible {
        var name: String
        var rate: Double
        /// (units, at seconds after the start)
        var calls: [(units: Double, at: Double)]
        var waits: [Double]
        var testDescription: String { name }
    }

    @Test(arguments: [
        // 10 of burst: 4 + 4 fit, the third 4 is 2 short = 0.2 s.
        ReserveCase(name: "burst", rate: 10, calls: [(4, 0), (4, 0), (4, 0)], waits: [0, 0, 0.2]),
        // At 0.5 s 5 came back (balance 5): 10 is 5 short = 0.5 s; the next 10 at the same reading: 15 short = 1.5 s.
        ReserveCase(name: "refill", rate: 10, calls: [(10, 0), (10, 0.5), (10, 0.5)], waits: [0, 0.5, 1.5]),
        // 25 at once is 15 short = 1.5 s; 10 s later the bucket is full again (capped at 10).
        ReserveCase(name: "debt then full", rate: 10, calls: [(25, 0), (1, 10)], waits: [1.5, 0]),
        // A reading earlier than the last one refills nothing and takes time back from nobody.
        ReserveCase(name: "time never runs backwards", rate: 10, calls: [(5, 3), (5, 1), (1, 1)], waits: [0, 0, 0.1]),
    ])
    func reserveAnswersTheWait(_ c: ReserveCase) {
        let t0 = Date(timeIntervalSince1970: 1_709_658_000)
        var bucket = TokenBucket(ratePerSecond: c.rate, now: t0)
        let got = c.calls.map { bucket.reserve($0.units, now: t0.addingTimeInterval($0.at)) }
        #expect(zip(got, c.waits).allSatisfy { abs($0 - $1) < 1e-9 }, "\(got) vs \(c.waits)")
    }
}

// MARK: - Batch sizing

/// Batch sizes after batches against the fake with scripted part failures, computed by hand from the
/// rule: refused (429, or 403 rate-limit) parts set the ceiling to at most `sent - refused` and at least
/// halve the size (never above the ceiling); a clean batch grows the size by a quarter (at least 1) up to
/// the ceiling; 20 clean batches in a row at the ceiling probe it 5 higher (up to the limit); a batch
/// with failures that are not refusals changes nothing.
struct BatchCase: Sendable, CustomTestStringConvertible {
    var name: String
    var limit: Int
    var messages: Int
    var faults: [FaultRule]
    /// The sizes of the batch requests the fake received.
    var sizes: [Int]
    var batchSize: Int
    var batchCeiling: Int
    var testDescription: String { name }

    static func refuse(part: Int, times: Int = 1) -> FaultRule {
        FaultRule(method: "messages.get", batchPart: part, status: 429, count: times)
    }

    static let all: [BatchCase] = [
        // 50 sent, 1 refused: ceiling 49, size 25. Clean: 25 + 6 = 31, 31 + 7 = 38, 38 + 9 = 47 (the last
        // batch holds only the 15 left).
        BatchCase(
            name: "one refusal halves and sets the ceiling one below", limit: 50, messages: 120, faults: [refuse(part: 0)],
            sizes: [50, 25, 31, 15], batchSize: 47, batchCeiling: 49),
        // 40 sent (all there is, short of the size 50), 10 refused: a short batch says nothing about the
        // ceiling (stays 50); the size is halved to 25; the clean batch of the 10 retried parts grows it to 25 + 6 = 31.
        BatchCase(
            name: "refusals in a short last batch halve the size but keep the ceiling", limit: 50, messages: 40,
            faults: (0..<10).map { refuse(part: $0) }, sizes: [40, 10], batchSize: 31, batchCeiling: 50),
        // 30 sent at the full size 30, 10 refused: ceiling 30 - 10 = 20, size 15; the clean batch of 10 grows it to 15 + 3 = 18.
        BatchCase(
            name: "ten refusals in a full batch set the ceiling to what was accepted", limit: 30, messages: 30,
            faults: (0..<10).map { refuse(part: $0) }, sizes: [30, 10], batchSize: 18, batchCeiling: 20),
        // 403 userRateLimitExceeded is a refusal too: ceiling 19, size 10; clean: 10 + 2 = 12.
        BatchCase(
            name: "a 403 rate limit counts as a refusal", limit: 20, messages: 20,
            faults: [FaultRule(method: "messages.get", batchPart: 3, status: 403, reason: "userRateLimitExceeded", count: 1)],
            sizes: [20, 1], batchSize: 12, batchCeiling: 19),
        // A 503 part is retried but is no refusal: nothing moves (and the clean batch after it is at the ceiling).
        BatchCase(
            name: "a server error neither shrinks nor grows", limit: 10, messages: 10,
            faults: [FaultRule(method: "messages.get", batchPart: 2, status: 503, count: 1)],
            sizes: [10, 1], batchSize: 10, batchCeiling: 10),
        // 10 sent, 1 refused: ceiling 9, size 5. The retried part is refused again in the batch of 5:
        // ceiling min(9, 4) = 4, size 2. Clean: 3, 4; the last 2 leave it at the ceiling.
        BatchCase(
            name: "a refusal at the smaller size lowers the ceiling again", limit: 10, messages: 20, faults: [refuse(part: 0, times: 2)],
            sizes: [10, 5, 2, 3, 2], batchSize: 4, batchCeiling: 4),
        // 10 sent, 2 refused: ceiling 8, size 5. Clean: 6, 7, 8 (3 clean batches), then 17 more at 8 make
        // 20 in a row: probe to min(10, 8 + 5) = 10; the next batch is 10.
        BatchCase(
            name: "twenty clean batches at the ceiling probe five higher", limit: 10, messages: 172,
            faults: [refuse(part: 0), refuse(part: 1)],
            sizes: [10, 5, 6, 7] + Array(repeating: 8, count: 17) + [10], batchSize: 10, batchCeiling: 10),
    ]
}

@Suite struct BatchSizingTableTests {
    @Test(arguments: BatchCase.all)
    func batchSizeFollowsRefusals(_ c: BatchCase) async throws {
        let h = try await Harness.make(messages: c.messages, batchLimit: c.limit)
        for f in c.faults { try await h.fake.addFault(f) }
        #expect(await h.client.batchSize == c.limit)
        #expect(await h.client.batchCeiling == c.limit)
        let results = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(results.compactMap { try? $0.get().id } == h.ids)  // nothing lost
        #expect(ClientBatchTests.batchSizes(await h.fake.journal()) == c.sizes)
        #expect(await h.client.batchSize == c.batchSize)
        #expect(await h.client.batchCeiling == c.batchCeiling)
    }
}

@Suite struct BatchSizerTests {
    /// Gmail's concurrency limit is per user: one mailbox's refusals never shrink another's batches.
    @Test func sizingIsPerMailbox() async throws {
        let h = try await Harness.make(messages: 40, batchLimit: 20)
        try await h.fake.addFault(FaultRule(method: "messages.get", batchPart: 0, status: 429, count: 1))
        _ = try await h.client.batchGetMessages(mailbox: Harness.user, ids: h.ids, format: .minimal)
        #expect(await h.client.batchCeiling(for: Harness.user) == 19)
        #expect(await h.client.batchSize(for: "someone-else@firm.example") == 20)
        #expect(await h.client.batchCeiling(for: "someone-else@firm.example") == 20)
    }

    @Test(
        arguments: [
            // (sent, refused, clean) steps from a fresh sizer of limit 10 -> (size, ceiling) after the last step
            ([(10, 2, false)], 5, 8),
            ([(4, 2, false)], 5, 10),  // short batch: the ceiling stays
            ([(10, 2, false), (5, 0, true), (6, 0, true)], 7, 8),
            ([(10, 9, false), (1, 1, false)], 1, 1),
        ] as [([(Int, Int, Bool)], Int, Int)])
    func stepsByHand(steps: [(Int, Int, Bool)], size: Int, ceiling: Int) {
        var s = BatchSizer(limit: 10)
        for (sent, refused, clean) in steps { s.record(sent: sent, rateLimited: refused, clean: clean) }
        #expect(s.size == size && s.ceiling == ceiling)
    }
}
