import Crypto
import Foundation
import MIMEKit
import _CryptoExtras

/// Google as the issuer of the OIDC tokens Pub/Sub puts on push requests (`pushConfig.oidcToken`):
/// RS256 JWTs from `https://accounts.google.com` naming the service account, for the configured audience
/// (default: the push endpoint), with times on the virtual clock. The public key is served as a JWK set
/// at `GET /oauth2/v3/certs`, as Google serves its own, so a receiver can verify them for real.
struct PushOIDCIssuer: Sendable {
    private var key: _RSA.Signing.PrivateKey?
    private(set) var keyID = ""

    static let issuer = "https://accounts.google.com"

    /// The signing key, made on first use (RSA-2048).
    private mutating func signingKey(_ random: inout FakeRandom) throws -> _RSA.Signing.PrivateKey {
        if let k = key { return k }
        let k = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        keyID = (0..<40).map { _ in String(random.next() % 16, radix: 16) }.joined()
        key = k
        return k
    }

    /// A token as Pub/Sub sends it: `{"aud", "azp", "email", "email_verified", "exp", "iat", "iss", "sub"}`, an hour long.
    mutating func token(serviceAccount: String, audience: String, nowMillis: Int64, random: inout FakeRandom) throws -> String {
        let k = try signingKey(&random)
        let subject = String(1_000_000_000_000_000_000 + UInt64(serviceAccount.hashValueStable) * 1_000_003)
        let iat = nowMillis / 1000
        let header = WireJSON.object([("alg", .string("RS256")), ("kid", .string(keyID)), ("typ", .string("JWT"))])
        let claims = WireJSON.object([
            ("aud", .string(audience)), ("azp", .string(subject)), ("email", .string(serviceAccount)), ("email_verified", .bool(true)),
            ("exp", .number(iat + 3600)), ("iat", .number(iat)), ("iss", .string(Self.issuer)), ("sub", .string(subject)),
        ])
        let input = Self.segment(header.render(pretty: false)) + "." + Self.segment(claims.render(pretty: false))
        let signature = try k.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Self.segment(Array(signature.rawRepresentation))
    }

    /// `{"keys": [{"kty", "alg", "use", "kid", "n", "e"}]}` (empty before the first token).
    func jwks() -> WireJSON {
        guard let k = key, let p = try? k.publicKey.getKeyPrimitives() else { return .object([("keys", .array([]))]) }
        return .object([
            (
                "keys",
                .array([
                    .object([
                        ("kty", .string("RSA")), ("alg", .string("RS256")), ("use", .string("sig")), ("kid", .string(keyID)),
                        ("n", .string(Self.segment(Array(p.modulus)))), ("e", .string(Self.segment(Array(p.publicExponent)))),
                    ])
                ])
            )
        ])
    }

    static func segment(_ bytes: [UInt8]) -> String { Base64.encode(bytes, urlSafe: true, padded: false) }
}
