import Foundation
import CaptureParsing
public import Logging

/// The one assembly of a running installation, built from a `CaptureConfig` the way Hummingbird's
/// template has one `buildApplication`: the CRM's database and directory, and (when the integration is
/// on) transport → credentials → rate limiter → Gmail client → sync engine, from which the scheduler
/// and the routes are made. Every command, the server and the tests build through it; tests and the
/// embedded fake inject the transport, the credentials, the clock and the database.
///
/// ```swift
/// let runtime = try CaptureRuntime.build(try CaptureConfig.load(from: ProcessInfo.processInfo.environment))
/// let outcomes = try await runtime.gmail?.engine.syncAll()
/// ```
public struct CaptureRuntime: Sendable {
    public let config: CaptureConfig
    public let database: CaptureDatabase
    public let directory: CRMDirectory
    public let clock: any CaptureClock
    public let logger: Logger
    /// nil when CRM_GMAIL_INTEGRATION_ENABLED is off: then nothing talks to Gmail and no credentials are needed.
    public let gmail: Gmail?

    /// Every read of captured mail goes through this (the visibility rules from the configuration).
    public var readModel: ReadModel { ReadModel(database: database, policy: config.visibilityPolicy, clock: clock) }

    /// Relationship figures over what a viewer may see.
    public var relationships: RelationshipReports {
        RelationshipReports(readModel: readModel, directory: directory, policy: CapturePolicy(blocklist: config.blocklist), clock: clock)
    }

    /// What talks to Gmail.
    public struct Gmail: Sendable {
        public let client: GmailClient
        public let limiter: RateLimiter
        public let engine: SyncEngine
        /// The consent flow, in oauth mode.
        public let oauth: OAuthTokenProvider?
        /// The HTTP seam every call goes through (Gmail, tokens, Pub/Sub, Google's keys).
        public let transport: any HTTPTransport
    }

