import Crypto
import _CryptoExtras
public import Foundation
import CaptureParsing

/// Decides whether a request to `POST /api/email/push` comes from our Pub/Sub push subscription: the
/// shared secret in the endpoint URL (`?token=`, compared in constant time), or the OIDC token Pub/Sub
/// signs (RS256 against Google's JWK set, fetched through the transport and cached; `aud`, `email` with
/// `email_verified`, `iss`, `exp` on the injected clock). Either configured method suffices.
public actor PushVerifier {
    /// OIDC settings: what the push subscription's `oidcToken` names.
    public struct OIDC: Sendable, Equatable {
        public var audience: String
        public var serviceAccountEmail: String
        public var certsURL: String

        public init(audience: String, serviceAccountEmail: String, certsURL: String = "https://www.googleapis.com/oauth2/v3/certs") {
            self.audience = audience
            self.serviceAccountEmail = serviceAccountEmail
            self.certsURL = certsURL
        }
    }

    public enum Verdict: Sendable, Equatable {
        case verified
        /// No credential at all (401).
        case missing
        /// A credential that does not verify (403); the reason is logged, never answered.
        case rejected(String)
        /// The JWK set cannot be fetched (503: Pub/Sub retries).
        case unavailable
    }

    public static let issuers: Set<String> = ["accounts.google.com", "https://accounts.google.com"]
    /// Clock skew tolerated on `exp` and `iat`.
    public static let leeway: TimeInterval = 60
    /// How long a fetched JWK set is used before it is fetched again (Google rotates keys over days).
    public static let certsLifetime: TimeInterval = 3_600
    /// An unknown `kid` refetches the set, at most this often.
    public static let refetchInterval: TimeInterval = 60

    let secretDigest: SHA256.Digest?
    let oidc: OIDC?
    let transport: any HTTPTransport
    let clock: any CaptureClock
    var keys: [String: _RSA.Signing.PublicKey] = [:]
    var fetchedAt: Date?
    /// How many times the JWK set was fetched (tests check the cache).
    public private(set) var certsFetches = 0

    public init(secret: String?, oidc: OIDC?, transport: any HTTPTransport, clock: any CaptureClock) {
        secretDigest = secret.map { SHA256.hash(data: Array($0.utf8)) }
        self.oidc = oidc
        self.transport = transport
        self.clock = clock
    }

    /// Checks the request's `?token=` and `Authorization: Bearer` header.
    public func verify(token: String?, authorization: String?) async -> Verdict {
        var verdict = Verdict.missing
        if let expected = secretDigest, let token {
            if Self.constantTimeEqual(SHA256.hash(data: Array(token.utf8)), expected) { return .verified }
            verdict = .rejected("the shared secret does not match")
        }
        if let oidc, let auth = authorization {
            let parts = auth.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].caseInsensitiveCompare("Bearer") == .orderedSame else {
                return .rejected("the Authorization header is not a bearer token")
            }
            return await verifyJWT(String(parts[1]), oidc)
        }
        return verdict
    }

    /// Equal digests, compared without an early exit.
    static func constantTimeEqual(_ a: SHA256.Digest, _ b: SHA256.Digest) -> Bool {
        zip(Array(a), Array(b)).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func verifyJWT(_ jwt: String, _ oidc: OIDC) async -> Verdict {
        let pieces = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 3, let headerBytes = PushEnvelope.decodeBase64(String(pieces[0])),
            let claimBytes = PushEnvelope.decodeBase64(String(pieces[1])),
            let signature = PushEnvelope.decodeBase64(String(pieces[2])),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: Data(claimBytes)) as? [String: Any]
        else { return .rejected("the token is not a JWT") }
        guard header["alg"] as? String == "RS256" else { return .rejected("the token is not RS256") }
        let kid = header["kid"] as? String
        let candidates: [_RSA.Signing.PublicKey]
        do { candidates = try await publicKeys(kid: kid, oidc) } catch { return .unavailable }
        let input = SHA256.hash(data: Array(pieces[0].utf8) + [UInt8(ascii: ".")] + Array(pieces[1].utf8))
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        guard candidates.contains(where: { $0.isValidSignature(rsa, for: input, padding: .insecurePKCS1v1_5) }) else {
            return .rejected("the signature does not verify against Google's keys")
        }
        let audiences = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String] ?? [])
        guard audiences.contains(oidc.audience) else { return .rejected("the audience is not the configured one") }
        guard let iss = claims["iss"] as? String, Self.issuers.contains(iss) else { return .rejected("the issuer is not Google") }
        guard let email = claims["email"] as? String, email.caseInsensitiveCompare(oidc.serviceAccountEmail) == .orderedSame else {
            return .rejected("the token names another service account")
        }
        let verified = (claims["email_verified"] as? Bool) ?? ((claims["email_verified"] as? String) == "true")
        guard verified else { return .rejected("the service account's email is not verified") }
        let now = clock.now().timeIntervalSince1970
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp + Self.leeway > now else {
            return .rejected("the token has expired")
        }
        if let iat = (claims["iat"] as? NSNumber)?.doubleValue, iat - Self.leeway > now {
            return .rejected("the token is issued in the future")
        }
        return .verified
    }

    /// The keys that may have signed a token with `kid` (all of them without one), from the cached set,
    /// fetched when stale or when `kid` is unknown (at most every `refetchInterval`).
    func publicKeys(kid: String?, _ oidc: OIDC) async throws -> [_RSA.Signing.PublicKey] {
        let now = clock.now()
        let fresh = fetchedAt.map { now.timeIntervalSince($0) < Self.certsLifetime } ?? false
        let unknown = kid.map { keys[$0] == nil } ?? false
        let mayRefetch = fetchedAt.map { now.timeIntervalSince($0) >= Self.refetchInterval } ?? true
        if !fresh || (unknown && mayRefetch) { try await fetchKeys(oidc, now: now) }
        if let kid { return keys[kid].map { [$0] } ?? [] }
        return Array(keys.values)
    }

    func fetchKeys(_ oidc: OIDC, now: Date) async throws {
        struct JWKS: Decodable {
            struct Key: Decodable {
                var kid: String?
                var kty: String?
                var n: String?
                var e: String?
            }
            var keys: [Key]
        }
        certsFetches += 1
        let response = try await transport.send(
            TransportRequest(method: "GET", url: oidc.certsURL, operation: "oauth2.certs", timeout: .seconds(10)))
        guard response.status == 200, let set = try? JSONDecoder().decode(JWKS.self, from: Data(response.body)) else {
            throw PubSubClient.Failure(status: response.status, message: "the JWK set is not JSON")
        }
        var found: [String: _RSA.Signing.PublicKey] = [:]
        for k in set.keys where k.kty == nil || k.kty == "RSA" {
            guard let n = k.n.flatMap(PushEnvelope.decodeBase64), let e = k.e.flatMap(PushEnvelope.decodeBase64),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { continue }
            found[k.kid ?? "key-\(found.count)"] = key
        }
        keys = found
        fetchedAt = now
    }
}
