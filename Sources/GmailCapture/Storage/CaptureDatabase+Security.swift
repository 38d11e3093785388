public import Foundation
import CaptureParsing
import GRDB

/// Single-use OAuth consent states.
extension CaptureDatabase: OAuthStateStore {
    public func recordOAuthState(nonce: String, userId: String, mailbox: String, expires: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM email_oauth_states WHERE expires_at < ?", arguments: [Self.iso(Date().addingTimeInterval(-86_400))])
            try db.execute(
                sql: "INSERT INTO email_oauth_states (nonce, user_id, mailbox, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [nonce, userId, mailbox, Self.iso(expires)])
        }
    }

    public func consumeOAuthState(nonce: String, userId: String, at: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE email_oauth_states SET used_at = ?1 WHERE nonce = ?2 AND user_id = ?3 AND used_at IS NULL AND expires_at > ?1
                    """, arguments: [Self.iso(at), nonce, userId])
            return db.changesCount == 1
        }
    }
}

/// Bearer API tokens: stored as SHA-256 hashes, expiring, revocable.
extension CaptureDatabase {
    public struct APIToken: Sendable, Equatable, Codable {
        /// The token's id (not the secret): what `users revoke` takes.
        public var id: String
        public var label: String?
        public var createdAt: String
        public var lastUsedAt: String?
        public var expiresAt: String?
        public var revoked: Bool

        enum CodingKeys: String, CodingKey { case id, label, createdAt, lastUsedAt, expiresAt, revoked }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(label, forKey: .label)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(lastUsedAt, forKey: .lastUsedAt)
            try c.encode(expiresAt, forKey: .expiresAt)
            try c.encode(revoked, forKey: .revoked)
        }
    }

    /// The token with this hash when it is neither revoked nor expired at `at`: rowid, user_id,
    /// last_used_at, expires_at.
    static func liveAPIToken(_ db: Database, sha256: String, at stamp: String) throws -> Row? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT rowid, user_id, last_used_at, expires_at FROM email_api_tokens
                WHERE token_sha256 = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                """, arguments: [sha256, stamp])
    }

    /// Stores a token's hash; returns its id.
    public func insertAPIToken(sha256: String, userId: String, label: String?, createdAt: Date, expiresAt: Date) async throws -> String {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO email_api_tokens (token_sha256, user_id, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [sha256, userId, label, Self.iso(createdAt), Self.iso(expiresAt)])
            return String(db.lastInsertedRowID)
        }
    }

    /// The user a token hash belongs to when it is neither revoked nor expired at `now`; records the use.
    public func apiTokenUser(sha256: String, now: Date) async throws -> String? {
        try await writer.write { db in
            let stamp = Self.iso(now)
            guard let row = try Self.liveAPIToken(db, sha256: sha256, at: stamp) else { return nil }
            // One write a minute at most per token.
            let last: String? = row["last_used_at"]
            if last.map({ $0 < Self.iso(now.addingTimeInterval(-60)) }) ?? true {
                try db.execute(
                    sql: "UPDATE email_api_tokens SET last_used_at = ? WHERE rowid = ?", arguments: [stamp, row["rowid"] as Int64])
            }
            return row["user_id"]
        }
    }

    /// Every token of a user (never the secret), oldest first.
    public func apiTokens(userId: String) async throws -> [APIToken] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, label, created_at, last_used_at, expires_at, revoked_at FROM email_api_tokens WHERE user_id = ? ORDER BY rowid
                    """, arguments: [userId]
            ).map {
                APIToken(
                    id: String($0["rowid"] as Int64), label: $0["label"], createdAt: $0["created_at"], lastUsedAt: $0["last_used_at"],
                    expiresAt: $0["expires_at"], revoked: ($0["revoked_at"] as String?) != nil)
            }
        }
    }

    /// Revokes one token by id; returns the owner's user id, or nil when there is no live token with that id.
    public func revokeAPIToken(id: String, at: Date) async throws -> String? {
        guard let rowid = Int64(id) else { return nil }
        return try await writer.write { db in
            guard
                let user = try String.fetchOne(
                    db, sql: "SELECT user_id FROM email_api_tokens WHERE rowid = ? AND revoked_at IS NULL", arguments: [rowid])
            else {
                return nil
            }
            try db.execute(sql: "UPDATE email_api_tokens SET revoked_at = ? WHERE rowid = ?", arguments: [Self.iso(at), rowid])
            return user
        }
    }

    /// Revokes every live token of a user; returns how many.
    public func revokeAPITokens(userId: String, at: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                arguments: [Self.iso(at), userId])
            return db.changesCount
        }
    }
}

/// Installation facts kept in `email_meta`.
extension CaptureDatabase {
    public func meta(_ key: String) async throws -> String? {
        try await writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM email_meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO email_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }

    /// What a database file holds, read without creating, migrating or changing it.
    package struct Contents: Sendable, Equatable {
        package var exists: Bool
        package var marker: String?
        package var users: [String]
        package var investors: [String]
        package var emails: Int
        package var accounts: [String]
        package var isEmpty: Bool { users.isEmpty && investors.isEmpty && emails == 0 && accounts.isEmpty }
    }

    /// Reads what `path` holds (nothing when the file does not exist) through a read-only connection.
    /// `schema` names the CRM's users and investors tables; `markerKey` is looked up in `email_meta`.
    package static func inspect(path: String, schema: CRMSchema = CRMSchema(), markerKey: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else {
            return Contents(exists: false, marker: nil, users: [], investors: [], emails: 0, accounts: [])
        }
        var config = Configuration()
        config.readonly = true
        // Opening a WAL database, even read-only, creates its -wal and -shm files. With no -wal to read
        // the file is opened immutable (nothing created, nothing locked); a live -wal is read as usual,
        // its files already being there.
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        var target = path
        if wal == 0 {
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            target = "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?mode=ro&immutable=1"
        }
        let queue = try DatabaseQueue(path: target, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in
            func has(_ table: String) throws -> Bool { try db.tableExists(table) }
            let marker =
                try has("email_meta")
                ? try String.fetchOne(db, sql: "SELECT value FROM email_meta WHERE key = ?", arguments: [markerKey]) : nil
            let users =
                try has(schema.usersTable)
                ? try String.fetchAll(db, sql: "SELECT \(try schema.q(schema.userEmail)) FROM \(try schema.q(schema.usersTable))") : []
            let investors =
                try has(schema.investorsTable)
                ? try String.fetchAll(
                    db, sql: "SELECT CAST(\(try schema.q(schema.investorID)) AS TEXT) FROM \(try schema.q(schema.investorsTable))") : []
            let emails = try has("emails") ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM emails") ?? 0 : 0
            let accounts = try has("email_accounts") ? try String.fetchAll(db, sql: "SELECT email FROM email_accounts") : []
            return Contents(exists: true, marker: marker, users: users, investors: investors, emails: emails, accounts: accounts)
        }
    }
}
