import Crypto
import _CryptoExtras
import Foundation
import MIMEKit

/// Google's OAuth 2.0 token endpoint as the fake plays it: the JWT-bearer grant of domain-wide
/// delegation (RS256 verified against the service account's public key), the authorization-code and
/// refresh-token grants, and access tokens that expire on the virtual clock.
struct OAuthServer: Sendable {
    struct ServiceAccount: Sendable {
        var clientEmail: String
        var clientID: String
        var keyID: String
        var privateKeyPEM: String
        var publicKey: _RSA.Signing.PublicKey
        /// False simulates an admin who has not authorised the client id for delegation.
        var delegationAuthorized = true
    }

    struct Client: Sendable {
        var id: String
        var secret: String
    }

    struct AccessToken: Sendable {
        var email: String
        var scopes: Set<String>
        var expiresAtMillis: Int64
    }

    struct Grant: Sendable {
        var clientID: String
        var email: String
        var scopes: Set<String>
        var redirectURI: String?
    }

    var serviceAccounts: [String: ServiceAccount] = [:]
    var clients: [String: Client] = [:]
    var accessTokens: [String: AccessToken] = [:]
    var refreshTokens: [String: Grant] = [:]
    var codes: [String: Grant] = [:]
    /// Users whose grants fail with invalid_grant (revoked, suspended).
    var revokedUsers: Set<String> = []
    var tokenLifetimeSeconds: Int64 = 3599

    static let gmailReadScopes: Set<String> = [
        "https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.modify",
        "https://mail.google.com/", "https://www.googleapis.com/auth/gmail.metadata",
    ]
    static let googleTokenURL = "https://oauth2.googleapis.com/token"
    /// Scopes a service account may get a token for as itself (no `sub`).
    static let serviceAccountOwnScopes: Set<String> = [
        "https://www.googleapis.com/auth/pubsub", "https://www.googleapis.com/auth/cloud-platform",
    ]

    struct OAuthError: Error {
        var status: Int
        var error: String
        var description: String
        var response: FakeResponse {
            FakeResponse.json(status, .object([("error", .string(error)), ("error_description", .string(description))]))
        }
        static func invalidGrant(_ d: String) -> OAuthError { OAuthError(status: 400, error: "invalid_grant", description: d) }
    }

    // MARK: - Grants

    mutating func exchange(
        form: [(String, String)], tokenURLs: Set<String>, knownUser: (String) -> Bool,
        now: Int64, mint: () -> String
    ) -> Result<WireJSON, OAuthError> {
        func field(_ n: String) -> String? { form.first { $0.0 == n }?.1 }
        switch field("grant_type") {
        case "urn:ietf:params:oauth:grant-type:jwt-bearer"?:
            guard let assertion = field("assertion") else { return .failure(.invalidGrant("Missing assertion")) }
            return jwtBearer(assertion, tokenURLs: tokenURLs, knownUser: knownUser, now: now, mint: mint)
        case "refresh_token"?:
            guard let client = authenticateClient(field("client_id"), field("client_secret")) else {
                return .failure(OAuthError(status: 401, error: "invalid_client", description: "The OAuth client was not found."))
            }
            guard let rt = field("refresh_token"), let g = refreshTokens[rt], g.clientID == client.id,
                !revokedUsers.contains(g.email.lowercased())
            else {
                return .failure(.invalidGrant("Token has been expired or revoked."))
            }
            let token = issue(email: g.email, scopes: g.scopes, now: now, mint: mint)
            return .success(
                .object([
                    ("access_token", .string(token)), ("expires_in", .number(tokenLifetimeSeconds)),
                    ("scope", .string(g.scopes.sorted().joined(separator: " "))), ("token_type", .string("Bearer")),
                ]))
        case "authorization_code"?:
            guard let client = authenticateClient(field("client_id"), field("client_secret")) else {
                return .failure(OAuthError(status: 401, error: "invalid_client", description: "The OAuth client was not found."))
            }
            guard let code = field("code"), let g = codes.removeValue(forKey: code), g.clientID == client.id else {
                return .failure(.invalidGrant("Malformed auth code."))
            }
            if let expected = g.redirectURI, let given = field("redirect_uri"), expected != given {
                return .failure(OAuthError(status: 400, error: "redirect_uri_mismatch", description: "Bad Request"))
            }
            let token = issue(email: g.email, scopes: g.scopes, now: now, mint: mint)
            let refresh = "1//fake-" + mint()
            refreshTokens[refresh] = g
            return .success(
                .object([
                    ("access_token", .string(token)), ("expires_in", .number(tokenLifetimeSeconds)),
                    ("refresh_token", .string(refresh)), ("scope", .string(g.scopes.sorted().joined(separator: " "))),
                    ("token_type", .string("Bearer")),
                ]))
        case let other:
            return .failure(OAuthError(status: 400, error: "unsupported_grant_type", description: "Invalid grant_type: \(other ?? "")"))
        }
    }

    func authenticateClient(_ id: String?, _ secret: String?) -> Client? {
        guard let id, let c = clients[id], c.secret == secret else { return nil }
        return c
    }

    mutating func issue(email: String, scopes: Set<String>, now: Int64, mint: () -> String) -> String {
        let token = "ya29.fake-" + mint()
        accessTokens[token] = AccessToken(email: email, scopes: scopes, expiresAtMillis: now + tokenLifetimeSeconds * 1000)
        return token
    }

