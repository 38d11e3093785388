public import Foundation
import CaptureParsing

/// Where encrypted refresh tokens live (the storage layer implements it on SQLite).
public protocol RefreshTokenStore: Sendable {
    func sealedRefreshToken(for mailbox: String) async throws -> String?
    func saveSealedRefreshToken(_ sealed: String, for mailbox: String) async throws
}

/// Where started consent flows are remembered, so each `state` is accepted once (the storage layer
/// implements it on SQLite).
public protocol OAuthStateStore: Sendable {
    /// Records a started flow: its nonce, the CRM user and mailbox it is for, and when it expires.
    func recordOAuthState(nonce: String, userId: String, mailbox: String, expires: Date) async throws
    /// Consumes the flow: true once for a recorded, unexpired nonce of this user; false afterwards.
    func consumeOAuthState(nonce: String, userId: String, at: Date) async throws -> Bool
}

/// An in-memory store (tests, demos).
public actor InMemoryRefreshTokenStore: RefreshTokenStore, OAuthStateStore {
    var tokens: [String: String] = [:]
    var states: [String: (user: String, expires: Date, used: Bool)] = [:]
    public init() {}
    public func sealedRefreshToken(for mailbox: String) -> String? { tokens[mailbox.lowercased()] }
    public func saveSealedRefreshToken(_ sealed: String, for mailbox: String) { tokens[mailbox.lowercased()] = sealed }
    public func recordOAuthState(nonce: String, userId: String, mailbox: String, expires: Date) { states[nonce] = (userId, expires, false) }
    public func consumeOAuthState(nonce: String, userId: String, at: Date) -> Bool {
        guard let s = states[nonce], !s.used, s.user == userId, at < s.expires else { return false }
        states[nonce]?.used = true
        return true
    }
}

