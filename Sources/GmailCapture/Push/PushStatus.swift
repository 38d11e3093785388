import Foundation
import CaptureParsing

/// A mailbox's push figures in `status --json` and `GET /api/email/status` (`push`).
public struct PushStatus: Sendable, Equatable, Encodable {
    public var mode: CaptureConfig.PushMode
    /// ISO 8601; null without a watch.
    public var watchExpiresAt: String?
    public var lastNotificationAt: String?
    public var notificationsReceived: Int

    public init(mode: CaptureConfig.PushMode, state: CaptureDatabase.PushState?) {
        self.mode = mode
        watchExpiresAt = state?.watchExpiresAt.map(CaptureDatabase.isoString)
        lastNotificationAt = state?.lastNotificationAt.map(CaptureDatabase.isoString)
        notificationsReceived = state?.notificationsReceived ?? 0
    }

    enum CodingKeys: String, CodingKey { case mode, watchExpiresAt, lastNotificationAt, notificationsReceived }

    // Stable JSON: optional keys are written as null, never left out.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(watchExpiresAt, forKey: .watchExpiresAt)
        try c.encode(lastNotificationAt, forKey: .lastNotificationAt)
        try c.encode(notificationsReceived, forKey: .notificationsReceived)
    }
}

/// One `status --json` object: every `MailboxStatus` key, plus `push`.
public struct MailboxStatusReport: Sendable, Equatable, Encodable {
    public var status: CaptureDatabase.MailboxStatus
    public var push: PushStatus

    enum CodingKeys: String, CodingKey { case push }

    public func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(push, forKey: .push)
    }
}

extension CaptureDatabase {
    /// `status()` with each mailbox's push figures.
    public func statusReport(pushMode: CaptureConfig.PushMode) async throws -> [MailboxStatusReport] {
        let push = Dictionary(try await pushStates().map { ($0.email.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        return try await status().map {
            MailboxStatusReport(status: $0, push: PushStatus(mode: pushMode, state: push[$0.email.lowercased()]))
        }
    }
}
