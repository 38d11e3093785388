public import Foundation
import MIMEKit
public import CaptureParsing
import GRDB
#if canImport(Glibc)
    import Glibc
#endif

/// The only type that touches SQL. Each method is named by intent and runs as one transaction;
/// arguments are always bound, never interpolated.
///
/// ```swift
/// let db = try CaptureDatabase(path: config.databasePath)      // WAL pool, migrations applied
/// let account = try await db.upsertAccount(email: "alice@firm.example", userId: "u1", authMethod: "dwd")
/// let stored = try await db.store(parsed, account: account, links: index.links(for: parsed.participantAddresses))
/// ```
public final class CaptureDatabase: Sendable {
    /// The one connection pool. Internal: only Storage/ imports GRDB, so only Storage/ can run SQL on
    /// it; everything else uses the intent-named methods (tests: the `Testing` SPI).
    let writer: any DatabaseWriter
    /// The full-text index, in its own file (`SearchIndex`, migration 0014). Always, except for a
    /// database opened with a runner that leaves the search migrations out (`bench backfill
    /// --without-search-index` measures the store without it).
    let searchIndex: SearchIndex?

    /// Opens (creating) the SQLite file in WAL mode and applies pending migrations. A file created here
    /// is created 0600 whatever the umask, and so are its -wal and -shm files (SQLite gives them the
    /// database file's mode; they are also set explicitly).
    public convenience init(path: String, migrations: MigrationRunner? = nil) throws {
        try self.init(path: path, migrations: migrations, searchBatch: 500)
    }

