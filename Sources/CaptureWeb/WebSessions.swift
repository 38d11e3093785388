import CaptureParsing
import Crypto
import Foundation
import GmailCapture

/// Sign-in for the web UI: a pasted API token (from `gmail-capture users token`) is exchanged for a
/// session cookie. The cookie's secret is random (256 bits), stored only as its SHA-256; sessions expire
/// (`lifetime`, never after their token), end at sign-out, and end when their token is revoked.
struct WebSessions: Sendable {
    static let cookieName = "gc_session"
    let database: CaptureDatabase
    let directory: CRMDirectory
    let clock: any CaptureClock
    let lifetime: TimeInterval

    /// Who a request's session belongs to, and the CSRF token its forms must carry.
    struct SignedIn: Sendable {
        var user: AuthenticatedUser
        var csrf: String
        var sessionHash: String
    }

    static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return URLSigner.base64url(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }))
    }

    static func hash(_ secret: String) -> String { sha256Hex(Data(secret.utf8)) }

    /// A new session for the token's user: the cookie secret and when it expires; nil when the token
    /// authenticates nobody (unknown, revoked, expired, or its user inactive).
    func open(token: String) async throws -> (secret: String, expires: Date)? {
        let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.count < 512 else { return nil }
        let secret = Self.random()
        let now = clock.now()
        guard
            let session = try await database.openWebSession(
                tokenSHA256: sha256Hex(Data(token.utf8)), sessionSHA256: Self.hash(secret), csrf: Self.random(), now: now,
                lifetime: lifetime)
        else { return nil }
        guard try await directory.users().first(where: { $0.id == session.userId })?.active == true else {
            try await database.revokeWebSession(sessionSHA256: Self.hash(secret), at: now)
            return nil
        }
        return (secret, CaptureDatabase.parseISO(session.expiresAt) ?? now.addingTimeInterval(lifetime))
    }

    /// The signed-in user behind a cookie value, or nil.
    func authenticate(cookie: String?) async throws -> SignedIn? {
        guard let secret = cookie, !secret.isEmpty, secret.count < 256 else { return nil }
        let hash = Self.hash(secret)
        guard let session = try await database.webSession(sessionSHA256: hash, now: clock.now()),
            let u = try await directory.users().first(where: { $0.id == session.userId }), u.active
        else { return nil }
        return SignedIn(user: AuthenticatedUser(id: u.id, email: u.email, admin: u.admin), csrf: session.csrf, sessionHash: hash)
    }

    func close(_ signedIn: SignedIn) async throws {
        try await database.revokeWebSession(sessionSHA256: signedIn.sessionHash, at: clock.now())
    }

    /// Constant-time comparison of a submitted CSRF token with the session's.
    static func sameToken(_ a: String?, _ b: String) -> Bool {
        guard let a else { return false }
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
