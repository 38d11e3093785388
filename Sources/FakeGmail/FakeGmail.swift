public import Foundation
import MIMEKit
import Synchronization

/// A faithful, deterministic Gmail API. One model behind two front doors: call `handle(_:)` in-process
/// (no socket), or serve it over HTTP with `FakeGmailHTTPServer`. Every control operation exists as a
/// Swift method here and as a route under `/__fake` (see `ControlRoutes`).
///
/// ```swift
/// let fake = FakeGmail(options: .init(seed: 7))
/// await fake.addUser("alice@firm.example")
/// let m = try await fake.insertMessage(user: "alice@firm.example", raw: bytes, labelIds: ["INBOX"])
/// let token = await fake.accessToken(for: "alice@firm.example")
/// let r = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages/\(m.id)",
///                                       headers: [("Authorization", "Bearer \(token)")]))
/// ```
public actor FakeGmail {
    public struct Options: Sendable {
        public var seed: UInt64
        public var quota: QuotaConfig
        /// Virtual clock start (epoch ms). Default 2024-01-01T00:00:00Z; scenarios move it forward.
        public var clockStartMillis: Int64
        public var historyRetentionRecords: Int?
        public var historyRetentionSeconds: Int64?
        public var projectID: String
        /// This server's public base URL (token_uri in key files, redirect targets).
        public var baseURL: String
        /// The journal keeps the newest this many requests (a long-running server must not grow without end).
        public var journalLimit: Int

        public init(
            seed: UInt64 = 1, quota: QuotaConfig = .classic, clockStartMillis: Int64 = 1_704_067_200_000,
            historyRetentionRecords: Int? = nil, historyRetentionSeconds: Int64? = nil,
            projectID: String = "fake-gmail-project", baseURL: String = "http://fakegmail.invalid",
            journalLimit: Int = 100_000
        ) {
            self.journalLimit = max(1, journalLimit)
            self.seed = seed
            self.quota = quota
            self.clockStartMillis = clockStartMillis
            self.historyRetentionRecords = historyRetentionRecords
            self.historyRetentionSeconds = historyRetentionSeconds
            self.projectID = projectID
            self.baseURL = baseURL
        }
    }

    /// One journal line: every request, with the fault injected into it, if any.
    public struct JournalEntry: Sendable, Codable, Equatable {
        public var seq: Int
        public var atMillis: Int64
        public var method: String
        public var httpMethod: String
        public var path: String
        public var user: String?
        public var batchPart: Int?
        public var status: Int
        public var fault: String?
    }

    public struct Stats: Sendable, Equatable {
        /// Requests received per Gmail method id (and `batch`, `oauth2.token`), faulted ones included.
        public var requests: [String: Int]
        /// Quota units charged per mailbox (answered calls only).
        public var quotaUnits: [String: Int]
        /// Rate-limit answers (429 and rate 403s) the quota simulator gave, per mailbox.
        public var rateLimited: [String: Int]
    }

    public struct InsertedMessage: Sendable, Equatable {
        public var id: String
        public var threadId: String
        public var historyId: String
    }

    public let options: Options
    var model: FakeGmailModel {
        didSet { clockReading.withLock { $0 = model.clock.nowMillis } }
    }
    /// The virtual clock's reading, readable without awaiting the actor (a client's clock in tests
    /// follows it, as a real client's clock and Google's agree).
    let clockReading: Mutex<Int64>
    var quota: QuotaLedger
    var faults = FaultPlan()
    var oauth = OAuthServer()
    var journalEntries: [JournalEntry] = []
    /// Requests journaled since the start or the last reset (sequence numbers keep counting when old
    /// entries are dropped).
    var journaled = 0
    var requestCounts: [String: Int] = [:]
    var rateLimited: [String: Int] = [:]
    var baseURL: String
    /// Cloud Pub/Sub (topics, subscriptions, outstanding messages) and Gmail's push notifier.
    var pubsub: PubSubModel
    var notifier = PushNotifier()
    var pushSender: (any PushSender)?
    var pushLog: [PushDeliveryRecord] = []
    /// Signs the OIDC tokens on push requests (kept across `reset`, like service accounts).
    var pushOIDC = PushOIDCIssuer()

    public init(options: Options = Options()) {
        self.options = options
        clockReading = Mutex(options.clockStartMillis)
        model = FakeGmailModel(seed: options.seed, clockStartMillis: options.clockStartMillis)
        model.retentionRecords = options.historyRetentionRecords
        model.retentionAgeMillis = options.historyRetentionSeconds.map { $0 * 1000 }
        quota = QuotaLedger(config: options.quota)
        baseURL = options.baseURL
        pubsub = PubSubModel(seed: options.seed)
    }

    // MARK: - Mailboxes

    /// Adds a mailbox (idempotent).
    public func addUser(_ email: String) { model.addUser(email) }

    public func users() -> [String] { model.mailboxes.values.map(\.email).sorted() }

    /// Delivers a raw RFC 822 message. Without `internalDate` (epoch ms) it arrives "now" on the virtual clock.
    @discardableResult
    public func insertMessage(
        user: String, raw: [UInt8], labelIds: [String] = ["INBOX", "UNREAD"], internalDate: Int64? = nil
    ) throws -> InsertedMessage {
        let r = try model.insert(user, raw: raw, labelIds: labelIds, internalDate: internalDate)
        pumpNotifier()
        return InsertedMessage(id: r.id, threadId: r.threadId, historyId: r.historyId)
    }

    /// Permanently deletes a message (history: messageDeleted).
    public func deleteMessage(user: String, id: String) throws {
        guard let n = parseGmailID(id) else { throw FakeGmailError.invalidID }
        guard model.delete(user, id: n) else { throw FakeGmailError.notFound }
        pumpNotifier()
    }

    /// Adds and removes labels (history: labelAdded / labelRemoved). Unknown names become user labels.
    public func modifyLabels(user: String, id: String, add: [String] = [], remove: [String] = []) throws {
        guard let n = parseGmailID(id) else { throw FakeGmailError.invalidID }
        guard model.modify(user, id: n, add: add, remove: remove) else { throw FakeGmailError.notFound }
        pumpNotifier()
    }

    /// Every startHistoryId older than the mailbox's current one now gives 404.
    public func expireHistory(user: String) throws {
        guard model.expireHistory(user) else { throw FakeGmailError.notFound }
    }

    /// Message ids currently in a mailbox, newest first.
    public func messageIDs(user: String) -> [String] {
        model.mailbox(user)?.ordered().map { $0.id.gmailHex } ?? []
    }

    /// Message id -> label ids, for assertions.
    public func messageLabels(user: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for m in model.mailbox(user).map({ Array($0.messages.values) }) ?? [] { out[m.id.gmailHex] = m.labelIds }
        return out
    }

    public func currentHistoryId(user: String) -> String? {
        model.mailbox(user).map { String($0.currentHistoryId) }
    }

    // MARK: - Clock, faults, quota, journal

    public func nowMillis() -> Int64 { model.clock.nowMillis }

    /// The virtual clock now, without awaiting the actor.
    public nonisolated func currentMillis() -> Int64 { clockReading.withLock { $0 } }

    public func advanceClock(seconds: Double) {
        model.advance(millis: Int64(seconds * 1000))
        pumpNotifier()
    }

    public func addFault(_ rule: FaultRule) throws { try faults.add(rule) }

    public func clearFaults() { faults = FaultPlan() }

    public func setQuota(_ config: QuotaConfig) { quota = QuotaLedger(config: config) }

    public func stats() -> Stats { Stats(requests: requestCounts, quotaUnits: quota.spent, rateLimited: rateLimited) }

    /// The newest `Options.journalLimit` requests, oldest first.
    public func journal() -> [JournalEntry] { Array(journalEntries.suffix(options.journalLimit)) }

    /// Back to the state of a fresh fake with the same options; service accounts and OAuth clients are
    /// kept, so key files already handed out keep working.
    public func reset() {
        model = FakeGmailModel(seed: options.seed, clockStartMillis: options.clockStartMillis)
        model.retentionRecords = options.historyRetentionRecords
        model.retentionAgeMillis = options.historyRetentionSeconds.map { $0 * 1000 }
        quota = QuotaLedger(config: quota.config)
        faults = FaultPlan()
        journalEntries = []
        journaled = 0
        requestCounts = [:]
        rateLimited = [:]
        oauth.accessTokens = [:]
        oauth.revokedUsers = []
        pubsub = PubSubModel(seed: options.seed)
        notifier = PushNotifier()
        pushLog = []
    }

    // MARK: - Auth

    public func setBaseURL(_ url: String) { baseURL = url }

    public var tokenURL: String { baseURL + "/token" }

    /// Creates a service account (RSA-2048) allowed to impersonate every mailbox; returns its email.
    public func createServiceAccount() throws -> String {
        try oauth.createServiceAccount(projectID: options.projectID, ids: &model.ids)
    }

    /// The Google JSON key file of a service account (created on first use), with `token_uri` pointing here.
    public func serviceAccountKeyJSON(email: String? = nil) throws -> Data {
        let e = try email ?? oauth.serviceAccounts.keys.sorted().first ?? createServiceAccount()
        guard let key = oauth.keyFile(e, projectID: options.projectID, tokenURI: tokenURL) else { throw FakeGmailError.notFound }
        return Data(key.render(pretty: true))
    }

    /// Simulates an admin withdrawing (or granting) domain-wide delegation: token requests get unauthorized_client.
    public func setDelegationAuthorized(_ authorized: Bool) {
        for k in oauth.serviceAccounts.keys { oauth.serviceAccounts[k]!.delegationAuthorized = authorized }
    }

    /// The user's grants now fail with invalid_grant (revoked consent, suspended account).
    public func revokeUser(_ email: String) {
        oauth.revokedUsers.insert(email.lowercased())
        oauth.accessTokens = oauth.accessTokens.filter { $0.value.email.lowercased() != email.lowercased() }
    }

    public func registerOAuthClient(id: String, secret: String) { oauth.clients[id] = OAuthServer.Client(id: id, secret: secret) }

    /// An access token for a mailbox, as if obtained through the token endpoint.
    public func accessToken(for email: String, scopes: Set<String> = ["https://www.googleapis.com/auth/gmail.readonly"]) -> String {
        let now = model.clock.nowMillis
        let minted = model.ids.token(32)
        return oauth.issue(email: email, scopes: scopes, now: now) { minted }
    }
}