    mutating func jwtBearer(
        _ jwt: String, tokenURLs: Set<String>, knownUser: (String) -> Bool, now: Int64,
        mint: () -> String
    ) -> Result<WireJSON, OAuthError> {
        let pieces = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 3,
            let header = try? JSONSerialization.jsonObject(with: Data(Base64.decode(String(pieces[0])))) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: Data(Base64.decode(String(pieces[1])))) as? [String: Any]
        else {
            return .failure(.invalidGrant("Invalid JWT: malformed"))
        }
        guard header["alg"] as? String == "RS256" else { return .failure(.invalidGrant("Invalid JWT: unsupported alg")) }
        guard let iss = claims["iss"] as? String, let sa = serviceAccounts[iss.lowercased()] else {
            return .failure(OAuthError(status: 401, error: "invalid_client", description: "The OAuth client was not found."))
        }
        let signingInput = Array("\(pieces[0]).\(pieces[1])".utf8)
        let signature = Base64.decode(String(pieces[2]))
        let valid = sa.publicKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature),
            for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        guard valid else { return .failure(.invalidGrant("Invalid JWT Signature.")) }
        guard let aud = claims["aud"] as? String, tokenURLs.contains(aud) || aud == Self.googleTokenURL else {
            return .failure(.invalidGrant("Invalid JWT: Failed audience check."))
        }
        let iat = (claims["iat"] as? NSNumber)?.int64Value
        let exp = (claims["exp"] as? NSNumber)?.int64Value
        // At most an hour long, and not yet expired on the virtual clock (an `iat` ahead of the virtual
        // clock is accepted: real clients sign with the wall clock).
        guard let iat, let exp, exp > iat, case let life = exp.subtractingReportingOverflow(iat), !life.overflow, life.partialValue <= 3600,
            exp > now / 1000
        else {
            return .failure(
                .invalidGrant(
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
                ))
        }
        let scopes = Set(((claims["scope"] as? String) ?? "").split(separator: " ").map(String.init))
        if scopes.isEmpty {
            return .failure(
                OAuthError(status: 400, error: "invalid_scope", description: "Invalid OAuth scope or ID token audience provided."))
        }
        // Without `sub` the service account asks for its own token: Google grants that for non-Gmail
        // scopes (Pub/Sub pull); Gmail itself still needs a delegated subject.
        if claims["sub"] == nil, !scopes.isDisjoint(with: Self.serviceAccountOwnScopes) {
            let token = issue(email: iss.lowercased(), scopes: scopes, now: now, mint: mint)
            return .success(
                .object([
                    ("access_token", .string(token)), ("expires_in", .number(tokenLifetimeSeconds)), ("token_type", .string("Bearer")),
                ]))
        }
        guard sa.delegationAuthorized else {
            return .failure(
                OAuthError(
                    status: 401, error: "unauthorized_client",
                    description:
                        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
                ))
        }
        guard let sub = claims["sub"] as? String, !sub.isEmpty else {
            // Gmail rejects a token without a subject later (Precondition check failed); we refuse up front.
            return .failure(.invalidGrant("Invalid email or User ID"))
        }
        guard knownUser(sub), !revokedUsers.contains(sub.lowercased()) else { return .failure(.invalidGrant("Invalid email or User ID")) }
        guard !scopes.isDisjoint(with: Self.gmailReadScopes) else {
            return .failure(OAuthError(status: 401, error: "unauthorized_client", description: "Unauthorized client or scope in request."))
        }
        let token = issue(email: sub, scopes: scopes, now: now, mint: mint)
        return .success(
            .object([
                ("access_token", .string(token)), ("expires_in", .number(tokenLifetimeSeconds)),
                ("token_type", .string("Bearer")),
            ]))
    }

    // MARK: - Service accounts

    /// Creates a service account with a fresh RSA-2048 key; returns its client email.
    mutating func createServiceAccount(projectID: String, ids: inout IDAllocator) throws -> String {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let n = serviceAccounts.count + 1
        let email = "capture-\(n)@\(projectID).iam.gserviceaccount.com"
        var digits = ""
        for _ in 0..<21 { digits += String(ids.random.next() % 10) }
        if digits.hasPrefix("0") { digits = "1" + digits.dropFirst() }
        var keyID = ""
        for _ in 0..<40 { keyID += String(ids.random.next() % 16, radix: 16) }
        serviceAccounts[email] = ServiceAccount(
            clientEmail: email, clientID: digits, keyID: keyID,
            privateKeyPEM: key.pkcs8PEMRepresentation, publicKey: key.publicKey)
        return email
    }

    /// A Google service-account JSON key file for this account.
    func keyFile(_ email: String, projectID: String, tokenURI: String) -> WireJSON? {
        guard let sa = serviceAccounts[email.lowercased()] else { return nil }
        return .object([
            ("type", .string("service_account")),
            ("project_id", .string(projectID)),
            ("private_key_id", .string(sa.keyID)),
            ("private_key", .string(sa.privateKeyPEM)),
            ("client_email", .string(sa.clientEmail)),
            ("client_id", .string(sa.clientID)),
            ("auth_uri", .string("https://accounts.google.com/o/oauth2/auth")),
            ("token_uri", .string(tokenURI)),
            ("auth_provider_x509_cert_url", .string("https://www.googleapis.com/oauth2/v1/certs")),
            (
                "client_x509_cert_url",
                .string("https://www.googleapis.com/robot/v1/metadata/x509/\(sa.clientEmail.replacingOccurrences(of: "@", with: "%40"))")
            ),
            ("universe_domain", .string("googleapis.com")),
        ])
    }
}