    /// Builds the runtime.
    /// - Parameters:
    ///   - database: an open database (tests); by default `config.databasePath` is opened (migrations applied).
    ///   - transport: the HTTP seam; by default AsyncHTTPClient.
    ///   - tokens: credentials; by default DWD from `config.serviceAccountKeyPath` or the OAuth consent flow.
    ///   - clock: time for tokens, quota and retries.
    public static func build(
        _ config: CaptureConfig, database: CaptureDatabase? = nil, transport: (any HTTPTransport)? = nil,
        tokens: (any AccessTokenProvider)? = nil, clock: any CaptureClock = SystemClock(),
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() }),
        progress: (@Sendable (SyncProgress) -> Void)? = nil
    ) throws -> CaptureRuntime {
        let database = try database ?? CaptureDatabase(path: config.databasePath)
        let directory = CRMDirectory(database: database, schema: try config.crmSchema())
        guard config.integrationEnabled else {
            return CaptureRuntime(config: config, database: database, directory: directory, clock: clock, logger: logger, gmail: nil)
        }
        let transport = transport ?? AsyncHTTPClientTransport()
        var oauth: OAuthTokenProvider?
        let credentials: any AccessTokenProvider
        if let tokens {
            credentials = tokens
        } else {
            switch config.authMethod {
            case .dwd:
                credentials = try ServiceAccountTokenProvider.load(
                    path: config.serviceAccountKeyPath, transport: transport, clock: clock, logger: logger)
            case .oauth:
                guard let key = config.secretKey, let id = config.oauthClientID, let secret = config.oauthClientSecret,
                    let redirect = config.oauthRedirectURI
                else { throw CaptureConfig.Invalid(problems: [Self.oauthIncomplete]) }
                let provider = try OAuthTokenProvider(
                    client: .init(
                        id: id, secret: secret, redirectURI: redirect, authURL: config.oauthAuthURL,
                        tokenURL: config.oauthTokenURL),
                    secretKey: key, store: database, apiBaseURL: config.apiBaseURL, transport: transport, clock: clock)
                credentials = provider
                oauth = provider
            }
        }
        let limiter = RateLimiter(
            unitsPerSecondPerMailbox: config.rateUnitsPerSecond, unitsPerSecondPerProject: config.projectUnitsPerSecond, clock: clock)
        let client = GmailClient(
            baseURL: config.apiBaseURL, transport: transport, tokens: credentials, limiter: limiter,
            costs: .from(config.quotaCosts), retry: RetryPolicy(maxRetries: config.retryMax), clock: clock, logger: logger)
        let engine = SyncEngine(
            database: database, client: client, limiter: limiter, settings: SyncSettings(config), clock: clock,
            logger: logger, progress: progress)
        return CaptureRuntime(
            config: config, database: database, directory: directory, clock: clock, logger: logger,
            gmail: Gmail(client: client, limiter: limiter, engine: engine, oauth: oauth, transport: transport))
    }

    static let oauthIncomplete = CaptureConfig.Problem(
        variable: "CRM_GMAIL_AUTH_METHOD",
        problem: "oauth needs CRM_GMAIL_OAUTH_CLIENT_ID, _SECRET, _REDIRECT_URI and CRM_GMAIL_SECRET_KEY",
        expected: "all four set, or dwd")

    /// The scheduler over this runtime's engine, every `CRM_GMAIL_SYNC_INTERVAL_MIN` (nil when the integration is off).
    public func scheduler(clock: (any CaptureClock)? = nil) -> SyncScheduler? {
        guard let gmail else { return nil }
        return SyncScheduler(
            engine: gmail.engine, interval: .seconds(Int64(config.syncIntervalMinutes) * 60), clock: clock ?? self.clock, logger: logger)
    }

    /// The `/api/email/*` routes over this runtime (503 everywhere when the integration is off).
    public func routes(
        authenticator: (any RequestAuthenticator)? = nil, runNow: @escaping @Sendable (SyncScheduler.Trigger) -> Void
    ) -> EmailRoutes {
        EmailRoutes(
            enabled: gmail != nil, database: database, directory: directory, readModel: readModel, relationships: relationships,
            authenticator: authenticator ?? APITokenAuthenticator(directory: directory, clock: clock),
            attachments: AttachmentStore(root: URL(fileURLWithPath: config.attachmentDirectory)), oauth: gmail?.oauth,
            workspaceDomain: config.workspaceDomain, clock: clock, runNow: runNow, logger: logger, pushMode: config.pushMode)
    }

    // MARK: - Push

    /// Where notifications land: recorded, then `runNow(.mailbox(m))`.
    public func pushInbox(runNow: @escaping @Sendable (SyncScheduler.Trigger) -> Void) -> PushInbox {
        PushInbox(database: database, clock: clock, wake: { runNow(.mailbox($0)) }, logger: logger)
    }

    /// `POST /api/email/push` (mount beside `routes(...)` under `/api/email`); it answers 404 unless
    /// CRM_GMAIL_PUSH_MODE is `push`, 503 when the integration is off.
    public func pushRoutes(runNow: @escaping @Sendable (SyncScheduler.Trigger) -> Void) -> PushRoutes {
        var verifier: PushVerifier?
        if let gmail, config.pushMode == .push {
            let oidc = config.pushOIDCAudience.flatMap { audience in
                config.pushOIDCEmail.map {
                    PushVerifier.OIDC(audience: audience, serviceAccountEmail: $0, certsURL: config.pushOIDCCertsURL)
                }
            }
            verifier = PushVerifier(secret: config.pushSecret, oidc: oidc, transport: gmail.transport, clock: clock)
        }
        return PushRoutes(enabled: gmail != nil, verifier: verifier, inbox: pushInbox(runNow: runNow), logger: logger)
    }

    /// The push service beside `scheduler` (nil when CRM_GMAIL_PUSH_MODE is off or the integration is off).
    /// - Parameter pubsubTokens: credentials for Pub/Sub pull; by default the service account's own token
    ///   (`CRM_GMAIL_SA_KEY_PATH`, scope pubsub, no subject).
    public func pushService(
        scheduler: SyncScheduler, pubsubTokens: (any AccessTokenProvider)? = nil, planner: PushPlanner = PushPlanner(),
        pacing: PushService.PullPacing = PushService.PullPacing()
    ) throws -> PushService? {
        guard let gmail, config.pushMode != .off, let topic = config.pubsubTopic else { return nil }
        var pubsub: PubSubClient?
        if config.pushMode == .pull, let subscription = config.pubsubSubscription {
            let tokens =
                try pubsubTokens
                ?? ServiceAccountTokenProvider.load(
                    path: config.serviceAccountKeyPath, scope: PubSubClient.scope, delegated: false, transport: gmail.transport,
                    clock: clock, logger: logger)
            pubsub = PubSubClient(baseURL: config.pubsubBaseURL, subscription: subscription, transport: gmail.transport, tokens: tokens)
        }
        return PushService(
            mode: config.pushMode, topic: topic, client: gmail.client, database: database, pubsub: pubsub,
            inbox: pushInbox(runNow: { scheduler.runNow($0) }), planner: planner, pacing: pacing, clock: clock, logger: logger)
    }
}

extension SyncSettings {
    /// The sync settings a configuration implies.
    public init(_ config: CaptureConfig) {
        self.init()
        pageSize = config.backfillPageSize
        historyStaleDays = config.historyStaleDays
        workspaceDomain = config.workspaceDomain
        policy = CapturePolicy(blocklist: config.blocklist)
        attachmentStore = AttachmentStore(root: URL(fileURLWithPath: config.attachmentDirectory))
        attachmentConcurrency = config.attachmentConcurrency
        maxAttachmentMB = config.maxAttachmentMB
    }
}
