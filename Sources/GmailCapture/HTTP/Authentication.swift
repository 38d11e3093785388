import Crypto
import Foundation
import GRDB

/// The CRM user behind a request.
public struct AuthenticatedUser: Sendable, Equatable {
    public var id: String
    public var email: String
    public var admin: Bool
    public init(id: String, email: String, admin: Bool) {
        self.id = id
        self.email = email
        self.admin = admin
    }
}

/// How the host CRM says who is calling. Implement it over the CRM's own sessions; the default maps
/// bearer API tokens (stored hashed) to CRM users.
public protocol RequestAuthenticator: Sendable {
    /// The user for these request headers, or nil (401).
    func authenticate(authorization: String?) async throws -> AuthenticatedUser?
}

/// Bearer tokens from `gmail-capture users token EMAIL`, kept as SHA-256 hashes in `email_api_tokens`.
public struct APITokenAuthenticator: RequestAuthenticator {
    public let directory: CRMDirectory

    public init(directory: CRMDirectory) { self.directory = directory }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Issues a new token for a CRM user; the plaintext is returned once and never stored.
    public func issue(forUserEmail email: String, label: String? = nil) async throws -> (token: String, user: CRMUser) {
        guard let user = try await directory.users().first(where: { $0.email.caseInsensitiveCompare(email) == .orderedSame }) else {
            throw CRMDirectory.Failure.invalidRows(["no CRM user with email \(email); add one with `gmail-capture users add`"])
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let token = "gct_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let digest = Self.hash(token)
        try await directory.database.writer.write { db in
            try db.execute(sql: "INSERT INTO email_api_tokens (token_sha256, user_id, label) VALUES (?, ?, ?)", arguments: [digest, user.id, label])
        }
        return (token, user)
    }

    public func authenticate(authorization: String?) async throws -> AuthenticatedUser? {
        guard let h = authorization else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let digest = Self.hash(String(parts[1]))
        guard let userId = try await directory.database.writer.read({ db in
            try String.fetchOne(db, sql: "SELECT user_id FROM email_api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL", arguments: [digest])
        }) else { return nil }
        guard let u = try await directory.users().first(where: { $0.id == userId }), u.active else { return nil }
        return AuthenticatedUser(id: u.id, email: u.email, admin: u.admin)
    }
}
