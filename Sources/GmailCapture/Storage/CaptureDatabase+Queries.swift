import Foundation
import CaptureParsing
import GRDB

/// Read models for `status`, `threads` and the HTTP routes (stable JSON shapes).
extension CaptureDatabase {
    public struct MailboxStatus: Sendable, Codable, Equatable {
        public struct LastRun: Sendable, Codable, Equatable {
            public var status: RunStatus
            public var kind: RunKind
            public var startedAt: String
            public var finishedAt: String?
            public var counts: [String: Int]
        }
        public var email: String
        public var state: SyncState
        public var enabled: Bool
        public var cursor: String?
        public var messagesStored: Int
        /// Items owed to the cursor (failed, not yet parked).
        public var backlog: Int
        public var parkedItems: Int
        public var lastError: String?
        public var lastSuccessAt: String?
        public var lastRun: LastRun?
        public var quotaUnitsLastRun: Int?
        /// Attachments of this mailbox still to download (pending, or failed with attempts left).
        public var attachmentsPending: Int
    }

    public func status() async throws -> [MailboxStatus] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM email_accounts ORDER BY email").map { a in
                let id: Int64 = a["id"]
                let stored =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM email_sightings WHERE account_id = ? AND deleted_at IS NULL", arguments: [id]) ?? 0
                let ledger = "SELECT COUNT(*) FROM email_item_ledger WHERE account_id = ? AND state = ?"
                let backlog = try Int.fetchOne(db, sql: ledger, arguments: [id, LedgerState.failed]) ?? 0
                let parked = try Int.fetchOne(db, sql: ledger, arguments: [id, LedgerState.parked]) ?? 0
                var last: MailboxStatus.LastRun?
                var units: Int?
                if let r = try Row.fetchOne(
                    db, sql: "SELECT * FROM email_sync_runs WHERE account_id = ? ORDER BY id DESC LIMIT 1", arguments: [id])
                {
                    var counts: [String: Int] = [:]
                    for (column, key) in [
                        ("listed", "listed"), ("fetched", "fetched"), ("stored", "stored"), ("skipped", "skipped"), ("gone", "gone"),
                        ("parked", "parked"), ("quota_units", "quotaUnits"), ("attachments_stored", "attachmentsStored"),
                        ("attachments_failed", "attachmentsFailed"),
                    ] { counts[key] = r[column] }
                    last = .init(
                        status: r["status"], kind: r["kind"], startedAt: r["started_at"], finishedAt: r["finished_at"], counts: counts)
                    units = r["quota_units"]
                }
                let state: SyncState = a["sync_state"]
                let pending =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) FROM email_attachments at JOIN email_sightings s ON s.id = at.sighting_id
                            WHERE s.account_id = ? AND (\(Self.attachmentOwedCondition))
                            """, arguments: [id]) ?? 0
                return MailboxStatus(
                    email: a["email"], state: state, enabled: a["enabled"], cursor: a["history_cursor"], messagesStored: stored,
                    backlog: backlog, parkedItems: parked, lastError: a["state_reason"], lastSuccessAt: a["last_success_at"],
                    lastRun: last, quotaUnitsLastRun: units, attachmentsPending: pending)
            }
        }
    }

    public struct ThreadSummary: Sendable, Codable, Equatable {
        public struct Link: Sendable, Codable, Equatable {
            public var investorId: String
            public var rule: MatchRule
            public var confidence: Double
        }
        public var id: Int64
        public var subject: String?
        public var firstAt: String?
        public var lastAt: String?
        /// RFC Message-IDs of its messages, without angle brackets.
        public var messageIds: [String]
        /// Teammate mailboxes that saw it.
        public var mailboxes: [String]
        public var investorIds: [String]
        public var investorLinks: [Link]
    }

    /// Every thread, newest first; filtered by investor, mailbox, text, date range; paginated. The
    /// operator's view: teammates read through `ReadModel`, which applies the visibility rules.
    public func threads(
        investor: String? = nil, mailbox: String? = nil, text: String? = nil, before: String? = nil, after: String? = nil,
        limit: Int = 50, offset: Int = 0
    ) async throws -> [ThreadSummary] {
        try await writer.read { db in
            var args: [any DatabaseValueConvertible] = []
            var sql = "SELECT t.id, t.subject, t.first_at, t.last_at FROM email_threads t WHERE 1 = 1"
            if let i = investor {
                sql +=
                    " AND t.id IN (SELECT e.thread_id FROM emails e JOIN email_investor_links l ON l.email_id = e.id WHERE l.investor_id = ?)"
                args.append(i)
            }
            if let m = mailbox {
                sql += """
                     AND t.id IN (SELECT e.thread_id FROM emails e JOIN email_sightings s ON s.email_id = e.id
                        JOIN email_accounts a ON a.id = s.account_id WHERE a.email = ? COLLATE NOCASE)
                    """
                args.append(m)
            }
            if let q = text, !q.isEmpty {
                sql +=
                    " AND t.id IN (SELECT e.thread_id FROM emails e WHERE e.subject LIKE ? ESCAPE '\\' OR e.text_body LIKE ? ESCAPE '\\')"
                let like =
                    "%"
                    + q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
                args += [like, like]
            }
            if let b = before { sql += " AND t.last_at < ?"; args.append(b) }
            if let a = after { sql += " AND t.last_at >= ?"; args.append(a) }
            sql += " ORDER BY t.last_at DESC, t.id DESC LIMIT ? OFFSET ?"
            args += [limit, offset]
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { try Self.summary(db, $0) }
        }
    }

    static func summary(_ db: Database, _ t: Row) throws -> ThreadSummary {
        let id: Int64 = t["id"]
        let ids = try String.fetchAll(
            db, sql: "SELECT COALESCE(message_id, canonical_key) FROM emails WHERE thread_id = ? ORDER BY sent_at, id", arguments: [id]
        ).map { $0.hasPrefix("<") ? String($0.dropFirst().dropLast()) : $0 }
        let mailboxes = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT a.email FROM emails e JOIN email_sightings s ON s.email_id = e.id JOIN email_accounts a ON a.id = s.account_id
                WHERE e.thread_id = ? ORDER BY a.email
                """, arguments: [id])
        // Each investor once, with its most confident link (the first of equals, in message order). Read
        // from the thread's own messages: a correlated subquery here went through the investor's every link.
        var best: [String: ThreadSummary.Link] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT l.investor_id, l.rule, l.confidence FROM emails e JOIN email_investor_links l ON l.email_id = e.id
                WHERE e.thread_id = ? ORDER BY e.id
                """, arguments: [id])
        {
            let link = ThreadSummary.Link(investorId: r["investor_id"], rule: r["rule"], confidence: r["confidence"])
            if let current = best[link.investorId], current.confidence >= link.confidence { continue }
            best[link.investorId] = link
        }
        let links = best.values.sorted { $0.investorId < $1.investorId }
        return ThreadSummary(
            id: id, subject: t["subject"], firstAt: t["first_at"], lastAt: t["last_at"], messageIds: ids, mailboxes: mailboxes,
            investorIds: links.map(\.investorId), investorLinks: links)
    }

    /// One message of a thread as a reader sees it. Participants, date, direction, owners and investor
    /// links are always there; `subject` and `snippet` need `subject` level, the bodies and attachments
    /// `full` (otherwise null and empty).
    public struct ThreadMessage: Sendable, Codable, Equatable {
        public struct Participant: Sendable, Codable, Equatable {
            public var role: String; public var name: String?; public var address: String
            enum CodingKeys: String, CodingKey { case role, name, address }
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(role, forKey: .role)
                try c.encode(name, forKey: .name)
                try c.encode(address, forKey: .address)
            }
        }
        public struct Attachment: Sendable, Codable, Equatable {
            public var id: Int64
            public var filename: String?
            public var mimeType: String
            public var size: Int
            public var state: AttachmentState
        }
        public var id: Int64
        public var messageId: String?
        public var subject: String?
        public var sentAt: String?
        public var participants: [Participant]
        public var textBody: String?
        public var attachments: [Attachment]
        public var investorLinks: [ThreadSummary.Link]
        /// What the reader may see of it.
        public var visibility: SharingLevel
        /// Teammates whose mailboxes hold it.
        public var owners: [String]
        public var snippet: String?
        public var htmlBody: String?
        public var from: Participant?
        public var to: [Participant]
        public var cc: [Participant]
        /// The Date header, ISO 8601 UTC (as `sentAt`).
        public var date: String?
        /// `outbound` when a teammate sent it, else `inbound`.
        public var direction: String

        enum CodingKeys: String, CodingKey {
            case id, messageId, subject, sentAt, participants, textBody, attachments, investorLinks, visibility, owners, snippet, htmlBody
            case from, to, cc, date, direction
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(messageId, forKey: .messageId)
            try c.encode(subject, forKey: .subject)
            try c.encode(sentAt, forKey: .sentAt)
            try c.encode(participants, forKey: .participants)
            try c.encode(textBody, forKey: .textBody)
            try c.encode(attachments, forKey: .attachments)
            try c.encode(investorLinks, forKey: .investorLinks)
            try c.encode(visibility, forKey: .visibility)
            try c.encode(owners, forKey: .owners)
            try c.encode(snippet, forKey: .snippet)
            try c.encode(htmlBody, forKey: .htmlBody)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
            try c.encode(cc, forKey: .cc)
            try c.encode(date, forKey: .date)
            try c.encode(direction, forKey: .direction)
        }
    }

    /// The messages of a thread: with `levels`, only those ids, each masked to its level.
    static func messages(
        _ db: Database, threadId: Int64, levels: [Int64: SharingLevel]?, workspaceDomain: String?
    ) throws -> [ThreadMessage] {
        let teammates = Set(try String.fetchAll(db, sql: "SELECT lower(email) FROM email_accounts"))
        return try Row.fetchAll(db, sql: "SELECT e.* FROM emails e WHERE e.thread_id = ? ORDER BY e.sent_at, e.id", arguments: [threadId])
            .compactMap { e -> ThreadMessage? in
                let eid: Int64 = e["id"]
                let level: SharingLevel
                if let levels {
                    guard let l = levels[eid] else { return nil }
                    level = l
                } else {
                    level = .full
                }
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT role, name, address, address_canonical FROM email_participants WHERE email_id = ? ORDER BY role, position",
                    arguments: [eid])
                let participants = rows.map { ThreadMessage.Participant(role: $0["role"], name: $0["name"], address: $0["address"]) }
                let owners = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT a.email FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id WHERE s.email_id = ? AND s.deleted_at IS NULL ORDER BY a.email
                        """, arguments: [eid])
                let fromCanonical = rows.first { ($0["role"] as String) == "from" }.flatMap { $0["address_canonical"] as String? }
                let outbound =
                    fromCanonical.map { c in
                        teammates.contains(c) || workspaceDomain.map { AddressNormalizer.isAt(c, domain: $0) } ?? false
                    } ?? false
                var attachments: [ThreadMessage.Attachment] = []
                if level == .full {
                    // One entry per part; of the copies the mailboxes hold, the one furthest along speaks for it
                    // (stored, then pending, failed, skipped), so its id is the one that downloads.
                    var parts: [String: ThreadMessage.Attachment] = [:]
                    var order: [String] = []
                    for r in try Row.fetchAll(
                        db,
                        sql: """
                            SELECT id, part_id, filename, mime_type, size, download_state FROM email_attachments WHERE email_id = ? ORDER BY part_id, id
                            """, arguments: [eid])
                    {
                        let a = ThreadMessage.Attachment(
                            id: r["id"], filename: r["filename"], mimeType: r["mime_type"], size: r["size"], state: r["download_state"])
                        let part: String = r["part_id"]
                        if let current = parts[part] {
                            if a.state.rank > current.state.rank { parts[part] = a }
                        } else {
                            parts[part] = a
                            order.append(part)
                        }
                    }
                    attachments = order.compactMap { parts[$0] }
                }
                let links = try Row.fetchAll(
                    db, sql: "SELECT investor_id, rule, confidence FROM email_investor_links WHERE email_id = ? ORDER BY investor_id",
                    arguments: [eid]
                )
                .map { ThreadSummary.Link(investorId: $0["investor_id"], rule: $0["rule"], confidence: $0["confidence"]) }
                func role(_ r: String) -> [ThreadMessage.Participant] { participants.filter { $0.role == r } }
                return ThreadMessage(
                    id: eid, messageId: e["message_id"], subject: level >= .subject ? e["subject"] : nil, sentAt: e["sent_at"],
                    participants: participants, textBody: level == .full ? e["text_body"] : nil, attachments: attachments,
                    investorLinks: links,
                    visibility: level, owners: owners, snippet: level >= .subject ? e["snippet"] : nil,
                    htmlBody: level == .full ? e["html_body"] : nil,
                    from: role("from").first, to: role("to"), cc: role("cc"), date: e["sent_at"],
                    direction: outbound ? "outbound" : "inbound")
            }
    }
}

