import Foundation
import GRDB

/// The one door every read of captured mail goes through: a `Viewer` in, what the visibility rules let
/// them see out. The rules are applied in SQL (`visibleSQL`), so no surface (routes, CLI, and the
/// search, MCP and UI that follow) can forget them:
///
/// - A viewer sees in full what their own mailbox holds.
/// - Another teammate's message is shown at the most generous level among its owners: each owner's
///   sharing level (or the firm default), capped by the firm ceiling; an owner's `shared` mark on the
///   thread (or on an address or domain of the message) shows it in full, still capped by the ceiling.
/// - Hidden entirely when any owner marked it private (its thread, or an address or domain among its
///   participants), or when every participant is on the workspace domain (internal mail).
/// - Admins read by the same rules; the operator (the CLI without `--as`) sees everything.
/// - Changes apply at the next read, retroactively, with no Gmail calls.
///
/// `VisibilityPolicy.visibility(...)` states the same rules in plain Swift; the property test holds
/// every surface to it.
public struct ReadModel: Sendable {
    public let database: CaptureDatabase
    public let policy: VisibilityPolicy
    public let clock: any CaptureClock

    public init(database: CaptureDatabase, policy: VisibilityPolicy, clock: any CaptureClock = SystemClock()) {
        self.database = database
        self.policy = policy
        self.clock = clock
    }

    // MARK: - The rules in SQL

    /// Which messages `visibleSQL` grades: every one, one thread's (`:thread`), or a JSON array of email
    /// ids (`:ids`). Separate statements, so each scope is read through its own index (a `:thread IS NULL
    /// OR ...` condition would scan every sighting).
    enum VisibleScope {
        case all, thread, ids

        var owners: String {
            switch self {
            case .all:
                return """
                    FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id JOIN emails e ON e.id = s.email_id
                    WHERE s.deleted_at IS NULL
                    """
            case .thread:
                return """
                    FROM emails e JOIN email_sightings s ON s.email_id = e.id JOIN email_accounts a ON a.id = s.account_id
                    WHERE e.thread_id = :thread AND s.deleted_at IS NULL
                    """
            case .ids:
                return """
                    FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id JOIN emails e ON e.id = s.email_id
                    WHERE s.email_id IN (SELECT value FROM json_each(:ids)) AND s.deleted_at IS NULL
                    """
            }
        }
    }

    /// `visible(email_id, lvl, mine)`: 0 hidden, 1 metadata, 2 subject, 3 full, for `:viewer` (`mine`: the
    /// viewer's own mailbox holds it), over the messages of `scope`. Named arguments: viewer, thread or
    /// ids, domain, def, ceil.
    static func visibleSQL(_ scope: VisibleScope) -> String {
        """
        WITH va AS (SELECT id FROM email_accounts WHERE email = :viewer COLLATE NOCASE),
        owners AS (
            SELECT s.email_id, a.email AS owner, e.thread_id, MAX(s.account_id IN (SELECT id FROM va)) AS mine
            \(scope.owners)
            GROUP BY s.email_id, a.email
        ),
        internal AS (
            SELECT DISTINCT o.email_id FROM owners o
            WHERE :domain IS NOT NULL
              AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = o.email_id)
              AND NOT EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = o.email_id
                  AND substr(COALESCE(p.address_canonical, ''), -length(:domain) - 1) NOT IN ('@' || :domain, '.' || :domain))
        ),
        marked AS (
            SELECT o.email_id, o.owner, m.mode FROM owners o JOIN email_privacy_marks m ON m.teammate = o.owner COLLATE NOCASE
            WHERE (m.kind = 'thread' AND m.value = CAST(o.thread_id AS TEXT))
               OR (m.kind = 'address' AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = o.email_id AND p.address_canonical = m.value))
               OR (m.kind = 'domain' AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = o.email_id
                   AND substr(COALESCE(p.address_canonical, ''), -length(m.value) - 1) IN ('@' || m.value, '.' || m.value)))
        ),
        graded AS (
            SELECT o.email_id, o.mine,
                CASE
                    WHEN o.mine THEN 3
                    WHEN o.email_id IN (SELECT email_id FROM internal) THEN -1
                    WHEN EXISTS (SELECT 1 FROM marked k WHERE k.email_id = o.email_id AND k.owner = o.owner AND k.mode = 'private') THEN -1
                    WHEN EXISTS (SELECT 1 FROM marked k WHERE k.email_id = o.email_id AND k.owner = o.owner AND k.mode = 'shared') THEN :ceil
                    ELSE MIN(COALESCE((SELECT CASE l.level WHEN 'metadata' THEN 1 WHEN 'subject' THEN 2 WHEN 'full' THEN 3 END
                                       FROM email_sharing_levels l WHERE l.teammate = o.owner COLLATE NOCASE), :def), :ceil)
                END AS lvl
            FROM owners o
        ),
        visible AS (
            SELECT email_id, CASE WHEN MAX(mine) = 1 THEN 3 WHEN MIN(lvl) < 0 THEN 0 ELSE MAX(lvl) END AS lvl, MAX(mine) AS mine
            FROM graded GROUP BY email_id
        )
        """
    }

