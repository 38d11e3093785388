import Crypto
import _CryptoExtras
import FakeGmail
import Foundation
import MIMEKit
import Testing

/// The token endpoint: DWD JWT-bearer assertions signed with the key file the fake hands out, the
/// authorization-code and refresh-token grants, consent redirects, expiry on the virtual clock.
@Suite struct OAuthTests {
    static let user = "alice@firm.example"
    static let scope = "https://www.googleapis.com/auth/gmail.readonly"

    struct Key: Decodable {
        var private_key: String
        var client_email: String
        var private_key_id: String
        var token_uri: String
        var type: String
        var client_id: String
    }

    static func assertion(
        _ key: Key, sub: String?, aud: String? = nil, scope: String = scope, iat: Int = 1_704_067_200, lifetime: Int = 3600,
        signWith other: _RSA.Signing.PrivateKey? = nil
    ) throws -> String {
        func b64(_ d: [UInt8]) -> String { Base64.encode(d, urlSafe: true, padded: false) }
        let header = #"{"alg":"RS256","typ":"JWT","kid":"\#(key.private_key_id)"}"#
        var claims =
            #"{"iss":"\#(key.client_email)","scope":"\#(scope)","aud":"\#(aud ?? key.token_uri)","iat":\#(iat),"exp":\#(iat + lifetime)"#
        if let s = sub { claims += #","sub":"\#(s)""# }
        claims += "}"
        let input = b64(Array(header.utf8)) + "." + b64(Array(claims.utf8))
        let pk = try other ?? _RSA.Signing.PrivateKey(pemRepresentation: key.private_key)
        let sig = try pk.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + b64(Array(sig.rawRepresentation))
    }

    static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\($0.0)=\(pct($0.1))" }.joined(separator: "&").utf8)
    }