// Stable JSON: optional keys are written as null, never left out.
extension CaptureDatabase.MailboxStatus {
    enum CodingKeys: String, CodingKey {
        case email, state, enabled, cursor, messagesStored, backlog, parkedItems, lastError, lastSuccessAt, lastRun, quotaUnitsLastRun,
            attachmentsPending
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(email, forKey: .email)
        try c.encode(state, forKey: .state)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(cursor, forKey: .cursor)
        try c.encode(messagesStored, forKey: .messagesStored)
        try c.encode(backlog, forKey: .backlog)
        try c.encode(parkedItems, forKey: .parkedItems)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(lastSuccessAt, forKey: .lastSuccessAt)
        try c.encode(lastRun, forKey: .lastRun)
        try c.encode(quotaUnitsLastRun, forKey: .quotaUnitsLastRun)
        try c.encode(attachmentsPending, forKey: .attachmentsPending)
    }
}

extension CaptureDatabase.ThreadSummary {
    enum CodingKeys: String, CodingKey { case id, subject, firstAt, lastAt, messageIds, mailboxes, investorIds, investorLinks }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(subject, forKey: .subject)
        try c.encode(firstAt, forKey: .firstAt)
        try c.encode(lastAt, forKey: .lastAt)
        try c.encode(messageIds, forKey: .messageIds)
        try c.encode(mailboxes, forKey: .mailboxes)
        try c.encode(investorIds, forKey: .investorIds)
        try c.encode(investorLinks, forKey: .investorLinks)
    }
}

