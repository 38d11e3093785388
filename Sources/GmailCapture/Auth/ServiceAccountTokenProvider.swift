import Crypto
import _CryptoExtras
public import Foundation
import CaptureParsing
public import Logging
import MIMEKit

/// Domain-wide delegation: signs an RS256 JWT assertion as the service account with `sub` = the mailbox,
/// exchanges it at the key file's `token_uri`, caches each mailbox's token until shortly before expiry.
public actor ServiceAccountTokenProvider: AccessTokenProvider {
    public struct Key: Decodable, Sendable {
        public var type: String?
        public var client_email: String
        public var private_key: String
        public var private_key_id: String?
        public var token_uri: String?
    }

    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    public static let gmailReadonly = "https://www.googleapis.com/auth/gmail.readonly"

    let key: Key
    let signingKey: _RSA.Signing.PrivateKey
    let tokenURL: String
    let scope: String
    /// false: the service account's own token (no `sub`; Pub/Sub), whatever mailbox is asked for.
    let delegated: Bool
    let transport: any HTTPTransport
    let clock: any CaptureClock
    var cache: [String: CachedToken] = [:]
    /// Refresh this long before Google's expiry.
    let margin: TimeInterval = 120

    /// - Parameter delegated: true (DWD) signs `sub` = the mailbox; false mints the service account's own
    ///   token (Pub/Sub pull), the mailbox name then only keys the cache.
    public init(
        keyJSON: Data, scope: String = gmailReadonly, tokenURLOverride: String? = nil, delegated: Bool = true,
        transport: any HTTPTransport, clock: any CaptureClock
    ) throws {
        let key: Key
        do { key = try JSONDecoder().decode(Key.self, from: keyJSON) } catch {
            throw KeyError(description: "the service-account key is not Google's JSON key format (client_email, private_key, token_uri)")
        }
        if let t = key.type, t != "service_account" { throw KeyError(description: "the key's type is \"\(t)\", expected service_account") }
        do { signingKey = try _RSA.Signing.PrivateKey(pemRepresentation: key.private_key) } catch {
            throw KeyError(description: "the key's private_key is not an RSA PEM key")
        }
        self.key = key
        tokenURL = tokenURLOverride ?? key.token_uri ?? "https://oauth2.googleapis.com/token"
        self.scope = scope
        self.delegated = delegated
        self.transport = transport
        self.clock = clock
    }

    /// Loads the key file, warning (through `logger`) when it is readable by group or others.
    public static func load(
        path: String, scope: String = gmailReadonly, delegated: Bool = true, transport: any HTTPTransport, clock: any CaptureClock,
        logger: Logger
    ) throws -> ServiceAccountTokenProvider {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(description: "cannot read the service-account key at \(path)")
        }
        if let perms = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, perms & 0o077 != 0 {
            logger.warning(
                "service-account key file is readable by other users; chmod 600 it", metadata: ["file.mode": "\(String(perms, radix: 8))"])
        }
        return try ServiceAccountTokenProvider(keyJSON: data, scope: scope, delegated: delegated, transport: transport, clock: clock)
    }

    public func accessToken(for mailbox: String, forceRefresh: Bool) async throws -> String {
        let now = clock.now()
        if !forceRefresh, let c = cache[mailbox.lowercased()], c.expiresAt.timeIntervalSince(now) > margin { return c.token }
        let assertion = try makeAssertion(subject: mailbox, now: now)
        let answer = try await TokenEndpoint.post(
            tokenURL,
            form: [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion),
            ], transport: transport)
        let token = answer.access_token!
        cache[mailbox.lowercased()] = CachedToken(
            token: token, expiresAt: now.addingTimeInterval(TimeInterval(answer.expires_in?.value ?? 3600)))
        return token
    }

    /// `base64url(header).base64url(claims).base64url(RS256 signature)`; whole-second iat/exp, exp = iat + 1 h.
    func makeAssertion(subject: String, now: Date) throws -> String {
        let iat = Int(now.timeIntervalSince1970)
        var header: [String: String] = ["alg": "RS256", "typ": "JWT"]
        if let kid = key.private_key_id { header["kid"] = kid }
        var claims: [String: Any] = ["iss": key.client_email, "scope": scope, "aud": tokenURL, "iat": iat, "exp": iat + 3600]
        if delegated { claims["sub"] = subject }
        let h = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        let c = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        let input = Base64.encode(h, urlSafe: true, padded: false) + "." + Base64.encode(c, urlSafe: true, padded: false)
        let signature = try signingKey.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64.encode(signature.rawRepresentation, urlSafe: true, padded: false)
    }
}
