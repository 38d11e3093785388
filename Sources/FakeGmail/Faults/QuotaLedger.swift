import Foundation
/// Quota settings: per-method unit costs and the budgets Gmail enforces.
public struct QuotaConfig: Sendable, Equatable {
    public var enabled: Bool
    /// Units per Gmail method (a method missing from the table costs nothing).
    public var costs: [GmailMethod: Int]
    /// Units per user per minute (token bucket refilled continuously on the virtual clock).
    public var perUserPerMinute: Int
    /// Units per project per minute, shared by all users.
    public var perProjectPerMinute: Int
    /// Requests in flight per user; more get 429 "Too many concurrent requests for user".
    public var concurrentPerUser: Int
    /// How per-user exhaustion is answered: 429 RESOURCE_EXHAUSTED (default) or 403 userRateLimitExceeded.
    public var perUserStatus: Int

    public init(
        enabled: Bool, costs: [GmailMethod: Int], perUserPerMinute: Int, perProjectPerMinute: Int,
        concurrentPerUser: Int = 25, perUserStatus: Int = 429
    ) {
        self.enabled = enabled
        self.costs = costs
        self.perUserPerMinute = perUserPerMinute
        self.perProjectPerMinute = perProjectPerMinute
        self.concurrentPerUser = concurrentPerUser
        self.perUserStatus = perUserStatus
    }

    /// Google's long-standing table: 15,000 units/user/min, 1,200,000 units/project/min.
    public static let classic = QuotaConfig(
        enabled: true,
        costs: [
            .getProfile: 1, .messagesList: 5, .messagesGet: 5, .messagesAttachmentsGet: 5, .historyList: 2, .threadsList: 10,
            .threadsGet: 10, .labelsList: 1, .labelsGet: 1, .watch: 100, .stop: 50,
        ], perUserPerMinute: 15_000, perProjectPerMinute: 1_200_000)

    /// Projects created from 2026-05-01: messages.get 20, attachments 20, threads.get 40; 6,000 units/user/min.
    public static let table2026 = QuotaConfig(
        enabled: true,
        costs: [
            .getProfile: 1, .messagesList: 5, .messagesGet: 20, .messagesAttachmentsGet: 20, .historyList: 2, .threadsList: 10,
            .threadsGet: 40, .labelsList: 1, .labelsGet: 1, .watch: 100, .stop: 50,
        ], perUserPerMinute: 6_000, perProjectPerMinute: 1_200_000)

    public static let off = QuotaConfig(enabled: false, costs: classic.costs, perUserPerMinute: 15_000, perProjectPerMinute: 1_200_000)

    /// `classic`, `2026` or `off`.
    public static func named(_ name: String) -> QuotaConfig? {
        switch name.lowercased() {
        case "classic": return .classic
        case "2026": return .table2026
        case "off", "none": return .off
        default: return nil
        }
    }
}

/// Token buckets on the virtual clock, per user and per project, plus spent-unit counters.
struct QuotaLedger: Sendable {
    var config: QuotaConfig
    struct Bucket: Sendable {
        var units: Double
        var atMillis: Int64
    }
    var users: [String: Bucket] = [:]
    var project: Bucket?
    /// Units charged per user (answered calls only).
    var spent: [String: Int] = [:]
    var inFlight: [String: Int] = [:]

    enum Verdict: Equatable {
        case ok
        case userExhausted(retryAfterMillis: Int64)
        case projectExhausted(retryAfterMillis: Int64)
    }

    func cost(_ method: GmailMethod) -> Int { config.costs[method] ?? 0 }

    private func refilled(_ b: Bucket?, capacity: Int, now: Int64) -> Bucket {
        guard let b else { return Bucket(units: Double(capacity), atMillis: now) }
        let rate = Double(capacity) / 60_000
        return Bucket(units: min(Double(capacity), b.units + Double(max(0, now - b.atMillis)) * rate), atMillis: now)
    }

    /// Checks and, when allowed, charges `method` for `user`.
    mutating func charge(_ method: GmailMethod, user: String, now: Int64) -> Verdict {
        let c = Double(cost(method))
        guard config.enabled, c > 0 else {
            spent[user, default: 0] += Int(c)
            return .ok
        }
        var u = refilled(users[user], capacity: config.perUserPerMinute, now: now)
        var p = refilled(project, capacity: config.perProjectPerMinute, now: now)
        if u.units < c {
            users[user] = u; project = p
            let wait = Int64(((c - u.units) / (Double(config.perUserPerMinute) / 60_000)).rounded(.up))
            return .userExhausted(retryAfterMillis: max(wait, 1))
        }
        if p.units < c {
            users[user] = u; project = p
            let wait = Int64(((c - p.units) / (Double(config.perProjectPerMinute) / 60_000)).rounded(.up))
            return .projectExhausted(retryAfterMillis: max(wait, 1))
        }
        u.units -= c
        p.units -= c
        users[user] = u
        project = p
        spent[user, default: 0] += Int(c)
        return .ok
    }
}