extension CaptureDatabase.MailboxStatus.LastRun {
    enum CodingKeys: String, CodingKey { case status, kind, startedAt, finishedAt, counts }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(kind, forKey: .kind)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(counts, forKey: .counts)
    }
}

extension CaptureDatabase {
    /// Download attempts an attachment gets (over separate syncs) before it stays `failed`.
    public static let maxAttachmentAttempts = 3
    /// The attachments still owed a download: pending, or failed with attempts left.
    static let attachmentOwedCondition =
        "at.download_state = '\(AttachmentState.pending.rawValue)' OR (at.download_state = '\(AttachmentState.failed.rawValue)' AND at.attempts < \(maxAttachmentAttempts))"

    public struct AttachmentRow: Sendable {
        public var id: Int64
        public var threadId: Int64
        /// The message it belongs to (the `id` of thread messages).
        public var emailId: Int64
        public var filename: String?
        public var mimeType: String
        public var sha256: String?
        public var state: AttachmentState
    }

    /// One attachment (the operator's view; teammates go through `ReadModel.attachment`).
    public func attachmentRow(id: Int64) async throws -> AttachmentRow? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT a.id, e.thread_id, a.filename, a.mime_type, a.sha256, a.download_state, a.email_id
                    FROM email_attachments a JOIN emails e ON e.id = a.email_id WHERE a.id = ?
                    """, arguments: [id]
            ).map {
                AttachmentRow(
                    id: $0[0], threadId: $0[1], emailId: $0[6], filename: $0[2], mimeType: $0[3], sha256: $0[4], state: $0[5])
            }
        }
    }
}
