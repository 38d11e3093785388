import Foundation

/// Where encrypted refresh tokens live (the storage layer implements it on SQLite).
public protocol RefreshTokenStore: Sendable {
    func sealedRefreshToken(for mailbox: String) async throws -> String?
    func saveSealedRefreshToken(_ sealed: String, for mailbox: String) async throws
}

/// An in-memory store (tests, demos).
public actor InMemoryRefreshTokenStore: RefreshTokenStore {
    var tokens: [String: String] = [:]
    public init() {}
    public func sealedRefreshToken(for mailbox: String) -> String? { tokens[mailbox.lowercased()] }
    public func saveSealedRefreshToken(_ sealed: String, for mailbox: String) { tokens[mailbox.lowercased()] = sealed }
}

/// The OAuth consent flow (CRM_GMAIL_AUTH_METHOD=oauth): a consent URL with a signed, expiring state,
/// the code exchange, refresh tokens sealed with AES-GCM, access tokens refreshed and cached.
public actor OAuthTokenProvider: AccessTokenProvider {
    public struct Client: Sendable {
        public var id: String
        public var secret: String
        public var redirectURI: String
        public var authURL: String
        public var tokenURL: String
        public init(id: String, secret: String, redirectURI: String, authURL: String, tokenURL: String) {
            self.id = id
            self.secret = secret
            self.redirectURI = redirectURI
            self.authURL = authURL
            self.tokenURL = tokenURL
        }
    }

    let client: Client
    let box: SecretBox
    let state: OAuthStateSigner
    let store: any RefreshTokenStore
    let transport: any HTTPTransport
    let clock: any CaptureClock
    var cache: [String: CachedToken] = [:]
    /// How long a consent `state` stays valid.
    public var stateLifetime: TimeInterval = 600

    public init(client: Client, secretKey: Data, store: any RefreshTokenStore, transport: any HTTPTransport, clock: any CaptureClock) throws {
        self.client = client
        box = try SecretBox(key: secretKey)
        state = OAuthStateSigner(secretKey: secretKey)
        self.store = store
        self.transport = transport
        self.clock = clock
    }

    /// The Google consent URL for a CRM user (the state binds the callback to that user).
    public func consentURL(userId: String, loginHint: String?, nonce: String) -> String {
        var c = URLComponents(string: client.authURL) ?? URLComponents()
        var items = [URLQueryItem(name: "client_id", value: client.id), URLQueryItem(name: "redirect_uri", value: client.redirectURI),
                     URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "scope", value: ServiceAccountTokenProvider.gmailReadonly),
                     URLQueryItem(name: "access_type", value: "offline"), URLQueryItem(name: "prompt", value: "consent"),
                     URLQueryItem(name: "state", value: state.make(userId: userId, expires: clock.now().addingTimeInterval(stateLifetime), nonce: nonce))]
        if let h = loginHint { items.append(URLQueryItem(name: "login_hint", value: h)) }
        c.queryItems = items
        return c.string ?? client.authURL
    }

    /// Checks `state` (signature, expiry, the expected user), exchanges the code, seals and stores the
    /// refresh token for `mailbox`. Returns the CRM user id from the state.
    @discardableResult
    public func completeConsent(code: String, state s: String, mailbox: String, expectedUser: String? = nil) async throws -> String {
        let user = try state.verify(s, now: clock.now(), expectedUser: expectedUser)
        let answer = try await TokenEndpoint.post(client.tokenURL, form: [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", client.redirectURI),
            ("client_id", client.id), ("client_secret", client.secret),
        ], transport: transport)
        guard let refresh = answer.refresh_token else {
            throw GmailAPIError(classification: .needsAdmin, method: "oauth2.token", status: 200, reason: "no_refresh_token",
                                message: "Google returned no refresh token (consent without access_type=offline?)")
        }
        try await store.saveSealedRefreshToken(try box.seal(refresh), for: mailbox)
        cache[mailbox.lowercased()] = CachedToken(token: answer.access_token!, expiresAt: clock.now().addingTimeInterval(TimeInterval(answer.expires_in?.value ?? 3600)))
        return user
    }

    public func accessToken(for mailbox: String, forceRefresh: Bool) async throws -> String {
        let now = clock.now()
        if !forceRefresh, let c = cache[mailbox.lowercased()], c.expiresAt.timeIntervalSince(now) > 120 { return c.token }
        guard let sealed = try await store.sealedRefreshToken(for: mailbox) else {
            throw GmailAPIError(classification: .needsAdmin, method: "oauth2.token", status: nil, reason: "not_enrolled",
                                message: "no refresh token stored for this mailbox; the user must complete the consent flow")
        }
        let refresh: String
        do { refresh = try box.open(sealed) } catch let f as SecretBox.Failure {
            throw GmailAPIError(classification: .needsAdmin, method: "oauth2.token", status: nil, reason: "undecryptable_token", message: f.description)
        }
        let answer = try await TokenEndpoint.post(client.tokenURL, form: [
            ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", client.id), ("client_secret", client.secret),
        ], transport: transport)
        cache[mailbox.lowercased()] = CachedToken(token: answer.access_token!, expiresAt: now.addingTimeInterval(TimeInterval(answer.expires_in?.value ?? 3600)))
        return answer.access_token!
    }
}
