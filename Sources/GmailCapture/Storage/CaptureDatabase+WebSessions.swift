public import Foundation
import GRDB

/// Web UI sessions (`email_web_sessions`): stored as SHA-256 hashes of the cookie secret, expiring,
/// revocable, and valid only while the API token they were opened with is (a revoked or expired token
/// ends its sessions at the next request).
extension CaptureDatabase {
    /// A live session: its user and the CSRF token of its forms.
    public struct WebSession: Sendable, Equatable {
        public var userId: String
        public var csrf: String
        public var expiresAt: String
    }

    /// Opens a session for the user of a live API token (by the token's hash); nil when the token
    /// authenticates nobody (unknown, revoked or expired).
    public func openWebSession(
        tokenSHA256: String, sessionSHA256: String, csrf: String, now: Date, lifetime: TimeInterval
    ) async throws -> WebSession? {
        try await writer.write { db in
            let stamp = Self.iso(now)
            guard let row = try Self.liveAPIToken(db, sha256: tokenSHA256, at: stamp) else { return nil }
            // A session never outlives its token.
            var expires = Self.iso(now.addingTimeInterval(lifetime))
            if let tokenExpiry: String = row["expires_at"], tokenExpiry < expires { expires = tokenExpiry }
            // Sessions that ended more than a day ago are forgotten.
            try db.execute(
                sql: "DELETE FROM email_web_sessions WHERE expires_at < ?1 OR revoked_at < ?1",
                arguments: [Self.iso(now.addingTimeInterval(-86_400))])
            try db.execute(
                sql: """
                    INSERT INTO email_web_sessions (session_sha256, user_id, token_rowid, csrf, created_at, expires_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [sessionSHA256, row["user_id"] as String, row["rowid"] as Int64, csrf, stamp, expires, stamp])
            try db.execute(
                sql: "UPDATE email_api_tokens SET last_used_at = ? WHERE rowid = ?", arguments: [stamp, row["rowid"] as Int64])
            return WebSession(userId: row["user_id"], csrf: csrf, expiresAt: expires)
        }
    }

    /// The live session with this hash, or nil (unknown, expired, signed out, or its token revoked or expired).
    public func webSession(sessionSHA256: String, now: Date) async throws -> WebSession? {
        try await writer.write { db in
            let stamp = Self.iso(now)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.user_id, s.csrf, s.expires_at, s.last_seen_at FROM email_web_sessions s
                        JOIN email_api_tokens t ON t.rowid = s.token_rowid
                        WHERE s.session_sha256 = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
                          AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2)
                        """, arguments: [sessionSHA256, stamp])
            else { return nil }
            // One write a minute at most per session.
            let last: String? = row["last_seen_at"]
            if last.map({ $0 < Self.iso(now.addingTimeInterval(-60)) }) ?? true {
                try db.execute(
                    sql: "UPDATE email_web_sessions SET last_seen_at = ? WHERE session_sha256 = ?", arguments: [stamp, sessionSHA256])
            }
            return WebSession(userId: row["user_id"], csrf: row["csrf"], expiresAt: row["expires_at"])
        }
    }

    /// Ends a session (sign-out); false when it was not live.
    @discardableResult
    public func revokeWebSession(sessionSHA256: String, at: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_web_sessions SET revoked_at = ? WHERE session_sha256 = ? AND revoked_at IS NULL",
                arguments: [Self.iso(at), sessionSHA256])
            return db.changesCount == 1
        }
    }

    /// Ends every live session of a user; returns how many.
    @discardableResult
    public func revokeWebSessions(userId: String, at: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE email_web_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                arguments: [Self.iso(at), userId])
            return db.changesCount
        }
    }
}
