import Crypto
import Foundation
import CaptureParsing
import GRDB

/// Ledgered SQL migrations: files applied in name order, each inside its own transaction, recorded in
/// `email_schema_migrations` with a SHA-256 checksum. Re-running is a no-op; an applied migration whose
/// file has changed is refused.
public struct MigrationRunner: Sendable {
    public struct Migration: Sendable, Equatable {
        public var name: String
        public var sql: String
        public var checksum: String { sha256Hex(Data(sql.utf8)) }
        public init(name: String, sql: String) {
            self.name = name
            self.sql = sql
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case changedAfterApply(name: String)
        case missingResources
        public var description: String {
            switch self {
            case .changedAfterApply(let n):
                return "migration \(n) was applied with different contents; migrations are frozen once applied (add a new one instead)"
            case .missingResources: return "the bundled SQL migrations were not found"
            }
        }
    }

    public static let ledgerTable = "email_schema_migrations"
    public var migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.name < $1.name }
    }

    /// Whether these migrations keep a full-text index: the search queue of migration 0014 (the index
    /// itself lives in its own file, `SearchIndex`).
    var indexesSearch: Bool { migrations.contains { $0.name.hasPrefix("0014_") } }

    /// The migrations shipped in Sources/GmailCapture/Migrations.
    public static func bundled() throws -> MigrationRunner {
        guard let dir = Bundle.module.url(forResource: "Migrations", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { throw Failure.missingResources }
        let list = try files.filter { $0.hasSuffix(".sql") }.map { name in
            Migration(name: String(name.dropLast(4)), sql: try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))
        }
        if list.isEmpty { throw Failure.missingResources }
        return MigrationRunner(migrations: list)
    }

    /// Applies what is pending; returns the names applied now.
    @discardableResult
    func migrate(_ writer: any DatabaseWriter) throws -> [String] {
        try writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS \(Self.ledgerTable) (
                        name TEXT PRIMARY KEY, checksum TEXT NOT NULL,
                        applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))
                    """)
        }
        var applied: [String] = []
        for m in migrations {
            try writer.write { db in
                if let existing = try String.fetchOne(
                    db, sql: "SELECT checksum FROM \(Self.ledgerTable) WHERE name = ?", arguments: [m.name])
                {
                    if existing != m.checksum { throw Failure.changedAfterApply(name: m.name) }
                    return
                }
                try db.execute(sql: m.sql)
                try db.execute(sql: "INSERT INTO \(Self.ledgerTable) (name, checksum) VALUES (?, ?)", arguments: [m.name, m.checksum])
                applied.append(m.name)
            }
        }
        return applied
    }

    /// Tables this integration owns (dropped by `drop`): every `email_*` table and `emails`.
    static func emailTables(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql:
                "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'emails' OR name LIKE 'email\\_%' ESCAPE '\\' OR name LIKE 'emails\\_%' ESCAPE '\\')"
        )
    }

    /// Removes every email table and the ledger (the drop script the seed left out). The CRM's own
    /// tables (`users`, `investors` and anything else) are untouched.
    static func drop(_ writer: any DatabaseWriter) throws -> [String] {
        try writer.writeWithoutTransaction { db in
            // Foreign keys off for the drop (the pragma only works outside a transaction): the email tables
            // reference each other, and they all go.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            var dropped: [String] = []
            try db.inTransaction {
                // Views first (they name the tables), then one table at a time, listing again after each:
                // dropping the full-text index drops its shadow tables with it.
                for v in try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE 'email\\_%' ESCAPE '\\'")
                {
                    try db.execute(sql: "DROP VIEW IF EXISTS \"\(v)\"")
                }
                let before = try emailTables(db)
                while let t = try emailTables(db).first { try db.execute(sql: "DROP TABLE \"\(t)\"") }
                // Every table that went, shadow tables included.
                dropped = before.sorted()
                return .commit
            }
            return dropped
        }
    }
}
