/// The states the capture layer records, as types: a typo is a compile error, and the schema's checks
/// (migration 0006) name exactly these values. Each is stored as its raw TEXT value.
import Foundation
import CaptureParsing

/// A mailbox's sync state (`email_accounts.sync_state`).
public enum SyncState: String, Sendable, Codable, CaseIterable {
    /// Enrolled, never synced.
    case new
    /// The first full listing is under way (resumable from its checkpoint).
    case backfilling
    /// History expired or went stale; the gap is being re-listed.
    case recovering
    /// Up to date as of the last successful sync.
    case idle
    /// The last sync failed with an error that a later sync may not hit.
    case error
    /// Stopped until an admin acts (revoked grant, delegation denied, policy).
    case needsAdmin = "needs_admin"
    /// Stopped to avoid a loop (repeated history recovery); see the reason.
    case needsAttention = "needs_attention"
    /// Paused by an admin or the owner.
    case paused

    /// States in which the scheduler leaves the mailbox alone.
    public var blocksSync: Bool { self == .needsAdmin || self == .needsAttention || self == .paused }
    /// States that make the installation's health "degraded".
    public var isDegraded: Bool { self == .needsAdmin || self == .needsAttention || self == .error }
}

/// How a sync run ended (`email_sync_runs.status`; `skipped` is only ever an outcome, never a row).
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, ok, partial, error, skipped
}

/// What a sync run did (`email_sync_runs.kind`).
public enum RunKind: String, Sendable, Codable, CaseIterable {
    case backfill, incremental
}

/// Why a message is in the per-item ledger (`email_item_ledger.state`).
public enum LedgerState: String, Sendable, Codable, CaseIterable {
    /// Failed; owed to the cursor, retried by the next sync.
    case failed
    /// Failed too often; no longer holds the cursor.
    case parked
    /// 404 while fetching: deleted before we got it.
    case gone
    /// Not captured by policy (spam, trash, drafts, chat, blocklist).
    case excluded
}

/// An attachment's download state (`email_attachments.download_state`).
public enum AttachmentState: String, Sendable, Codable, CaseIterable {
    case pending, stored, skipped, failed

    /// Which of several copies of one part speaks for it: stored beats pending beats failed beats skipped.
    public var rank: Int {
        switch self {
        case .stored: return 3
        case .pending: return 2
        case .failed: return 1
        case .skipped: return 0
        }
    }
}