/// The OAuth consent flow (CRM_GMAIL_AUTH_METHOD=oauth): a consent URL with a signed, expiring,
/// single-use state bound to the CRM user who started it; the code exchange; a check that the Google
/// account that consented is the mailbox being enrolled (getProfile); refresh tokens sealed with
/// AES-GCM and bound to their mailbox; access tokens refreshed and cached.
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
    let store: any RefreshTokenStore & OAuthStateStore
    let apiBaseURL: String
    let transport: any HTTPTransport
    let clock: any CaptureClock
    var cache: [String: CachedToken] = [:]
    /// How long a consent `state` stays valid.
    public var stateLifetime: TimeInterval = 600

    /// Why a consent callback was refused after its state's signature checked out.
    public enum ConsentFailure: Error, Equatable, CustomStringConvertible {
        /// The state was already used by an earlier callback (or was never issued here).
        case stateAlreadyUsed
        /// The Google account that consented is not the mailbox the flow was started for.
        case wrongAccount(consented: String, expected: String)
        public var description: String {
            switch self {
            case .stateAlreadyUsed: return "this consent link was already used; start again"
            case .wrongAccount(let c, let e):
                return "the Google account that consented (\(c)) is not the mailbox being enrolled (\(e)); sign in as \(e)"
            }
        }
    }

    /// - Parameter apiBaseURL: the Gmail API, asked for the consenting account's address (getProfile).
    public init(
        client: Client, secretKey: Data, store: any RefreshTokenStore & OAuthStateStore,
        apiBaseURL: String = "https://gmail.googleapis.com",
        transport: any HTTPTransport, clock: any CaptureClock
    ) throws {
        self.client = client
        box = try SecretBox(key: secretKey)
        state = OAuthStateSigner(secretKey: secretKey)
        self.store = store
        self.apiBaseURL = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
        self.transport = transport
        self.clock = clock
    }

    /// Starts a consent flow for a CRM user and their mailbox: records a fresh single-use nonce and
    /// returns Google's consent URL (the state binds the callback to that user and nonce).
    public func startConsent(userId: String, mailbox: String) async throws -> String {
        var rng = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try await store.recordOAuthState(
            nonce: nonce, userId: userId, mailbox: mailbox, expires: clock.now().addingTimeInterval(stateLifetime))
        return consentURL(userId: userId, loginHint: mailbox, nonce: nonce)
    }

    /// The Google consent URL for a CRM user and a nonce already recorded (`startConsent` does both).
    func consentURL(userId: String, loginHint: String?, nonce: String) -> String {
        var c = URLComponents(string: client.authURL) ?? URLComponents()
        var items = [
            URLQueryItem(name: "client_id", value: client.id), URLQueryItem(name: "redirect_uri", value: client.redirectURI),
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "scope", value: ServiceAccountTokenProvider.gmailReadonly),
            URLQueryItem(name: "access_type", value: "offline"), URLQueryItem(name: "prompt", value: "consent"),
            URLQueryItem(
                name: "state", value: state.make(userId: userId, expires: clock.now().addingTimeInterval(stateLifetime), nonce: nonce)),
        ]
        if let h = loginHint { items.append(URLQueryItem(name: "login_hint", value: h)) }
        c.queryItems = items
        return c.string ?? client.authURL
    }

    /// Checks `state` (signature, expiry, the expected user) and consumes it (a second callback with the
    /// same state is refused), exchanges the code, checks that the consenting Google account is `mailbox`,
    /// then seals and stores the refresh token for `mailbox`. Nothing is stored when any step fails.
    /// Returns the CRM user id from the state.
    @discardableResult
    public func completeConsent(code: String, state s: String, mailbox: String, expectedUser: String? = nil) async throws -> String {
        let (user, nonce) = try state.claims(s, now: clock.now(), expectedUser: expectedUser)
        guard try await store.consumeOAuthState(nonce: nonce, userId: user, at: clock.now()) else { throw ConsentFailure.stateAlreadyUsed }
        let answer = try await TokenEndpoint.post(
            client.tokenURL,
            form: [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", client.redirectURI),
                ("client_id", client.id), ("client_secret", client.secret),
            ], transport: transport)
        guard let refresh = answer.refresh_token else {
            throw GmailAPIError(
                classification: .needsAdmin, method: .oauthToken, status: 200, reason: "no_refresh_token",
                message: "Google returned no refresh token (consent without access_type=offline?)")
        }
        guard let access = answer.access_token else {
            throw GmailAPIError(
                classification: .needsAdmin, method: .oauthToken, status: 200, reason: "no_access_token",
                message: "Google returned no access token")
        }
        let consented = try await profileAddress(accessToken: access)
        guard consented.caseInsensitiveCompare(mailbox) == .orderedSame else {
            throw ConsentFailure.wrongAccount(consented: consented, expected: mailbox)
        }
        try await store.saveSealedRefreshToken(try box.seal(refresh, for: mailbox), for: mailbox)
        cache[mailbox.lowercased()] = CachedToken(
            token: access, expiresAt: clock.now().addingTimeInterval(TimeInterval(answer.expires_in?.value ?? 3600)))
        return user
    }

    public func accessToken(for mailbox: String, forceRefresh: Bool) async throws -> String {
        let now = clock.now()
        if !forceRefresh, let c = cache[mailbox.lowercased()], c.expiresAt.timeIntervalSince(now) > 120 { return c.token }
        guard let sealed = try await store.sealedRefreshToken(for: mailbox) else {
            throw GmailAPIError(
                classification: .needsAdmin, method: .oauthToken, status: nil, reason: "not_enrolled",
                message: "no refresh token stored for this mailbox; the user must complete the consent flow")
        }
        let refresh: String
        do { refresh = try box.open(sealed, for: mailbox) } catch let f as SecretBox.Failure {
            throw GmailAPIError(
                classification: .needsAdmin, method: .oauthToken, status: nil, reason: "undecryptable_token", message: f.description)
        }
        // A row from before v2 (raw key, not bound to its mailbox) is written again in the current format.
        if SecretBox.needsReseal(sealed) { try await store.saveSealedRefreshToken(try box.seal(refresh, for: mailbox), for: mailbox) }
        let answer = try await TokenEndpoint.post(
            client.tokenURL,
            form: [
                ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", client.id), ("client_secret", client.secret),
            ], transport: transport)
        cache[mailbox.lowercased()] = CachedToken(
            token: answer.access_token!, expiresAt: now.addingTimeInterval(TimeInterval(answer.expires_in?.value ?? 3600)))
        return answer.access_token!
    }

    /// The address of the Google account an access token belongs to (Gmail's getProfile).
    func profileAddress(accessToken: String) async throws -> String {
        let response: TransportResponse
        do {
            response = try await transport.send(
                TransportRequest(
                    method: "GET", url: apiBaseURL + "/gmail/v1/users/me/profile",
                    headers: [("Authorization", "Bearer " + accessToken)],
                    operation: .getProfile, timeout: .seconds(30)))
        } catch let e as TransportError {
            throw GmailAPIError(
                classification: .retryAfterBackoff, method: .getProfile, status: nil, reason: e.failure.rawValue,
                message: "Gmail unreachable while checking the consenting account")
        }
        struct Profile: Decodable { var emailAddress: String? }
        guard response.status == 200, let address = (try? JSONDecoder().decode(Profile.self, from: Data(response.body)))?.emailAddress
        else {
            throw GmailAPIError(
                classification: .permanent, method: .getProfile, status: response.status, reason: "profile_unavailable",
                message: "could not read the consenting account's address")
        }
        return address
    }
}