    func arguments(_ viewer: String, thread: Int64? = nil, ids: String? = nil) -> [String: (any DatabaseValueConvertible)?] {
        [
            "viewer": viewer, "thread": thread, "ids": ids, "domain": policy.workspaceDomain, "def": policy.defaultLevel.rank,
            "ceil": policy.ceiling.rank,
        ]
    }

    /// Visible messages (level > 0) of one thread or all, for a teammate; every message for the operator.
    func levels(_ db: Database, _ viewer: Viewer, thread: Int64?) throws -> [Int64: SharingLevel] {
        guard let me = viewer.email else {
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM emails WHERE (:thread IS NULL OR thread_id = :thread)",
                arguments: StatementArguments(["thread": thread]))
            return Dictionary(uniqueKeysWithValues: ids.map { ($0, SharingLevel.full) })
        }
        var out: [Int64: SharingLevel] = [:]
        for row in try Row.fetchAll(
            db, sql: Self.visibleSQL(thread == nil ? .all : .thread) + " SELECT email_id, lvl FROM visible WHERE lvl > 0",
            arguments: StatementArguments(arguments(me, thread: thread)))
        {
            out[row[0]] = SharingLevel(rank: row[1])
        }
        return out
    }

    // MARK: - Threads

    /// Threads with at least one message visible to `viewer`, newest first (by their latest visible
    /// message), each built only from its visible messages; filtered by investor, mailbox, text (matched
    /// only against what the viewer may see: the subject at `subject` level, the body at `full`) and the
    /// date of the latest visible message.
    public func threads(
        for viewer: Viewer, investor: String? = nil, mailbox: String? = nil, text: String? = nil, before: String? = nil,
        after: String? = nil,
        limit: Int = 50, offset: Int = 0
    ) async throws -> [CaptureDatabase.ThreadSummary] {
        if viewer == .operator {
            return try await database.threads(
                investor: investor, mailbox: mailbox, text: text, before: before, after: after, limit: limit, offset: offset)
        }
        return try await database.writer.read { db in
            let levels = try levels(db, viewer, thread: nil)
            guard !levels.isEmpty else { return [] }
            // Every visible message with its thread and date.
            struct Item { var id: Int64; var thread: Int64; var sentAt: String?; var level: SharingLevel }
            var byThread: [Int64: [Item]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, thread_id, sent_at FROM emails") {
                let id: Int64 = row[0]
                guard let level = levels[id] else { continue }
                byThread[row[1], default: []].append(Item(id: id, thread: row[1], sentAt: row[2], level: level))
            }
            // Which visible messages match the filters.
            var matching = Set(levels.keys)
            if let i = investor {
                matching.formIntersection(
                    try Int64.fetchAll(db, sql: "SELECT email_id FROM email_investor_links WHERE investor_id = ?", arguments: [i]))
            }
            if let m = mailbox {
                matching.formIntersection(
                    try Int64.fetchAll(
                        db,
                        sql:
                            "SELECT s.email_id FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id WHERE a.email = ? COLLATE NOCASE",
                        arguments: [m]))
            }
            if let q = text, !q.isEmpty {
                let like =
                    "%"
                    + q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
                var hits = Set<Int64>()
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, subject LIKE ?1 ESCAPE '\\' AS s, text_body LIKE ?1 ESCAPE '\\' AS b FROM emails
                        WHERE subject LIKE ?1 ESCAPE '\\' OR text_body LIKE ?1 ESCAPE '\\'
                        """, arguments: [like])
                {
                    let id: Int64 = row[0]
                    guard let level = levels[id] else { continue }
                    if (level >= .subject && (row[1] as Bool? ?? false)) || (level == .full && (row[2] as Bool? ?? false)) {
                        hits.insert(id)
                    }
                }
                matching.formIntersection(hits)
            }
            var threads: [(id: Int64, last: String?)] = []
            for (thread, items) in byThread where items.contains(where: { matching.contains($0.id) }) {
                let last = items.compactMap(\.sentAt).max()
                if let b = before, !(last.map { $0 < b } ?? false) { continue }
                if let a = after, !(last.map { $0 >= a } ?? false) { continue }
                threads.append((thread, last))
            }
            threads.sort { ($0.last ?? "", $0.id) > ($1.last ?? "", $1.id) }
            return try threads.dropFirst(offset).prefix(limit).map { t in
                try Self.summary(db, threadId: t.id, visible: levels)
            }
        }
    }

    /// A thread's summary built from the visible messages only: ids oldest first, the owners of those
    /// messages, their investor links, their dates, and the subject of the earliest one whose subject
    /// the viewer may see.
    static func summary(_ db: Database, threadId: Int64, visible: [Int64: SharingLevel]) throws -> CaptureDatabase.ThreadSummary {
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT id, COALESCE(message_id, canonical_key) AS mid, subject, sent_at FROM emails WHERE thread_id = ? ORDER BY sent_at, id",
            arguments: [threadId]
        ).filter { visible[$0["id"]] != nil }
        let ids = rows.map { (r: Row) -> Int64 in r["id"] }
        let messageIds = rows.map { (r: Row) -> String in
            let s: String = r["mid"]
            return s.hasPrefix("<") ? String(s.dropFirst().dropLast()) : s
        }
        let marks = databaseQuestionMarks(count: ids.count)
        let mailboxes = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT a.email FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id WHERE s.email_id IN (\(marks)) AND s.deleted_at IS NULL ORDER BY a.email
                """, arguments: StatementArguments(ids))
        var best: [String: CaptureDatabase.ThreadSummary.Link] = [:]
        for r in try Row.fetchAll(
            db, sql: "SELECT investor_id, rule, confidence FROM email_investor_links WHERE email_id IN (\(marks)) ORDER BY email_id",
            arguments: StatementArguments(ids))
        {
            let link = CaptureDatabase.ThreadSummary.Link(investorId: r["investor_id"], rule: r["rule"], confidence: r["confidence"])
            if let current = best[link.investorId], current.confidence >= link.confidence { continue }
            best[link.investorId] = link
        }
        let links = best.values.sorted { $0.investorId < $1.investorId }
        let subject = rows.first { visible[$0["id"]].map { $0 >= .subject } ?? false && ($0["subject"] as String?) != nil }
            .flatMap { $0["subject"] as String? }
        let dates = rows.compactMap { $0["sent_at"] as String? }
        return CaptureDatabase.ThreadSummary(
            id: threadId, subject: subject, firstAt: dates.min(), lastAt: dates.max(), messageIds: messageIds, mailboxes: mailboxes,
            investorIds: links.map(\.investorId), investorLinks: links)
    }

    /// One thread and its visible messages, each masked to its level; nil when nothing in it is visible
    /// (exactly as for a thread that does not exist). Reading another teammate's message at subject or
    /// full level is written to the access log, one entry per owner.
    public func thread(
        id: Int64, for viewer: Viewer, surface: ReadSurface
    ) async throws
        -> (thread: CaptureDatabase.ThreadSummary, messages: [CaptureDatabase.ThreadMessage])?
    {
        let now = CaptureDatabase.isoString(clock.now())
        return try await database.writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM email_threads WHERE id = ?", arguments: [id]) == true else { return nil }
            let levels = try levels(db, viewer, thread: id)
            guard !levels.isEmpty else { return nil }
            let summary: CaptureDatabase.ThreadSummary
            if viewer == .operator {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM email_threads WHERE id = ?", arguments: [id]) else { return nil }
                summary = try CaptureDatabase.summary(db, row)
            } else {
                summary = try Self.summary(db, threadId: id, visible: levels)
            }
            let messages = try CaptureDatabase.messages(db, threadId: id, levels: levels, workspaceDomain: policy.workspaceDomain)
            if let me = viewer.email {
                for m in messages
                where m.visibility >= .subject && !m.owners.contains(where: { $0.caseInsensitiveCompare(me) == .orderedSame }) {
                    try Self.logRead(
                        db, viewer: me, owners: m.owners, emailId: m.id, messageId: try Self.listedId(db, m), level: m.visibility,
                        surface: surface, at: now)
                }
            }
            return (summary, messages)
        }
    }

    /// How a message is named in thread objects and the access log: its Message-ID without brackets, else
    /// its canonical key.
    static func listedId(_ db: Database, _ m: CaptureDatabase.ThreadMessage) throws -> String {
        if let id = m.messageId { return bareMessageId(id) }
        return try String.fetchOne(db, sql: "SELECT canonical_key FROM emails WHERE id = ?", arguments: [m.id]) ?? ""
    }

    /// `listedId` of an email by its row id.
    static func listedId(_ db: Database, emailId: Int64) throws -> String {
        bareMessageId(
            try String.fetchOne(db, sql: "SELECT COALESCE(message_id, canonical_key) FROM emails WHERE id = ?", arguments: [emailId])
                ?? "")
    }

    /// A read of another teammate's message at subject or full level: one access-log entry per owner.
    static func logRead(
        _ db: Database, viewer: String, owners: [String], emailId: Int64, messageId: String, level: SharingLevel, surface: ReadSurface,
        at: String
    ) throws {
        for owner in owners {
            try db.execute(
                sql: "INSERT INTO email_access_log (viewer, owner, email_id, message_id, level, surface, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [viewer, owner, emailId, messageId, level.rawValue, surface.rawValue, at])
        }
    }

    /// An attachment the viewer may download (its message visible in full), or nil.
    public func attachment(id: Int64, for viewer: Viewer) async throws -> CaptureDatabase.AttachmentRow? {
        guard let row = try await database.attachmentRow(id: id) else { return nil }
        if viewer == .operator { return row }
        let level = try await database.writer.read { db -> SharingLevel? in
            guard let emailId = try Int64.fetchOne(db, sql: "SELECT email_id FROM email_attachments WHERE id = ?", arguments: [id]) else {
                return nil
            }
            return try levels(db, viewer, thread: row.threadId)[emailId]
        }
        return level == .full ? row : nil
    }

    // MARK: - Interactions (metadata only)

    /// Every captured, not-deleted message visible to `viewer` (at any level), as the relationship figures
    /// see it: participants, holders, time and reply links; never subject or body. A message's time is its
    /// Date header, else the earliest internalDate among its mailbox copies.
    public func interactions(for viewer: Viewer) async throws -> [InteractionMessage] {
        try await interactionsAndNames(for: viewer).messages
    }

    /// `interactions(for:)` and, from the same visible messages, the display name last seen for each address.
    public func interactionsAndNames(for viewer: Viewer) async throws -> (messages: [InteractionMessage], names: [String: String]) {
        try await database.writer.read { db in
            let levels = try levels(db, viewer, thread: nil)
            guard !levels.isEmpty else { return ([], [:]) }
            return try Self.interactionMessages(db, only: nil, keep: { levels[$0] != nil })
        }
    }

    /// A who-knows party: one address, or a domain with its subdomains.
    public enum Party: Sendable, Equatable {
        case address(String)
        case domain(String)
    }

    /// The display name last seen for each of `addresses` among the emails `viewer` may see, in the order
    /// `interactionMessages` keeps (the highest email id, then role, then position): what who-knows and
    /// suggestions show next to an address. Read newest first through the participants' (address, email)
    /// index, a few rows per address: the operator takes the first; a teammate's candidates are graded
    /// for visibility together, and only addresses with none visible read further.
    static let lastNamesSQL = """
        SELECT email_id, name FROM email_participants
        WHERE address_canonical = ? AND name IS NOT NULL AND name <> ''
        ORDER BY email_id DESC, role DESC, position DESC LIMIT ? OFFSET ?
        """

    func lastNames(_ db: Database, of addresses: [String], viewer: Viewer) throws -> [String: String] {
        var out: [String: String] = [:]
        var pending = addresses
        var offset = 0, width = viewer.email == nil ? 1 : 4
        let statement = try db.cachedStatement(sql: Self.lastNamesSQL)
        while !pending.isEmpty {
            var candidates: [String: [(id: Int64, name: String)]] = [:]
            for a in pending {
                candidates[a] = try Row.fetchAll(statement, arguments: [a, width, offset]).map { ($0[0], $0[1]) }
            }
            var visible: Set<Int64>?
            if let me = viewer.email {
                let ids = Set(candidates.values.joined().map(\.id))
                visible = Set(
                    try Int64.fetchAll(
                        db, sql: Self.visibleSQL(.ids) + " SELECT email_id FROM visible WHERE lvl > 0",
                        arguments: StatementArguments(arguments(me, ids: Self.jsonArray(ids)))))
            }
            var next: [String] = []
            for a in pending {
                let list = candidates[a]!
                if let hit = list.first(where: { visible?.contains($0.id) ?? true }) {
                    out[a] = hit.name
                } else if list.count == width {
                    next.append(a)
                }
            }
            pending = next
            offset += width
            width *= 2
        }
        return out
    }

    static func jsonArray(_ items: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(items)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// Ids as a JSON array of numbers (for `json_each`).
    static func jsonArray(_ ids: some Sequence<Int64>) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    /// Captured messages as the relationship figures see them (holders: the mailboxes whose copies are not
    /// deleted; a message no mailbox holds is left out), ordered by id, and the display name last seen for
    /// each address among them. `only`: an SQL subquery of the email ids to read (else every email), with
    /// `arguments` (bound for each of the three reads); `keep`: which of those to use. The relationship index reads queued messages through the same code.
    static func interactionMessages(
        _ db: Database, only: String?, arguments: StatementArguments = [], keep: (Int64) -> Bool
    ) throws -> (messages: [InteractionMessage], names: [String: String]) {
        let sightingScope = only.map { "AND s.email_id IN (\($0))" } ?? ""
        let participantScope = only.map { "AND email_id IN (\($0))" } ?? ""
        let emailScope = only.map { "WHERE id IN (\($0))" } ?? ""
        var holders: [Int64: [String]] = [:]
        var firstInternal: [Int64: Int64] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT s.email_id, lower(a.email), s.internal_date FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id
                WHERE s.deleted_at IS NULL \(sightingScope) ORDER BY s.email_id, lower(a.email)
                """, arguments: arguments)
        {
            let id: Int64 = r[0]
            guard keep(id) else { continue }
            holders[id, default: []].append(r[1])
            if let d: Int64 = r[2] { firstInternal[id] = min(firstInternal[id] ?? d, d) }
        }
        var parts: [Int64: [(role: String, address: String)]] = [:]
        var names: [String: String] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT email_id, role, address_canonical, name FROM email_participants WHERE address_canonical IS NOT NULL
                \(participantScope) ORDER BY email_id, role, position
                """, arguments: arguments
        ) {
            let id: Int64 = r[0]
            guard keep(id) else { continue }
            if let name: String = r[3], !name.isEmpty { names[r[2]] = name }
            guard holders[id] != nil else { continue }
            parts[id, default: []].append((r[1], r[2]))
        }
        let iso = Date.ISO8601FormatStyle(timeZone: .gmt)
        var out: [InteractionMessage] = []
        for r in try Row.fetchAll(
            db, sql: "SELECT id, thread_id, sent_at, message_id, in_reply_to, reference_ids FROM emails \(emailScope) ORDER BY id",
            arguments: arguments)
        {
            let id: Int64 = r[0]
            guard let owners = holders[id] else { continue }
            let sent: String? = r[2]
            guard
                let at = sent.flatMap({ try? iso.parse($0) })
                    ?? firstInternal[id].map({ Date(timeIntervalSince1970: Double($0) / 1000) })
            else { continue }
            let p = parts[id] ?? []
            let refs = (r[5] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            out.append(
                InteractionMessage(
                    id: id, threadId: r[1], at: at, messageId: MessageIdentity.normalizedMessageID(r[3]),
                    inReplyTo: MessageIdentity.normalizedMessageID(r[4]), references: refs,
                    from: p.first { $0.role == "from" }?.address, to: p.filter { $0.role == "to" }.map(\.address),
                    cc: p.filter { $0.role == "cc" }.map(\.address), bcc: p.filter { $0.role == "bcc" }.map(\.address), holders: owners)
            )
        }
        return (out, names)
    }

    // MARK: - Settings

    /// A teammate's sharing level: theirs, or the firm default; never above the ceiling.
    public func sharingLevel(of teammate: String) async throws -> SharingLevel {
        let stored = try await database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT level FROM email_sharing_levels WHERE teammate = ?", arguments: [teammate])
        }
        return min(stored.flatMap(SharingLevel.init(rawValue:)) ?? policy.defaultLevel, policy.ceiling)
    }

    public enum SettingError: Error, Equatable, CustomStringConvertible {
        case aboveCeiling(SharingLevel, ceiling: SharingLevel)
        case notAnAddress(String)
        case notADomain(String)
        public var description: String {
            switch self {
            case .aboveCeiling(let l, let c): return "\(l.rawValue) is above the firm's ceiling (\(c.rawValue), CRM_GMAIL_MAX_SHARING)"
            case .notAnAddress(let a): return "\"\(a)\" is not an email address"
            case .notADomain(let d): return "\"\(d)\" is not a domain"
            }
        }
    }

    /// Sets a teammate's sharing level (refused above the firm ceiling).
    public func setSharingLevel(_ level: SharingLevel, for teammate: String) async throws {
        guard level <= policy.ceiling else { throw SettingError.aboveCeiling(level, ceiling: policy.ceiling) }
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_sharing_levels (teammate, level) VALUES (?, ?)
                    ON CONFLICT(teammate) DO UPDATE SET level = excluded.level, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [teammate, level.rawValue])
        }
    }

    /// Marks a thread for the owner's own messages in it; false when the owner holds none of its messages.
    @discardableResult
    public func markThread(_ threadId: Int64, owner: String, mode: PrivacyMode) async throws -> Bool {
        try await database.writer.write { db in
            let holds =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT 1 FROM emails e JOIN email_sightings s ON s.email_id = e.id JOIN email_accounts a ON a.id = s.account_id
                        WHERE e.thread_id = ? AND a.email = ? COLLATE NOCASE LIMIT 1
                        """, arguments: [threadId, owner]) == true
            guard holds else { return false }
            try Self.mark(db, owner: owner, kind: "thread", value: String(threadId), mode: mode)
            return true
        }
    }

    /// Marks an external address (normalised as the matcher does) for all the owner's mail with it.
    public func markAddress(_ address: String, owner: String, mode: PrivacyMode) async throws {
        guard let canonical = AddressNormalizer.canonical(address) else { throw SettingError.notAnAddress(address) }
        try await database.writer.write { db in try Self.mark(db, owner: owner, kind: "address", value: canonical, mode: mode) }
    }

    /// Marks a domain (and its subdomains) for all the owner's mail with anyone at it.
    public func markDomain(_ domain: String, owner: String, mode: PrivacyMode) async throws {
        guard let value = AddressNormalizer.validDomain(domain) else { throw SettingError.notADomain(domain) }
        try await database.writer.write { db in try Self.mark(db, owner: owner, kind: "domain", value: value, mode: mode) }
    }

    /// A teammate's own privacy mark: on a thread (its id), an external address, or a domain.
    public struct PrivacyMark: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable { case thread, address, domain }
        public var kind: Kind
        public var value: String
        public var mode: PrivacyMode
    }

    /// The marks `owner` has set (never anyone else's), by kind then value.
    public func marks(owner: String) async throws -> [PrivacyMark] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT kind, value, mode FROM email_privacy_marks WHERE teammate = ? COLLATE NOCASE ORDER BY kind, value",
                arguments: [owner]
            ).compactMap { r in
                guard let kind = PrivacyMark.Kind(rawValue: r["kind"]), let mode = PrivacyMode(rawValue: r["mode"]) else { return nil }
                return PrivacyMark(kind: kind, value: r["value"], mode: mode)
            }
        }
    }

    static func mark(_ db: Database, owner: String, kind: String, value: String, mode: PrivacyMode) throws {
        if mode == .default {
            try db.execute(
                sql: "DELETE FROM email_privacy_marks WHERE teammate = ? AND kind = ? AND value = ?", arguments: [owner, kind, value])
        } else {
            try db.execute(
                sql: """
                    INSERT INTO email_privacy_marks (teammate, kind, value, mode) VALUES (?, ?, ?, ?)
                    ON CONFLICT(teammate, kind, value) DO UPDATE SET mode = excluded.mode, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [owner, kind, value, mode.rawValue])
        }
    }

    // MARK: - Access log

    /// Access log entries, oldest first, filtered by viewer and/or owner.
    public func accessLog(viewer: String? = nil, owner: String? = nil) async throws -> [AccessLogEntry] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT viewer, owner, message_id, level, surface, at FROM email_access_log
                    WHERE (:viewer IS NULL OR viewer = :viewer COLLATE NOCASE) AND (:owner IS NULL OR owner = :owner COLLATE NOCASE) ORDER BY id
                    """, arguments: StatementArguments(["viewer": viewer, "owner": owner])
            ).map {
                AccessLogEntry(
                    viewer: $0["viewer"], owner: $0["owner"], messageId: $0["message_id"] ?? "",
                    level: SharingLevel(rawValue: $0["level"]) ?? .subject,
                    surface: ReadSurface(rawValue: $0["surface"]) ?? .cli, at: $0["at"])
            }
        }
    }
}
