import Foundation
import GRDB
import Synchronization

/// The full-text index (SQLite FTS5, BM25), kept in its own SQLite file beside the capture database
/// (`<database>-search`) and written by its own connection, so tokenising runs beside the store path
/// instead of inside its write transaction (migration 0014 says why).
///
/// The capture file holds a queue (`email_search_queue`): triggers append an email's id whenever a
/// sighting of it is added, deleted, undeleted or removed, or the email itself is removed. The indexer
/// reads the queue in order and reconciles each queued email with the capture file: an email is in the
/// index exactly when some mailbox still holds it. The queue position it has applied is stored in the
/// index file in the same transaction as the index changes, so after a crash on either side it resumes
/// where its last commit left off, and reconciling an email twice changes nothing. Queue rows it has
/// applied are deleted by the capture file's next store transaction (`store(prepared:)`).
///
/// The index keeps its own copy of each document's text (an FTS5 table with content): it cannot read
/// the text back from another file for snippets and deletions. When the index file is missing or new,
/// was built for another capture file (the random `search_index_owner` of migration 0016 differs), or
/// has applied more of the queue than the capture file has ever written (a restored backup), it is
/// rebuilt from every email, in steps, resumably.
///
/// Readers see the index through the capture connections, which attach the index file as `search`:
/// `email_search` names it in queries (ReadModel+Search.swift). `ReadModel.search` calls `catchUp()`
/// first, so an answer covers everything stored before the query; stores `nudge()` the indexer, which
/// then drains in the background while the next messages are fetched and stored.
final class SearchIndex: Sendable {
    /// The connection that writes the index. For a database file: a queue on the index file, with the
    /// capture file attached as `capture`. In memory: the capture database's own queue, with the index
    /// attached as `search`.
    let writer: any DatabaseWriter
    /// Schema names on `writer`: where the capture tables are, and where the index is.
    let capture: String
    let index: String
    /// Emails reconciled per transaction (one queue step or one rebuild step).
    let batch: Int
    private let progress = Mutex(Progress())

    struct Progress {
        /// The highest queue position a committed index transaction has applied.
        var applied: Int64 = 0
        /// The highest position the capture file's store path has already deleted up to.
        var cleaned: Int64 = 0
        var draining = false
        var again = false
    }

    /// 2: `search_state.owner` (migration 0016).
    static let schemaVersion = 2

    /// The index file that belongs to a capture database file.
    static func path(for databasePath: String) -> String { databasePath + "-search" }

