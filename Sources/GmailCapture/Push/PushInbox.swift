import Foundation
import CaptureParsing
public import Logging

/// Where every notification lands, pushed (`POST /api/email/push`) or pulled: it is recorded in
/// `email_push_state` first, then wakes that mailbox's sync through the scheduler (coalesced there, never
/// concurrent with a running sync of the same mailbox). It never waits for the sync.
public struct PushInbox: Sendable {
    public enum Outcome: String, Sendable, Equatable {
        /// No enrolled mailbox has this address: nothing recorded, nothing to do.
        case unknownMailbox
        case woke
        case stale
        case ignored
    }

    let database: CaptureDatabase
    let clock: any CaptureClock
    let wake: @Sendable (String) -> Void
    let logger: Logger

    /// - Parameter wake: asks for a sync of one mailbox (`scheduler.runNow(.mailbox(m))`); returns at once.
    public init(
        database: CaptureDatabase, clock: any CaptureClock, wake: @escaping @Sendable (String) -> Void,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.database = database
        self.clock = clock
        self.wake = wake
        self.logger = logger
    }

    /// Records `n` and wakes the mailbox's sync when the planner says so.
    public func receive(_ n: GmailPushNotification) async throws -> Outcome {
        guard let (state, decision) = try await database.recordNotification(email: n.emailAddress, historyId: n.historyId, at: clock.now())
        else { return .unknownMailbox }
        switch decision {
        case .sync:
            wake(state.email)
            return .woke
        case .stale:
            logger.debug("stale push notification", metadata: ["push.historyId": "\(n.historyId)"])
            return .stale
        case .ignored:
            return .ignored
        }
    }
}
