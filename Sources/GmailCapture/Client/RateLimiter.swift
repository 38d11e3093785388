public import Foundation
import CaptureParsing

/// A token bucket in quota units, as a value: `reserve` takes units now (the balance may go negative)
/// and answers how long the caller must wait before sending. No clock reads; time is passed in.
public struct TokenBucket: Sendable, Equatable {
    public var ratePerSecond: Double
    /// Largest burst (units); one second of budget by default, so no second ever sees more than the rate.
    public var capacity: Double
    public private(set) var balance: Double
    public private(set) var updated: Date

    public init(ratePerSecond: Double, capacity: Double? = nil, now: Date) {
        self.ratePerSecond = ratePerSecond
        self.capacity = capacity ?? ratePerSecond
        balance = capacity ?? ratePerSecond
        updated = now
    }

    /// Takes `units` and returns the wait (seconds) after which they are covered.
    public mutating func reserve(_ units: Double, now: Date) -> Double {
        let elapsed = max(0, now.timeIntervalSince(updated))
        balance = min(capacity, balance + elapsed * ratePerSecond)
        updated = max(updated, now)
        balance -= units
        return balance >= 0 ? 0 : -balance / ratePerSecond
    }
}

/// Gmail's per-method unit costs, as the client budgets them.
public struct QuotaCostTable: Sendable, Equatable {
    /// Units per method; a method missing from the table is budgeted 5 units.
    public var costs: [GmailMethod: Int]

    public func cost(_ method: GmailMethod) -> Int { costs[method] ?? 5 }

    public static let classic = QuotaCostTable(costs: [
        .getProfile: 1, .messagesList: 5, .messagesGet: 5, .messagesAttachmentsGet: 5, .historyList: 2, .threadsList: 10,
        .threadsGet: 10, .labelsList: 1, .labelsGet: 1, .watch: 100, .stop: 50, .oauthToken: 0,
    ])
    public static let table2026 = QuotaCostTable(
        costs: classic.costs.merging([
            .messagesGet: 20, .messagesAttachmentsGet: 20, .threadsGet: 40,
        ]) { $1 })

    public static func from(_ c: CaptureConfig.QuotaCosts) -> QuotaCostTable { c == .classic ? .classic : .table2026 }
}

/// Spends quota before each call: one bucket per mailbox and one for the project, plus a per-mailbox
/// cap on calls in flight. Shared by every mailbox's client.
public actor RateLimiter {
    let perMailbox: Double
    let perProject: Double
    let maxInFlight: Int
    let clock: any CaptureClock
    var mailboxes: [String: TokenBucket] = [:]
    var project: TokenBucket?
    var inFlight: [String: Int] = [:]
    var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    /// Units reserved per mailbox (what was spent).
    public private(set) var spent: [String: Int] = [:]

    public init(unitsPerSecondPerMailbox: Int, unitsPerSecondPerProject: Int, maxInFlightPerMailbox: Int = 10, clock: any CaptureClock) {
        perMailbox = Double(unitsPerSecondPerMailbox)
        perProject = Double(unitsPerSecondPerProject)
        maxInFlight = maxInFlightPerMailbox
        self.clock = clock
    }

    /// Waits until `units` may be spent for `mailbox` under both budgets, then counts them.
    public func acquire(units: Int, mailbox: String) async throws {
        guard units > 0 else { return }
        let now = clock.now()
        var m = mailboxes[mailbox] ?? TokenBucket(ratePerSecond: perMailbox, now: now)
        var p = project ?? TokenBucket(ratePerSecond: perProject, now: now)
        let wait = max(m.reserve(Double(units), now: now), p.reserve(Double(units), now: now))
        mailboxes[mailbox] = m
        project = p
        spent[mailbox, default: 0] += units
        if wait > 0 { try await clock.sleep(for: .fromSeconds(wait)) }
    }

    /// Takes one of the mailbox's in-flight slots, waiting for one to free up.
    public func enter(_ mailbox: String) async {
        if inFlight[mailbox, default: 0] < maxInFlight {
            inFlight[mailbox, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiters[mailbox, default: []].append($0) }
    }

    public func leave(_ mailbox: String) {
        if var q = waiters[mailbox], !q.isEmpty {
            let next = q.removeFirst()
            waiters[mailbox] = q
            next.resume()  // the slot passes straight to the next waiter
        } else {
            inFlight[mailbox, default: 1] -= 1
        }
    }

    public func unitsSpent(_ mailbox: String) -> Int { spent[mailbox] ?? 0 }
}