    /// Opens (creating, 0600, WAL) the index file of the capture database at `databasePath`.
    init(databasePath: String, batch: Int = 500) throws {
        let path = Self.path(for: databasePath)
        _ = CaptureDatabase.createPrivateFile(path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "ATTACH DATABASE ? AS capture", arguments: [databasePath])
        }
        writer = try DatabaseQueue(path: path, configuration: config)
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) { chmod(path + suffix, 0o600) }
        capture = "capture"
        index = "main"
        self.batch = batch
        try writer.write { db in try Self.createSchema(db, in: "main") }
    }

    /// The index of an in-memory capture database: the same connection, index attached as `search`
    /// (`SearchIndex.attach`, run by `CaptureDatabase.init(inMemory:)`).
    init(inMemory queue: DatabaseQueue, batch: Int = 500) throws {
        writer = queue
        capture = "main"
        index = "search"
        self.batch = batch
        try writer.write { db in try Self.createSchema(db, in: "search") }
    }

    /// What the capture database's reader connections (in memory: its one connection) run when they open:
    /// the index attached as `search`, where queries find `email_search`.
    static func attach(_ db: Database, databasePath: String?) throws {
        try db.execute(sql: "ATTACH DATABASE ? AS search", arguments: [databasePath.map(path(for:)) ?? ":memory:"])
    }

    /// Creates the index's tables, or recreates them when the file holds another version of the schema
    /// (the index is derived data: the next step rebuilds it). FTS5 merges segments 16 at a time instead
    /// of 4: in an isolated test over 5,000 text-heavy documents in transactions of 100 that took a
    /// quarter off the indexing CPU (2.4 → 1.8 s), at the cost of more, smaller segments for queries
    /// (BENCHMARKS.md "Search" has the query medians with it).
    static func createSchema(_ db: Database, in s: String) throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA \(s).user_version") ?? 0
        if version == schemaVersion { return }
        try db.execute(sql: "DROP TABLE IF EXISTS \(s).email_search")
        try db.execute(sql: "DROP TABLE IF EXISTS \(s).search_state")
        try db.execute(
            sql: """
                CREATE TABLE \(s).search_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    applied_seq INTEGER NOT NULL,
                    rebuild_after INTEGER,
                    owner TEXT NOT NULL
                );
                CREATE VIRTUAL TABLE \(s).email_search USING fts5(
                    subject, body, sender, recipients, filenames,
                    tokenize = 'unicode61 remove_diacritics 2'
                );
                INSERT INTO \(s).email_search (email_search, rank) VALUES ('automerge', 16);
                PRAGMA \(s).user_version = \(schemaVersion);
                """)
    }

    // MARK: - Draining

    /// Applies every queued change (and finishes a rebuild), one transaction per step.
    func catchUp() async throws {
        while try await writer.writeWithoutTransaction({ db in try self.deferred(db) { try self.step(db) } }) {}
    }

    /// Starts draining in the background unless a drain is running (which then goes round once more).
    /// Errors are left for the next `catchUp()`, which a search or the end of a sync run awaits.
    func nudge() {
        let start = progress.withLock { p -> Bool in
            if p.draining {
                p.again = true
                return false
            }
            p.draining = true
            return true
        }
        guard start else { return }
        Task.detached(priority: .utility) { [self] in
            repeat {
                try? await catchUp()
            } while progress.withLock { p -> Bool in
                if p.again {
                    p.again = false
                    return true
                }
                p.draining = false
                return false
            }
        }
    }

    /// The queue position the capture file's store path may delete up to, when it has moved since the
    /// last time it asked.
    func queueToClean() -> Int64? {
        progress.withLock { p in
            guard p.applied > p.cleaned else { return nil }
            p.cleaned = p.applied
            return p.applied
        }
    }

    /// A DEFERRED transaction: it takes the write lock of the file it writes (the index) only, where
    /// BEGIN IMMEDIATE would also take the capture file's (attached, read here) and wait for the store path.
    func deferred<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        var result: T?
        try db.inTransaction(.deferred) {
            result = try body()
            return .commit
        }
        return result!
    }

    /// One step: a slice of a rebuild, or up to `batch` queue positions. True when more remains.
    func step(_ db: Database) throws -> Bool {
        let (c, s) = (capture, index)
        let top = try Int64.fetchOne(db, sql: "SELECT seq FROM \(c).sqlite_sequence WHERE name = 'email_search_queue'") ?? 0
        let owner = try String.fetchOne(db, sql: "SELECT value FROM \(c).email_meta WHERE key = 'search_index_owner'") ?? ""
        let state = try Row.fetchOne(db, sql: "SELECT applied_seq, rebuild_after, owner FROM \(s).search_state WHERE id = 1")
        var applied: Int64 = state?["applied_seq"] ?? 0
        var rebuildAfter: Int64? = state?["rebuild_after"]
        if state == nil || (state?["owner"] as String?) != owner || applied > top {
            // New, built for another capture file, or ahead of this one's queue (a copy from before).
            try db.execute(sql: "DELETE FROM \(s).email_search")
            try db.execute(
                sql: "INSERT OR REPLACE INTO \(s).search_state (id, applied_seq, rebuild_after, owner) VALUES (1, ?, 0, ?)",
                arguments: [top, owner])
            applied = top
            rebuildAfter = 0
        }
        let more: Bool
        if let after = rebuildAfter {
            // Every email, in id order; queue positions up to `applied` are covered by the rebuild.
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM \(c).emails WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, batch])
            try reconcile(db, ids)
            let done = ids.count < batch
            try db.execute(
                sql: "UPDATE \(s).search_state SET rebuild_after = ? WHERE id = 1", arguments: [done ? nil : ids.last])
            more = !done || top > applied
        } else if top > applied {
            let upTo = min(top, applied + Int64(batch))
            let ids = try Int64.fetchAll(
                db, sql: "SELECT DISTINCT email_id FROM \(c).email_search_queue WHERE seq > ? AND seq <= ?",
                arguments: [applied, upTo])
            try reconcile(db, ids)
            try db.execute(sql: "UPDATE \(s).search_state SET applied_seq = ? WHERE id = 1", arguments: [upTo])
            applied = upTo
            more = upTo < top
        } else {
            more = false
        }
        let committed = applied
        db.afterNextTransaction { _ in self.progress.withLock { $0.applied = max($0.applied, committed) } }
        return more
    }

    /// Makes the index agree with the capture file for `ids`: indexed exactly when a mailbox holds it.
    /// An email's indexed text never changes while it is held (subject, body and participants are
    /// written once; filenames are read when it is indexed), so an email already in the index stays.
    func reconcile(_ db: Database, _ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        let (c, s) = (capture, index)
        let list = ReadModel.jsonArray(ids)
        let held = Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT email_id FROM \(c).email_sightings
                    WHERE email_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL
                    """, arguments: [list]))
        let indexed = Set(
            try Int64.fetchAll(
                db, sql: "SELECT rowid FROM \(s).email_search WHERE rowid IN (SELECT value FROM json_each(?))", arguments: [list]))
        let remove = indexed.subtracting(held).sorted()
        let add = held.subtracting(indexed).sorted()
        if !remove.isEmpty {
            try db.execute(
                sql: "DELETE FROM \(s).email_search WHERE rowid IN (SELECT value FROM json_each(?))",
                arguments: [ReadModel.jsonArray(remove)])
        }
        if !add.isEmpty {
            try db.execute(
                sql: "INSERT INTO \(s).email_search (rowid, subject, body, sender, recipients, filenames) \(Self.source(c))",
                arguments: [ReadModel.jsonArray(add)])
        }
    }

    /// The indexed values of the emails in a JSON array of ids: subject, text body, sender and To/Cc
    /// recipients (names and addresses), attachment filenames.
    static func source(_ c: String) -> String {
        """
        SELECT e.id AS id, COALESCE(e.subject, '') AS subject, COALESCE(e.text_body, '') AS body,
            COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
                      FROM \(c).email_participants p WHERE p.email_id = e.id AND p.role = 'from'), '') AS sender,
            COALESCE((SELECT group_concat(COALESCE(p.name, '') || ' ' || p.address, ' ')
                      FROM \(c).email_participants p WHERE p.email_id = e.id AND p.role IN ('to', 'cc')), '') AS recipients,
            COALESCE((SELECT group_concat(f, ' ') FROM (SELECT DISTINCT a.filename AS f FROM \(c).email_attachments a
                      WHERE a.email_id = e.id AND a.filename IS NOT NULL AND a.filename <> '' ORDER BY a.filename)), '')
                AS filenames
        FROM \(c).emails e WHERE e.id IN (SELECT value FROM json_each(?))
        """
    }

    // MARK: - Checks (tests)

    /// FTS5's integrity check of the index, then the index compared with the capture file: the same
    /// emails (those some mailbox holds) with the same values. Returns the number of documents.
    func check() throws -> Int {
        try writer.writeWithoutTransaction { db in try self.deferred(db) { try self.checkInTransaction(db) } }
    }

    private func checkInTransaction(_ db: Database) throws -> Int {
        let (c, s) = (capture, index)
        try db.execute(sql: "INSERT INTO \(s).email_search (email_search, rank) VALUES ('integrity-check', 1)")
        let indexed = try Int64.fetchAll(db, sql: "SELECT rowid FROM \(s).email_search ORDER BY rowid")
        let held = try Int64.fetchAll(
            db, sql: "SELECT DISTINCT email_id FROM \(c).email_sightings WHERE deleted_at IS NULL ORDER BY email_id")
        guard indexed == held else { throw SearchIndexMismatch(detail: "indexed \(indexed), held \(held)") }
        let list = ReadModel.jsonArray(held)
        let differing =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM (\(Self.source(c))) src
                    JOIN \(s).email_search x ON x.rowid = src.id
                    WHERE x.subject IS NOT src.subject OR x.body IS NOT src.body OR x.sender IS NOT src.sender
                       OR x.recipients IS NOT src.recipients OR x.filenames IS NOT src.filenames
                    """, arguments: [list]) ?? 0
        guard differing == 0 else { throw SearchIndexMismatch(detail: "\(differing) document(s) differ from their source") }
        return indexed.count
    }
}

struct SearchIndexMismatch: Error, CustomStringConvertible {
    var detail: String
    var description: String { "search index out of step with the capture file: \(detail)" }
}