    @Test(arguments: Door.allCases)
    func serviceAccountDelegationFlow(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 3))
        await fake.addUser(Self.user)
        try await withFake(fake, door: door) { s in
            let key = try JSONDecoder().decode(Key.self, from: try await fake.serviceAccountKeyJSON())
            #expect(key.type == "service_account")
            #expect(key.client_id.count == 21)
            #expect(key.private_key.hasPrefix("-----BEGIN PRIVATE KEY-----"))
            #expect(key.token_uri.hasSuffix("/token"))

            func token(_ jwt: String) async throws -> FakeResponse {
                try await s.post(
                    "/token", body: Self.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", jwt)]),
                    contentType: "application/x-www-form-urlencoded")
            }
            let ok = try await token(try Self.assertion(key, sub: Self.user))
            #expect(ok.status == 200)
            let body = try s.json(ok)
            let access = try #require(body["access_token"] as? String)
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 3599)
            #expect(try await s.get("/gmail/v1/users/me/profile", token: access).status == 200)
            // Google's audience also works.
            #expect(try await token(try Self.assertion(key, sub: Self.user, aud: "https://oauth2.googleapis.com/token")).status == 200)

            // Failures, in Google's OAuth error shape.
            let unknown = try await token(try Self.assertion(key, sub: "nobody@firm.example"))
            #expect(unknown.status == 400)
            #expect(try s.json(unknown)["error"] as? String == "invalid_grant")
            let wrongKey = try await token(
                try Self.assertion(key, sub: Self.user, signWith: try _RSA.Signing.PrivateKey(keySize: .bits2048)))
            #expect(try s.json(wrongKey)["error_description"] as? String == "Invalid JWT Signature.")
            let tooLong = try await token(try Self.assertion(key, sub: Self.user, lifetime: 7200))
            #expect(try s.json(tooLong)["error"] as? String == "invalid_grant")
            let badAud = try await token(try Self.assertion(key, sub: Self.user, aud: "https://example.com/token"))
            #expect(try s.json(badAud)["error"] as? String == "invalid_grant")
            let noScope = try await token(try Self.assertion(key, sub: Self.user, scope: "https://www.googleapis.com/auth/calendar"))
            #expect(try s.json(noScope)["error"] as? String == "unauthorized_client")

            await fake.setDelegationAuthorized(false)
            let denied = try await token(try Self.assertion(key, sub: Self.user))
            #expect(denied.status == 401)
            #expect(try s.json(denied)["error"] as? String == "unauthorized_client")
            await fake.setDelegationAuthorized(true)

            // Tokens expire on the virtual clock.
            await fake.advanceClock(seconds: 3600)
            #expect(try await s.get("/gmail/v1/users/me/profile", token: access).status == 401)

            // Revocation (with an assertion that is otherwise good at the new virtual time).
            let later = Int(await fake.nowMillis() / 1000)
            #expect(try await token(try Self.assertion(key, sub: Self.user, iat: later)).status == 200)
            await fake.revokeUser(Self.user)
            #expect(try s.json(try await token(try Self.assertion(key, sub: Self.user, iat: later)))["error"] as? String == "invalid_grant")
        }
    }

    @Test(arguments: Door.allCases)
    func consentCodeAndRefreshGrants(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 4))
        await fake.addUser(Self.user)
        await fake.registerOAuthClient(id: "client-1", secret: "s3cret")
        try await withFake(fake, door: door) { s in
            let redirect = "https://crm.example/api/email/oauth/callback"
            let consent = try await s.get(
                "/o/oauth2/v2/auth?client_id=client-1&redirect_uri=\(pct(redirect))&response_type=code&scope=\(pct(Self.scope))&state=xyz-123&access_type=offline&login_hint=\(pct(Self.user))"
            )
            #expect(consent.status == 302)
            let location = try #require(consent.header("Location"))
            let items = URLComponents(string: location)?.queryItems ?? []
            #expect(location.hasPrefix(redirect))
            #expect(items.first { $0.name == "state" }?.value == "xyz-123")
            let code = try #require(items.first { $0.name == "code" }?.value)

            let exchange = try await s.post(
                "/token",
                body: Self.form([
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect),
                    ("client_id", "client-1"), ("client_secret", "s3cret"),
                ]),
                contentType: "application/x-www-form-urlencoded")
            #expect(exchange.status == 200)
            let tokens = try s.json(exchange)
            let refresh = try #require(tokens["refresh_token"] as? String)
            // A code is single-use.
            let reuse = try await s.post(
                "/token",
                body: Self.form([
                    ("grant_type", "authorization_code"), ("code", code),
                    ("client_id", "client-1"), ("client_secret", "s3cret"),
                ]),
                contentType: "application/x-www-form-urlencoded")
            #expect(try s.json(reuse)["error"] as? String == "invalid_grant")

            let refreshed = try await s.post(
                "/token",
                body: Self.form([
                    ("grant_type", "refresh_token"), ("refresh_token", refresh),
                    ("client_id", "client-1"), ("client_secret", "s3cret"),
                ]),
                contentType: "application/x-www-form-urlencoded")
            let access = try #require(try s.json(refreshed)["access_token"] as? String)
            #expect(try await s.get("/gmail/v1/users/me/profile", token: access).status == 200)
            let badClient = try await s.post(
                "/token",
                body: Self.form([
                    ("grant_type", "refresh_token"), ("refresh_token", refresh),
                    ("client_id", "client-1"), ("client_secret", "wrong"),
                ]),
                contentType: "application/x-www-form-urlencoded")
            #expect(badClient.status == 401)
            #expect(try s.json(badClient)["error"] as? String == "invalid_client")
            await fake.revokeUser(Self.user)
            let revoked = try await s.post(
                "/token",
                body: Self.form([
                    ("grant_type", "refresh_token"), ("refresh_token", refresh),
                    ("client_id", "client-1"), ("client_secret", "s3cret"),
                ]),
                contentType: "application/x-www-form-urlencoded")
            #expect(try s.json(revoked)["error_description"] as? String == "Token has been expired or revoked.")
        }
    }
}
