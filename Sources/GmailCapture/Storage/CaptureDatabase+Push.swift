public import Foundation
import CaptureParsing
import GRDB

/// Push state per mailbox (migration 0010): the watch and the notifications received.
extension CaptureDatabase {
    /// One mailbox's push state as stored.
    public struct PushState: Sendable, Equatable {
        public var accountId: Int64
        public var email: String
        public var enabled: Bool
        /// The mailbox's stored history cursor (what a sync starts from).
        public var cursor: String?
        public var watchExpiresAt: Date?
        public var watchHistoryId: String?
        public var watchedAt: Date?
        public var watchFailures: Int
        public var watchError: String?
        public var watchFailedAt: Date?
        public var lastNotificationAt: Date?
        public var lastNotificationHistoryId: String?
        public var notificationsReceived: Int
        public var notificationsStale: Int
    }

    /// Every enrolled mailbox with its push state (zeroes where none is stored), by email.
    public func pushStates() async throws -> [PushState] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id, a.email, a.enabled, a.history_cursor, p.* FROM email_accounts a
                    LEFT JOIN email_push_state p ON p.account_id = a.id ORDER BY a.email
                    """
            ).map(Self.pushState)
        }
    }

    static func pushState(_ r: Row) -> PushState {
        func date(_ column: String) -> Date? { (r[column] as String?).flatMap { try? Date($0, strategy: isoStyle) } }
        return PushState(
            accountId: r["id"], email: r["email"], enabled: r["enabled"], cursor: r["history_cursor"],
            watchExpiresAt: date("watch_expires_at"), watchHistoryId: r["watch_history_id"], watchedAt: date("watched_at"),
            watchFailures: r["watch_failures"] ?? 0, watchError: r["watch_error"], watchFailedAt: date("watch_failed_at"),
            lastNotificationAt: date("last_notification_at"),
            lastNotificationHistoryId: r["last_notification_history_id"], notificationsReceived: r["notifications_received"] ?? 0,
            notificationsStale: r["notifications_stale"] ?? 0)
    }

    /// A successful `users.watch`: failures cleared.
    public func recordWatch(accountId: Int64, historyId: String, expiresAt: Date, at now: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_push_state (account_id, watch_expires_at, watch_history_id, watched_at, watch_failures, watch_error)
                    VALUES (?, ?, ?, ?, 0, NULL)
                    ON CONFLICT(account_id) DO UPDATE SET watch_expires_at = excluded.watch_expires_at,
                        watch_history_id = excluded.watch_history_id, watched_at = excluded.watched_at, watch_failures = 0, watch_error = NULL,
                        watch_failed_at = NULL
                    """, arguments: [accountId, Self.iso(expiresAt), historyId, Self.iso(now)])
        }
    }

    /// A failed `users.watch` (`error` carries no secret). With `lapsed`, the stored watch is forgotten
    /// (Gmail no longer has it).
    public func recordWatchFailure(accountId: Int64, error: String, lapsed: Bool, at now: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_push_state (account_id, watch_failures, watch_error, watch_failed_at) VALUES (?, 1, ?, ?)
                    ON CONFLICT(account_id) DO UPDATE SET watch_failures = watch_failures + 1, watch_error = excluded.watch_error,
                        watch_failed_at = excluded.watch_failed_at
                    """, arguments: [accountId, String(error.prefix(500)), Self.iso(now)])
            if lapsed {
                try db.execute(sql: "UPDATE email_push_state SET watch_expires_at = NULL WHERE account_id = ?", arguments: [accountId])
            }
        }
    }

    /// The watch was stopped (`users.stop`) or is known to be gone.
    public func clearWatch(accountId: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_push_state SET watch_expires_at = NULL, watch_history_id = NULL WHERE account_id = ?",
                arguments: [accountId])
        }
    }

    /// Records a notification for `email` in one transaction with the read of the cursor it is compared
    /// with; returns the mailbox's state before it and what the notification does (`PushPlanner.wake`).
    /// nil: no such enrolled mailbox, nothing recorded.
    public func recordNotification(email: String, historyId: String, at now: Date) async throws -> (PushState, PushPlanner.Wake)? {
        try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT a.id, a.email, a.enabled, a.history_cursor, p.* FROM email_accounts a
                        LEFT JOIN email_push_state p ON p.account_id = a.id WHERE a.email = ?
                        """, arguments: [email])
            else { return nil }
            let state = Self.pushState(row)
            let wake = PushPlanner.wake(historyId: historyId, cursor: state.cursor, enabled: state.enabled)
            try db.execute(
                sql: """
                    INSERT INTO email_push_state (account_id, last_notification_at, last_notification_history_id, notifications_received,
                        notifications_stale)
                    VALUES (?, ?, ?, 1, ?)
                    ON CONFLICT(account_id) DO UPDATE SET last_notification_at = excluded.last_notification_at,
                        last_notification_history_id = excluded.last_notification_history_id,
                        notifications_received = notifications_received + 1,
                        notifications_stale = notifications_stale + excluded.notifications_stale
                    """, arguments: [state.accountId, Self.iso(now), historyId, wake == .stale ? 1 : 0])
            return (state, wake)
        }
    }
}
