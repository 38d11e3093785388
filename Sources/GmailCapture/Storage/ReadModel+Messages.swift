import Foundation
import GRDB

/// Single messages by their RFC Message-ID, through the same visibility rules as threads (`levels`).
extension ReadModel {
    /// The RFC Message-ID as thread objects list it: without angle brackets or surrounding whitespace.
    static func bareMessageId(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
    }

    /// The captured emails a listed Message-ID names (its stored Message-ID, else its canonical key, as
    /// `messageIds` of thread objects list them), oldest id first.
    static func emails(_ db: Database, listedId id: String) throws -> [(email: Int64, thread: Int64)] {
        try Row.fetchAll(db, sql: listedIdSQL, arguments: ["<\(id)>", id]).map { ($0[0], $0[1]) }
    }

    /// Read through `emails_message_id` and the canonical key's unique index (migration 0012), never a scan.
    static let listedIdSQL = """
        SELECT id, thread_id FROM emails WHERE message_id IN (?1, ?2) OR (message_id IS NULL AND canonical_key = ?2)
        ORDER BY id
        """

    /// One message as `viewer` may see it, masked to its level, with its thread's id; nil when no message
    /// with that Message-ID is visible to the viewer (exactly as for one that does not exist). Reading
    /// another teammate's message at subject or full level is written to the access log, one entry per
    /// owner, as `thread(id:for:surface:)` does.
    public func message(
        rfcId: String, for viewer: Viewer, surface: ReadSurface
    ) async throws -> (threadId: Int64, message: CaptureDatabase.ThreadMessage)? {
        let id = Self.bareMessageId(rfcId)
        guard !id.isEmpty else { return nil }
        let now = CaptureDatabase.isoString(clock.now())
        return try await database.writer.write { db in
            for candidate in try Self.emails(db, listedId: id) {
                if let m = try visibleMessage(db, email: candidate.email, thread: candidate.thread, viewer, surface, now) {
                    return (candidate.thread, m)
                }
            }
            return nil
        }
    }

    /// One message by its row id (the `id` of thread messages), as `message(rfcId:...)`: masked to the
    /// viewer's level, logged the same way; nil when the viewer cannot see it (exactly as when it does not exist).
    public func message(
        emailId: Int64, for viewer: Viewer, surface: ReadSurface
    ) async throws -> (threadId: Int64, message: CaptureDatabase.ThreadMessage)? {
        let now = CaptureDatabase.isoString(clock.now())
        return try await database.writer.write { db in
            guard let thread = try Int64.fetchOne(db, sql: "SELECT thread_id FROM emails WHERE id = ?", arguments: [emailId]),
                let m = try visibleMessage(db, email: emailId, thread: thread, viewer, surface, now)
            else { return nil }
            return (thread, m)
        }
    }

    /// The message as `viewer` may see it (nil when hidden), with the access-log entries of a read of
    /// another teammate's message at subject or full level.
    func visibleMessage(
        _ db: Database, email: Int64, thread: Int64, _ viewer: Viewer, _ surface: ReadSurface, _ now: String
    ) throws -> CaptureDatabase.ThreadMessage? {
        guard let level = try levels(db, viewer, thread: thread)[email],
            let m = try CaptureDatabase.messages(db, threadId: thread, levels: [email: level], workspaceDomain: policy.workspaceDomain)
                .first
        else { return nil }
        if let me = viewer.email, m.visibility >= .subject, !m.owners.contains(where: { $0.caseInsensitiveCompare(me) == .orderedSame }) {
            try Self.logRead(
                db, viewer: me, owners: m.owners, emailId: m.id, messageId: try Self.listedId(db, m), level: m.visibility,
                surface: surface, at: now)
        }
        return m
    }

    /// The inline parts of a message the viewer may see in full: `Content-ID` (without angle brackets) to
    /// attachment id, for rewriting `cid:` references; empty when the message is not visible in full.
    public func inlineParts(emailId: Int64, for viewer: Viewer) async throws -> [String: Int64] {
        try await database.writer.read { db in
            guard let thread = try Int64.fetchOne(db, sql: "SELECT thread_id FROM emails WHERE id = ?", arguments: [emailId]),
                try levels(db, viewer, thread: thread)[emailId] == .full
            else { return [:] }
            var out: [String: Int64] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT content_id, MIN(id) FROM email_attachments WHERE email_id = ? AND content_id IS NOT NULL GROUP BY content_id
                    """, arguments: [emailId])
            {
                let cid = Self.bareMessageId(r[0] as String)
                if !cid.isEmpty { out[cid] = r[1] }
            }
            return out
        }
    }

    /// The sender and date of each listed Message-ID visible to `viewer` (metadata: visible at any level;
    /// nothing is logged). Ids the viewer cannot see are absent.
    public func senders(ofMessageIds ids: [String], for viewer: Viewer) async throws -> [String: (from: String?, date: String?)] {
        let wanted = Set(ids.map(Self.bareMessageId).filter { !$0.isEmpty })
        guard !wanted.isEmpty else { return [:] }
        return try await database.writer.read { db in
            var out: [String: (from: String?, date: String?)] = [:]
            for id in wanted {
                for candidate in try Self.emails(db, listedId: id) {
                    guard try levels(db, viewer, thread: candidate.thread)[candidate.email] != nil else { continue }
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT e.sent_at, (SELECT address FROM email_participants p WHERE p.email_id = e.id AND p.role = 'from'
                                ORDER BY position LIMIT 1) AS sender FROM emails e WHERE e.id = ?
                            """, arguments: [candidate.email])
                    out[id] = (row?["sender"], row?["sent_at"])
                    break
                }
            }
            return out
        }
    }
}
