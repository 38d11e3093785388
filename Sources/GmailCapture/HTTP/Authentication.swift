import Crypto
public import Foundation
import CaptureParsing

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
/// Each expires (90 days unless said otherwise) and can be revoked; a revoked or expired token, or one of
/// an inactive user, authenticates nobody.
public struct APITokenAuthenticator: RequestAuthenticator {
    public let directory: CRMDirectory
    public let clock: any CaptureClock

    public init(directory: CRMDirectory, clock: any CaptureClock = SystemClock()) {
        self.directory = directory
        self.clock = clock
    }

    public static let defaultLifetimeDays = 90

    static func hash(_ token: String) -> String {
        sha256Hex(Data(token.utf8))
    }

    /// A newly issued token: the secret (shown once, never stored), its id and expiry, and its user.
    public struct Issued: Sendable {
        public var token: String
        public var id: String
        public var expiresAt: Date
        public var user: CRMUser
    }

    /// Issues a new token for a CRM user, valid for `expiresInDays`; the plaintext is returned once.
    public func issue(forUserEmail email: String, label: String? = nil, expiresInDays: Int = defaultLifetimeDays) async throws -> Issued {
        let user = try await self.user(email: email)
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        let token =
            "gct_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let now = clock.now()
        let expires = now.addingTimeInterval(Double(expiresInDays) * 86_400)
        let id = try await directory.database.insertAPIToken(
            sha256: Self.hash(token), userId: user.id, label: label, createdAt: now, expiresAt: expires)
        return Issued(token: token, id: id, expiresAt: expires, user: user)
    }

    /// The tokens of a user (never their secrets).
    public func tokens(forUserEmail email: String) async throws -> [CaptureDatabase.APIToken] {
        try await directory.database.apiTokens(userId: try await user(email: email).id)
    }

    /// Revokes one token by id; false when no live token has that id.
    public func revoke(id: String) async throws -> Bool {
        try await directory.database.revokeAPIToken(id: id, at: clock.now()) != nil
    }

    /// Revokes every live token of a user; returns how many.
    public func revokeAll(forUserEmail email: String) async throws -> Int {
        try await directory.database.revokeAPITokens(userId: try await user(email: email).id, at: clock.now())
    }

    func user(email: String) async throws -> CRMUser {
        guard let user = try await directory.users().first(where: { $0.email.caseInsensitiveCompare(email) == .orderedSame }) else {
            throw CRMDirectory.Failure.invalidRows(["no CRM user with email \(email); add one with `gmail-capture users add`"])
        }
        return user
    }

    public func authenticate(authorization: String?) async throws -> AuthenticatedUser? {
        guard let h = authorization else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        guard let userId = try await directory.database.apiTokenUser(sha256: Self.hash(String(parts[1])), now: clock.now()) else {
            return nil
        }
        guard let u = try await directory.users().first(where: { $0.id == userId }), u.active else { return nil }
        return AuthenticatedUser(id: u.id, email: u.email, admin: u.admin)
    }
}
