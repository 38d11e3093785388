public import Foundation
import CaptureParsing

/// The push decisions as a value type, so they are tested without a clock or a sleep: when a mailbox's
/// `users.watch` is due, what a failed watch means, and whether a notification wakes a sync.
public struct PushPlanner: Sendable, Equatable {
    /// Renew at least this often (Google: "We recommend calling watch once per day").
    public var renewEvery: TimeInterval = 86_400
    /// Renew when the watch lapses within this long (at the latest: Gmail's watches last 7 days).
    public var renewWithin: TimeInterval = 86_400
    /// A failed watch is retried after this, doubling per consecutive failure, up to `maxRetryDelay`.
    public var retryDelay: TimeInterval = 60
    public var maxRetryDelay: TimeInterval = 3_600
    /// How often the service checks even when nothing is due (new mailboxes are watched then).
    public var checkEvery: TimeInterval = 3_600

    public init() {}

    /// What the planner knows of one mailbox's watch (from `email_push_state`).
    public struct Watch: Sendable, Equatable {
        public var expiresAt: Date?
        public var watchedAt: Date?
        public var failures: Int
        public var failedAt: Date?

        public init(expiresAt: Date? = nil, watchedAt: Date? = nil, failures: Int = 0, failedAt: Date? = nil) {
            self.expiresAt = expiresAt
            self.watchedAt = watchedAt
            self.failures = failures
            self.failedAt = failedAt
        }

        public init(_ s: CaptureDatabase.PushState) {
            self.init(expiresAt: s.watchExpiresAt, watchedAt: s.watchedAt, failures: s.watchFailures, failedAt: s.watchFailedAt)
        }
    }

    public enum Reason: String, Sendable, Equatable {
        /// Never watched, or the watch was forgotten (a 404, a stop).
        case missing
        /// Past its expiration: Gmail stopped notifying silently.
        case expired
        /// Lapses within `renewWithin`.
        case expiringSoon
        /// The daily renewal.
        case daily
        /// The last attempt failed and its backoff has passed.
        case retry
    }

    public enum Decision: Sendable, Equatable {
        case watchNow(Reason)
        /// Nothing to do before this time.
        case waitUntil(Date)
    }

    /// Whether `users.watch` is due for a mailbox now.
    public func decide(_ w: Watch, now: Date) -> Decision {
        if w.failures > 0, let failedAt = w.failedAt {
            let retryAt = failedAt.addingTimeInterval(retryBackoff(failures: w.failures))
            if now < retryAt {
                // A watch that still runs may wait for the retry; one that lapsed waits too (the poll is the net).
                return .waitUntil(retryAt)
            }
            return .watchNow(.retry)
        }
        guard let expiresAt = w.expiresAt else { return .watchNow(.missing) }
        if expiresAt <= now { return .watchNow(.expired) }
        if expiresAt.timeIntervalSince(now) <= renewWithin { return .watchNow(.expiringSoon) }
        guard let watchedAt = w.watchedAt else { return .watchNow(.daily) }
        let daily = watchedAt.addingTimeInterval(renewEvery)
        if daily <= now { return .watchNow(.daily) }
        return .waitUntil(min(daily, expiresAt.addingTimeInterval(-renewWithin)))
    }

    /// The wait before retrying after `failures` consecutive failed watches.
    public func retryBackoff(failures: Int) -> TimeInterval {
        min(maxRetryDelay, retryDelay * pow(2, Double(max(0, failures - 1))))
    }

    /// When the service should look again: the earliest `waitUntil`, at most `checkEvery` from now, at least a second.
    public func nextCheck(_ decisions: [Decision], now: Date) -> Date {
        var next = now.addingTimeInterval(checkEvery)
        for case .waitUntil(let t) in decisions where t < next { next = t }
        return max(next, now.addingTimeInterval(1))
    }

    /// Whether a failed `users.watch` means Gmail has no watch for the mailbox any more (a 404, or an
    /// answer that the topic or its grant is gone): the stored watch is then forgotten.
    public static func watchLapsed(after error: any Error) -> Bool {
        guard let e = error as? GmailAPIError else { return false }
        return e.status == 404 || e.status == 400 || e.status == 403
    }

    /// What a notification does.
    public enum Wake: Sendable, Equatable {
        /// A sync of the mailbox is asked for (coalesced by the scheduler).
        case sync
        /// The historyId is at or below the stored cursor: the last sync already read past it.
        case stale
        /// The mailbox is paused or cannot sync: recorded, nothing woken.
        case ignored
    }

    /// Whether a notification carrying `historyId` wakes the sync of a mailbox whose stored cursor is `cursor`.
    /// A notification is only a hint; waking on a stale one would be harmless too (the sync starts from the
    /// cursor, and one history.list finds nothing new).
    public static func wake(historyId: String, cursor: String?, enabled: Bool) -> Wake {
        guard enabled else { return .ignored }
        guard let c = cursor.flatMap(UInt64.init), let h = UInt64(historyId) else { return .sync }
        return h <= c ? .stale : .sync
    }
}