    /// `searchBatch`: emails the full-text indexer reconciles per transaction (tests make it small to
    /// step through rebuilds and queues).
    @_spi(Testing) public init(path: String, migrations: MigrationRunner?, searchBatch: Int) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let created = Self.createPrivateFile(path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        // WAL with synchronous=NORMAL: a commit is durable against a process crash, and a power loss can
        // only roll back the newest transactions as a whole. Cursors live in the same file as the mail
        // they cover, so a rolled-back commit rolls back its cursor too and the next sync refetches it.
        // No mmap for readers: it took 10-20% off search medians at 104,598 emails but every mapped page
        // counts in the process's RSS (234 MB instead of 88 MB for `threads --as`; BENCHMARKS.md "Search").
        let runner = try migrations ?? MigrationRunner.bundled()
        // The index file exists (with its tables) before any capture connection attaches it.
        let search = runner.indexesSearch ? try SearchIndex(databasePath: path, batch: searchBatch) : nil
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Readers only: the pool's writer begins IMMEDIATE transactions, which would take the write
            // lock of every attached file and so serialise the store path with the indexer again.
            if search != nil, db.configuration.readonly { try SearchIndex.attach(db, databasePath: path) }
        }
        writer = try DatabasePool(path: path, configuration: config)
        if created || Self.isPrivate(path) {
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) { chmod(path + suffix, 0o600) }
        }
        try runner.migrate(writer)
        searchIndex = search
    }

    /// Creates an empty file with mode 0600 when none exists (an empty file is a valid new SQLite
    /// database); true when it did.
    static func createPrivateFile(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        fchmod(fd, 0o600)
        close(fd)
        return true
    }

    static func isPrivate(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & 0o077 == 0
    }

    /// An in-memory database through the same initialisation (tests).
    public init(inMemory migrations: MigrationRunner? = nil) throws {
        let runner = try migrations ?? MigrationRunner.bundled()
        var config = Configuration()
        if runner.indexesSearch { config.prepareDatabase { db in try SearchIndex.attach(db, databasePath: nil) } }
        let queue = try DatabaseQueue(configuration: config)
        writer = queue
        try runner.migrate(writer)
        searchIndex = runner.indexesSearch ? try SearchIndex(inMemory: queue) : nil
    }

    // MARK: - Accounts

    public struct Account: Sendable, Equatable {
        public var id: Int64
        public var email: String
        public var userId: String?
        public var authMethod: String
        public var enabled: Bool
        public var syncState: SyncState
        public var stateReason: String?
        public var historyCursor: String?
        public var backfillPageToken: String?
        public var backfillComplete: Bool
        public var lastSuccessAt: String?
        public var lastInternalDate: Int64?

        init(row: Row) {
            id = row["id"]
            email = row["email"]
            userId = row["user_id"]
            authMethod = row["auth_method"]
            enabled = row["enabled"]
            syncState = row["sync_state"]
            stateReason = row["state_reason"]
            historyCursor = row["history_cursor"]
            backfillPageToken = row["backfill_page_token"]
            backfillComplete = row["backfill_complete"]
            lastSuccessAt = row["last_success_at"]
            lastInternalDate = row["last_internal_date"]
        }
    }

    /// Enrolls a mailbox (idempotent by address); returns it.
    @discardableResult
    /// - Parameter authMethod: nil keeps an existing account's method (new accounts default to `dwd`).
    public func upsertAccount(email: String, userId: String?, authMethod: String? = nil) async throws -> Account {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_accounts (email, user_id, auth_method) VALUES (?1, ?2, COALESCE(?3, 'dwd'))
                    ON CONFLICT(email) DO UPDATE SET user_id = COALESCE(excluded.user_id, email_accounts.user_id),
                        auth_method = COALESCE(?3, email_accounts.auth_method),
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [email, userId, authMethod])
            return try Account(row: Row.fetchOne(db, sql: "SELECT * FROM email_accounts WHERE email = ?", arguments: [email])!)
        }
    }

    public func account(email: String) async throws -> Account? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM email_accounts WHERE email = ?", arguments: [email]).map(Account.init)
        }
    }

    public func accounts() async throws -> [Account] {
        try await writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM email_accounts ORDER BY id").map(Account.init) }
    }

    // MARK: - Storing a message

    public struct Stored: Sendable, Equatable {
        public var emailId: Int64
        public var sightingId: Int64
        public var threadId: Int64
        /// False when another mailbox had already stored this email (a second sighting).
        public var newEmail: Bool
    }

    /// Stores one message seen by one mailbox, in one transaction: the canonical email (once, whoever
    /// received it), the sighting, participants, thread membership (merging threads the message joins),
    /// attachment stubs and investor links; a failed-item ledger entry for it is cleared in the same commit.
    public func store(_ m: ParsedMessage, account: Account, links: [InvestorLink]) async throws -> Stored {
        let row = Prepared(m, account: account, links: links)
        let cleanUpTo = searchIndex?.queueToClean()
        defer { searchIndex?.nudge() }
        return try await writer.write { db in
            try Self.cleanSearchQueue(db, upTo: cleanUpTo)
            return try Self.insert(db, row)
        }
    }

    /// Stores several messages of one mailbox in one transaction (the backfill's chunks): each message
    /// is written exactly as `store` writes it. If the transaction fails, every message is retried in its
    /// own transaction, so one bad message cannot hold back the rest; the first failure is then thrown
    /// after all the others are stored.
    public func store(batch: [(message: ParsedMessage, links: [InvestorLink])], account: Account) async throws -> [Stored] {
        try await store(prepared: batch.map { Prepared($0.message, account: account, links: $0.links) })
    }

    /// `store(batch:)` for rows already prepared (the sync engine prepares them in its fetch tasks, off
    /// the writer's path).
    func store(prepared rows: [Prepared]) async throws -> [Stored] {
        let cleanUpTo = searchIndex?.queueToClean()
        defer { searchIndex?.nudge() }
        do {
            return try await writer.write { db in
                try Self.cleanSearchQueue(db, upTo: cleanUpTo)
                return try rows.map { try Self.insert(db, $0) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            var out: [Stored] = []
            var firstFailure: (any Error)?
            for row in rows {
                do { out.append(try await writer.write { db in try Self.insert(db, row) }) } catch {
                    firstFailure = firstFailure ?? error
                }
            }
            if let firstFailure { throw firstFailure }
            return out
        }
    }

    /// What `insert` needs, computed outside the writer's queue (by the sync engine, ahead of storing).
    struct Prepared: Sendable {
        var m: ParsedMessage
        var account: Account
        var links: [InvestorLink]
        var key: String
        var fingerprint: String
        var threadInput: ThreadInput
        var direction: String
        var sentAt: String?
        var problems: String
        var labels: String
        /// The References header, normalised, as a JSON array.
        var references: String

        init(_ m: ParsedMessage, account: Account, links: [InvestorLink]) {
            self.m = m
            self.account = account
            self.links = links
            key = MessageIdentity.canonicalKey(m)
            threadInput = ThreadInput(m, mailbox: account.email)
            sentAt = m.date.map(CaptureDatabase.iso)
            fingerprint = MessageIdentity.fingerprint(
                fromAddress: m.from?.address, sentAt: sentAt, subject: m.subject, textBody: m.textBody,
                attachments: m.attachments.map { ($0.partId, $0.size) })
            direction =
                m.labelIds.contains("SENT")
                    || AddressNormalizer.canonical(m.from?.address ?? "") == AddressNormalizer.canonical(account.email)
                ? "sent" : "received"
            problems = String(decoding: (try? JSONEncoder().encode(m.problems)) ?? Data("[]".utf8), as: UTF8.self)
            labels = String(decoding: (try? JSONEncoder().encode(m.labelIds)) ?? Data("[]".utf8), as: UTF8.self)
            references = String(
                decoding: (try? JSONEncoder().encode(m.references.compactMap(MessageIdentity.normalizedMessageID))) ?? Data("[]".utf8),
                as: UTF8.self)
        }
    }

    /// The email a sighting belongs to: the one with its canonical key when that email's fingerprint
    /// agrees; otherwise (a reused Message-ID with different content) a separate email keyed by the
    /// fingerprint too, with the collision recorded among its problems. Returns its key and problems.
    static func resolveIdentity(_ db: Database, _ row: Prepared) throws -> (key: String, problems: String) {
        guard
            let existing = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, fingerprint, from_address, sent_at, subject, text_body FROM emails WHERE canonical_key = ?
                        """), arguments: [row.key])
        else { return (row.key, row.problems) }
        var stored: String? = existing["fingerprint"]
        if stored == nil {
            // Stored before fingerprints existed: computed from its columns and the first sighting's parts.
            let id: Int64 = existing["id"]
            let parts = try Row.fetchAll(
                db,
                sql: """
                    SELECT part_id, size FROM email_attachments WHERE sighting_id = (SELECT MIN(id) FROM email_sightings WHERE email_id = ?)
                    """, arguments: [id]
            ).map { (partId: $0["part_id"] as String, size: $0["size"] as Int) }
            let fp = MessageIdentity.fingerprint(
                fromAddress: existing["from_address"], sentAt: existing["sent_at"], subject: existing["subject"],
                textBody: existing["text_body"], attachments: parts)
            try db.execute(sql: "UPDATE emails SET fingerprint = ? WHERE id = ?", arguments: [fp, id])
            stored = fp
        }
        if stored == row.fingerprint { return (row.key, row.problems) }
        var problems = (try? JSONDecoder().decode([String].self, from: Data(row.problems.utf8))) ?? []
        problems.append("Message-ID \(row.m.messageId ?? "") is already used by a different captured message; stored as a separate email")
        let json = String(decoding: (try? JSONEncoder().encode(problems)) ?? Data("[]".utf8), as: UTF8.self)
        return (row.key + "#" + row.fingerprint.prefix(32), json)
    }

    static func insert(_ db: Database, _ row: Prepared) throws -> Stored {
        let (m, account, links, direction, sentAt, labels) = (row.m, row.account, row.links, row.direction, row.sentAt, row.labels)
        let (key, problems) = try resolveIdentity(db, row)
        var input = row.threadInput
        input.canonicalKey = key
        let threadKeys = input.keys()
        try db.cachedStatement(
            sql: """
                INSERT INTO emails (canonical_key, message_id, in_reply_to, subject, from_name, from_address, sent_at, text_body,
                                    html_body, snippet, has_calendar, size_estimate, problems, fingerprint, reference_ids)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(canonical_key) DO NOTHING
                """
        ).execute(arguments: [
            key, m.messageId, m.inReplyTo, m.subject, m.from?.name, m.from?.address, sentAt, m.textBody,
            m.htmlBody, m.snippet, m.hasCalendar, m.sizeEstimate, problems, row.fingerprint, row.references,
        ])
        let newEmail = db.changesCount > 0
        let emailId = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM emails WHERE canonical_key = ?"), arguments: [key])!
        if newEmail {
            let roles: [(String, [MailAddress])] = [
                ("from", m.from.map { [$0] } ?? []), ("to", m.to), ("cc", m.cc), ("bcc", m.bcc), ("reply_to", m.replyTo),
            ]
            for (role, list) in roles {
                for (n, a) in list.enumerated() {
                    try db.cachedStatement(
                        sql: """
                            INSERT OR IGNORE INTO email_participants (email_id, role, position, name, address, address_canonical)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [emailId, role, n, a.name, a.address, AddressNormalizer.canonical(a.address)])
                }
            }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO email_sightings (email_id, account_id, gmail_id, gmail_thread_id, label_ids, direction, internal_date, history_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(account_id, gmail_id) DO UPDATE SET label_ids = excluded.label_ids, history_id = excluded.history_id,
                    deleted_at = NULL
                """
        ).execute(arguments: [emailId, account.id, m.gmailId ?? key, m.threadId, labels, direction, m.internalDateMillis, m.historyId])
        let sightingId = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM email_sightings WHERE account_id = ? AND gmail_id = ?"),
            arguments: [account.id, m.gmailId ?? key])!
        let threadId = try Self.joinThread(db, emailId: emailId, keys: threadKeys, subject: m.subject, sentAt: sentAt)
        for a in m.attachments {
            try db.cachedStatement(
                sql: """
                    INSERT INTO email_attachments (email_id, sighting_id, part_id, filename, mime_type, size, content_id, inline, gmail_attachment_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(sighting_id, part_id) DO UPDATE SET gmail_attachment_id = excluded.gmail_attachment_id
                    """
            ).execute(arguments: [emailId, sightingId, a.partId, a.filename, a.mimeType, a.size, a.contentId, a.inline, a.attachmentId])
        }
        try Self.writeLinks(db, emailId: emailId, links: links)
        if let gmailId = m.gmailId {
            // Stored: an earlier failure of this item is settled in the same commit.
            try db.cachedStatement(sql: "DELETE FROM email_item_ledger WHERE account_id = ? AND gmail_id = ? AND state = ?")
                .execute(arguments: [account.id, gmailId, LedgerState.failed])
        }
        if let d = m.internalDateMillis {
            try db.cachedStatement(
                sql: "UPDATE email_accounts SET last_internal_date = MAX(COALESCE(last_internal_date, 0), ?) WHERE id = ?"
            ).execute(arguments: [d, account.id])
        }
        return Stored(emailId: emailId, sightingId: sightingId, threadId: threadId, newEmail: newEmail)
    }

    /// Deletes the search queue's rows the index has applied (SearchIndex), inside a store transaction
    /// that runs anyway.
    static func cleanSearchQueue(_ db: Database, upTo seq: Int64?) throws {
        guard let seq else { return }
        try db.cachedStatement(sql: "DELETE FROM email_search_queue WHERE seq <= ?").execute(arguments: [seq])
    }

    /// Brings the full-text index up to date with everything stored so far (`SearchIndex.catchUp`).
    public func catchUpSearchIndex() async throws {
        try await searchIndex?.catchUp()
    }

    static func writeLinks(_ db: Database, emailId: Int64, links: [InvestorLink]) throws {
        for l in links {
            try db.cachedStatement(
                sql: """
                    INSERT INTO email_investor_links (email_id, investor_id, rule, confidence, matched_address) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(email_id, investor_id) DO UPDATE SET rule = excluded.rule, confidence = excluded.confidence,
                        matched_address = excluded.matched_address
                    WHERE excluded.confidence > email_investor_links.confidence
                    """
            ).execute(arguments: [emailId, l.investorId, l.rule.rawValue, l.confidence, l.address])
        }
    }

    /// Union-find in SQL: the email joins every thread its keys already belong to; several are merged
    /// into the oldest (smallest id). Returns the thread id.
    static func joinThread(_ db: Database, emailId: Int64, keys: [String], subject: String?, sentAt: String?) throws -> Int64 {
        let placeholders = databaseQuestionMarks(count: keys.count)
        // Cached per key count (a handful of distinct statements): preparing runs GRDB's authorizer.
        var threads = try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT DISTINCT thread_id FROM email_thread_keys WHERE key IN (\(placeholders))"),
            arguments: StatementArguments(keys))
        if let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT thread_id FROM emails WHERE id = ?"), arguments: [emailId]) {
            threads.append(current)
        }
        threads = Array(Set(threads)).sorted()
        let keep: Int64
        if let first = threads.first {
            keep = first
            let others = Array(threads.dropFirst())
            if !others.isEmpty {
                let q = databaseQuestionMarks(count: others.count)
                try db.execute(
                    sql: "UPDATE emails SET thread_id = ? WHERE thread_id IN (\(q))", arguments: StatementArguments([keep] + others))
                try db.execute(
                    sql: "UPDATE email_thread_keys SET thread_id = ? WHERE thread_id IN (\(q))",
                    arguments: StatementArguments([keep] + others))
                try db.execute(sql: "DELETE FROM email_threads WHERE id IN (\(q))", arguments: StatementArguments(others))
                // Owners' marks on a merged thread now cover the thread it joined (a private mark wins a tie).
                let texts = others.map(String.init)
                try db.execute(
                    sql: """
                        UPDATE OR IGNORE email_privacy_marks SET value = ? WHERE kind = 'thread' AND value IN (\(q))
                        """, arguments: StatementArguments([String(keep)] + texts))
                try db.execute(
                    sql: """
                        UPDATE email_privacy_marks SET mode = 'private' WHERE kind = 'thread' AND value = ? AND teammate IN
                            (SELECT teammate FROM email_privacy_marks WHERE kind = 'thread' AND value IN (\(q)) AND mode = 'private')
                        """, arguments: StatementArguments([String(keep)] + texts))
                try db.execute(
                    sql: "DELETE FROM email_privacy_marks WHERE kind = 'thread' AND value IN (\(q))", arguments: StatementArguments(texts))
            }
        } else {
            try db.cachedStatement(sql: "INSERT INTO email_threads (subject, first_at, last_at) VALUES (?, ?, ?)").execute(arguments: [
                subject, sentAt, sentAt,
            ])
            keep = db.lastInsertedRowID
        }
        let insertKey = try db.cachedStatement(
            sql:
                "INSERT INTO email_thread_keys (key, thread_id) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET thread_id = excluded.thread_id"
        )
        for k in keys { try insertKey.execute(arguments: [k, keep]) }
        try db.cachedStatement(sql: "UPDATE emails SET thread_id = ? WHERE id = ?").execute(arguments: [keep, emailId])
        try db.cachedStatement(
            sql: """
                UPDATE email_threads SET
                    message_count = (SELECT COUNT(*) FROM emails WHERE thread_id = ?1),
                    first_at = (SELECT MIN(sent_at) FROM emails WHERE thread_id = ?1),
                    last_at = (SELECT MAX(sent_at) FROM emails WHERE thread_id = ?1),
                    subject = COALESCE((SELECT subject FROM emails WHERE thread_id = ?1 AND subject IS NOT NULL ORDER BY sent_at, id LIMIT 1), subject)
                WHERE id = ?1
                """
        ).execute(arguments: [keep])
        return keep
    }

    /// `2024-04-03T07:12:00Z`; the value-type format style (an `ISO8601DateFormatter` per call costs
    /// an ICU formatter each time and was a tenth of the backfill's CPU).
    static func iso(_ d: Date) -> String { d.formatted(isoStyle) }
    /// The timestamp form every stored and printed date uses (`2024-04-03T07:12:00Z`).
    public static func isoString(_ d: Date) -> String { iso(d) }
    static let isoStyle = Date.ISO8601FormatStyle(timeZone: .gmt)
    /// A stored timestamp (`isoString`'s form) as a date; nil when it is not one.
    public static func parseISO(_ text: String) -> Date? { try? isoStyle.parse(text) }

    // MARK: - Queries used by tests, the CLI and the routes

    public func counts() async throws -> (emails: Int, sightings: Int, threads: Int, links: Int) {
        try await writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM emails")!,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM email_sightings")!,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM email_threads")!,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM email_investor_links")!
            )
        }
    }

    /// Thread id -> canonical keys of its emails (sorted), for assertions.
    public func threadPartition() async throws -> [[String]] {
        try await writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT thread_id, canonical_key FROM emails ORDER BY canonical_key")
            var groups: [Int64: [String]] = [:]
            for r in rows { groups[r["thread_id"], default: []].append(r["canonical_key"]) }
            return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        }
    }
}

/// Refresh tokens in `email_oauth_tokens`, sealed (AES-GCM) before they get here.
extension CaptureDatabase: RefreshTokenStore {
    public func sealedRefreshToken(for mailbox: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT sealed_refresh_token FROM email_oauth_tokens WHERE account_email = ?", arguments: [mailbox])
        }
    }

    public func saveSealedRefreshToken(_ sealed: String, for mailbox: String) async throws {
        precondition(sealed.hasPrefix("v1:") || sealed.hasPrefix("v2:"), "only sealed tokens are stored")
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_oauth_tokens (account_email, sealed_refresh_token) VALUES (?, ?)
                    ON CONFLICT(account_email) DO UPDATE SET sealed_refresh_token = excluded.sealed_refresh_token,
                        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    """, arguments: [mailbox, sealed])
        }
    }
}
