public import Foundation
import CaptureParsing

/// The integration's configuration, from environment variables (the seed module's names and defaults,
/// plus what real deployments need). `load(from:)` reports every bad variable at once.
public struct CaptureConfig: Sendable, Equatable {
    public enum AuthMethod: String, Sendable { case dwd, oauth }
    public enum QuotaCosts: String, Sendable { case classic, table2026 = "2026" }
    /// How Gmail push notifications arrive (CRM_GMAIL_PUSH_MODE): not at all, by pulling a Pub/Sub
    /// subscription, or pushed by Pub/Sub to `POST /api/email/push`.
    public enum PushMode: String, Sendable, Codable { case off, pull, push }

    public var integrationEnabled = false
    public var authMethod: AuthMethod = .dwd
    public var serviceAccountKeyPath = "data/secrets/gmail-service-account.json"
    public var workspaceDomain: String?
    public var oauthClientID: String?
    public var oauthClientSecret: String?
    public var oauthRedirectURI: String?
    /// 32 bytes (from base64) that encrypt refresh tokens at rest.
    public var secretKey: Data?
    public var syncIntervalMinutes = 180
    public var backfillPageSize = 500
    public var maxAttachmentMB = 50
    public var attachmentConcurrency = 4
    public var rateUnitsPerSecond = 150
    public var retryMax = 5
    public var historyStaleDays = 5
    public var databasePath = "data/crm.db"
    public var attachmentDirectory = "data/email_attachments"
    public var apiBaseURL = "https://gmail.googleapis.com"
    public var oauthAuthURL = "https://accounts.google.com/o/oauth2/v2/auth"
    /// Google's token endpoint; in DWD mode the key file's `token_uri` is used instead.
    public var oauthTokenURL = "https://oauth2.googleapis.com/token"
    public var quotaCosts: QuotaCosts = .classic
    /// The per-project budget shared by every mailbox (Google's 1,200,000 units/minute).
    public var projectUnitsPerSecond = 20_000
    /// Addresses and domains never captured (CRM_GMAIL_BLOCKLIST, comma separated).
    public var blocklist: [String] = []
    /// A JSON file mapping the CRM's own users/investors tables and columns (CRM_GMAIL_CRM_SCHEMA).
    public var crmSchemaPath: String?
    /// The firm's default sharing level for teammates who set none (CRM_GMAIL_DEFAULT_SHARING).
    public var defaultSharing: SharingLevel = .metadata
    /// The firm's ceiling no teammate can exceed (CRM_GMAIL_MAX_SHARING).
    public var maxSharing: SharingLevel = .full
    /// The visibility rules these settings make.
    public var visibilityPolicy: VisibilityPolicy {
        VisibilityPolicy(defaultLevel: defaultSharing, ceiling: maxSharing, workspaceDomain: workspaceDomain)
    }
    /// Gmail push notifications (README "Push notifications").
    public var pushMode: PushMode = .off
    /// `projects/P/topics/T`: the topic `users.watch` publishes to (pull and push).
    public var pubsubTopic: String?
    /// `projects/P/subscriptions/S`: the pull subscription (pull).
    public var pubsubSubscription: String?
    public var pubsubBaseURL = "https://pubsub.googleapis.com"
    /// The shared secret the push endpoint URL carries as `?token=` (push).
    public var pushSecret: String?
    /// The `aud` claim the push subscription's OIDC token carries (push).
    public var pushOIDCAudience: String?
    /// The service account the push subscription signs its OIDC tokens as (push).
    public var pushOIDCEmail: String?
    /// Google's JWK set for those tokens.
    public var pushOIDCCertsURL = "https://www.googleapis.com/oauth2/v3/certs"
    /// The variables the environment set (non-empty), whatever their values.
    public var setVariables: Set<String> = []

    /// Whether the environment set `variable` (rather than the default applying).
    public func isSet(_ variable: String) -> Bool { setVariables.contains(variable) }

    public init() {}

    /// One invalid variable: its name, what is wrong, what is expected. Never carries a secret value.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var variable: String
        public var problem: String
        public var expected: String
        public var description: String { "\(variable): \(problem); expected \(expected)" }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var problems: [Problem]
        public var description: String { problems.map(\.description).joined(separator: "\n") }
    }

    /// Variable names that hold secrets: never echoed, masked when printed.
    public static let secretVariables: Set<String> = ["CRM_GMAIL_OAUTH_CLIENT_SECRET", "CRM_GMAIL_SECRET_KEY", "CRM_GMAIL_PUSH_SECRET"]

    /// Every variable this integration reads, in documentation order.
    public static let variables: [String] = [
        "CRM_GMAIL_INTEGRATION_ENABLED", "CRM_GMAIL_AUTH_METHOD", "CRM_GMAIL_SA_KEY_PATH", "CRM_GMAIL_WORKSPACE_DOMAIN",
        "CRM_GMAIL_OAUTH_CLIENT_ID", "CRM_GMAIL_OAUTH_CLIENT_SECRET", "CRM_GMAIL_OAUTH_REDIRECT_URI", "CRM_GMAIL_SECRET_KEY",
        "CRM_GMAIL_SYNC_INTERVAL_MIN", "CRM_GMAIL_BACKFILL_PAGE_SIZE", "CRM_GMAIL_MAX_ATTACHMENT_MB", "CRM_GMAIL_ATTACH_CONCURRENCY",
        "CRM_GMAIL_RATE_UNITS_SEC", "CRM_GMAIL_RETRY_MAX", "CRM_GMAIL_HISTORY_STALE_DAYS", "CRM_DB_PATH", "CRM_GMAIL_ATTACHMENT_DIR",
        "CRM_GMAIL_API_BASE_URL", "CRM_GMAIL_OAUTH_AUTH_URL", "CRM_GMAIL_OAUTH_TOKEN_URL", "CRM_GMAIL_QUOTA_COSTS",
        "CRM_GMAIL_PROJECT_UNITS_SEC", "CRM_GMAIL_BLOCKLIST", "CRM_GMAIL_CRM_SCHEMA", "CRM_GMAIL_DEFAULT_SHARING", "CRM_GMAIL_MAX_SHARING",
        "CRM_GMAIL_PUSH_MODE", "CRM_GMAIL_PUBSUB_TOPIC", "CRM_GMAIL_PUBSUB_SUBSCRIPTION", "CRM_GMAIL_PUBSUB_BASE_URL",
        "CRM_GMAIL_PUSH_SECRET",
        "CRM_GMAIL_PUSH_OIDC_AUDIENCE", "CRM_GMAIL_PUSH_OIDC_EMAIL", "CRM_GMAIL_PUSH_OIDC_CERTS_URL",
    ]

    /// Variables the storage commands need (`users`, `investors`, `migrate`, `status`, …): only these are
    /// checked by `storage(from:)`, so a Gmail setting being wrong never stops them.
    public static let storageVariables: Set<String> = [
        "CRM_DB_PATH", "CRM_GMAIL_WORKSPACE_DOMAIN", "CRM_GMAIL_AUTH_METHOD", "CRM_GMAIL_ATTACHMENT_DIR", "CRM_GMAIL_CRM_SCHEMA",
        "CRM_GMAIL_DEFAULT_SHARING", "CRM_GMAIL_MAX_SHARING",
    ]

    /// The configuration as the storage commands need it: every variable read, the integration's own
    /// requirements not enforced, and only problems in `storageVariables` reported.
    public static func storage(from env: [String: String]) throws -> CaptureConfig {
        var off = env
        off["CRM_GMAIL_INTEGRATION_ENABLED"] = "false"
        var (config, problems) = parse(off, fileExists: { _ in true })
        config.setVariables = parse(env, fileExists: { _ in true }).0.setVariables
        let relevant = problems.filter { storageVariables.contains($0.variable) }
        if !relevant.isEmpty { throw Invalid(problems: relevant) }
        return config
    }

    /// The CRM table/column mapping named by `crmSchemaPath`, else the defaults.
    public func crmSchema() throws -> CRMSchema {
        guard let path = crmSchemaPath else { return CRMSchema() }
        return try CRMSchema.load(path: path)
    }

    /// The master switch alone (nil when CRM_GMAIL_INTEGRATION_ENABLED is unset or not a boolean), for
    /// modes that need nothing else from the environment (`serve --fake`).
    public static func integrationSwitch(in env: [String: String]) -> Bool? {
        switch env["CRM_GMAIL_INTEGRATION_ENABLED"]?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// Reads and validates the configuration. Throws `Invalid` listing every problem.
    /// - Parameter fileExists: injectable for tests; checks the service-account key path.
    public static func load(
        from env: [String: String],
        fileExists: (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) }
    ) throws -> CaptureConfig {
        let (c, problems) = parse(env, fileExists: fileExists)
        if !problems.isEmpty { throw Invalid(problems: problems) }
        return c
    }

    /// Every variable read, every problem collected.
    static func parse(_ env: [String: String], fileExists: (String) -> Bool) -> (CaptureConfig, [Problem]) {
        var c = CaptureConfig()
        c.setVariables = Set(variables.filter { env[$0].map { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? false })
        var problems: [Problem] = []
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func bad(_ name: String, _ problem: String, _ expected: String) {
            problems.append(Problem(variable: name, problem: problem, expected: expected))
        }
        func shown(_ name: String, _ v: String) -> String {
            secretVariables.contains(name) ? "the value" : "\"\(v.prefix(60))\""
        }
        func bool(_ name: String, _ current: Bool) -> Bool {
            guard let v = value(name) else { return current }
            switch v.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: bad(name, "\(shown(name, v)) is not a boolean", "true/false, 1/0, yes/no or on/off"); return current
            }
        }
        func int(_ name: String, _ current: Int, _ range: ClosedRange<Int>) -> Int {
            guard let v = value(name) else { return current }
            guard let n = Int(v) else {
                bad(name, "\(shown(name, v)) is not a whole number", "an integer in \(range.lowerBound)...\(range.upperBound)");
                return current
            }
            guard range.contains(n) else {
                bad(name, "\(n) is out of range", "an integer in \(range.lowerBound)...\(range.upperBound)"); return current
            }
            return n
        }
        func url(_ name: String, _ current: String) -> String {
            guard let v = value(name) else { return current }
            guard let u = URL(string: v), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil else {
                bad(name, "\(shown(name, v)) is not an http(s) URL", "an absolute URL such as https://gmail.googleapis.com")
                return current
            }
            return v.hasSuffix("/") ? String(v.dropLast()) : v
        }

        c.integrationEnabled = bool("CRM_GMAIL_INTEGRATION_ENABLED", c.integrationEnabled)
        if let m = value("CRM_GMAIL_AUTH_METHOD") {
            if let method = AuthMethod(rawValue: m.lowercased()) {
                c.authMethod = method
            } else {
                bad("CRM_GMAIL_AUTH_METHOD", "\"\(m)\" is not a known method", "dwd or oauth")
            }
        }
        c.serviceAccountKeyPath = value("CRM_GMAIL_SA_KEY_PATH") ?? c.serviceAccountKeyPath
        if let d = value("CRM_GMAIL_WORKSPACE_DOMAIN") {
            let lower = d.lowercased()
            if lower.contains("@") || !lower.contains(".") || lower.contains(" ") || lower.hasPrefix(".") {
                bad("CRM_GMAIL_WORKSPACE_DOMAIN", "\"\(d)\" is not a domain name", "a domain such as firm.example (no @)")
            } else {
                c.workspaceDomain = lower
            }
        }
        c.oauthClientID = value("CRM_GMAIL_OAUTH_CLIENT_ID")
        c.oauthClientSecret = value("CRM_GMAIL_OAUTH_CLIENT_SECRET")
        if let r = value("CRM_GMAIL_OAUTH_REDIRECT_URI") { c.oauthRedirectURI = url("CRM_GMAIL_OAUTH_REDIRECT_URI", r) }
        if let k = value("CRM_GMAIL_SECRET_KEY") {
            if let d = Data(base64Encoded: k), d.count == 32 {
                c.secretKey = d
            } else {
                bad(
                    "CRM_GMAIL_SECRET_KEY", "the value is not base64 of exactly 32 bytes",
                    "44 base64 characters, e.g. the output of: head -c 32 /dev/urandom | base64")
            }
        }
        c.syncIntervalMinutes = int("CRM_GMAIL_SYNC_INTERVAL_MIN", c.syncIntervalMinutes, 1...10_080)
        c.backfillPageSize = int("CRM_GMAIL_BACKFILL_PAGE_SIZE", c.backfillPageSize, 1...500)
        c.maxAttachmentMB = int("CRM_GMAIL_MAX_ATTACHMENT_MB", c.maxAttachmentMB, 0...25_000)
        c.attachmentConcurrency = int("CRM_GMAIL_ATTACH_CONCURRENCY", c.attachmentConcurrency, 1...64)
        c.rateUnitsPerSecond = int("CRM_GMAIL_RATE_UNITS_SEC", c.rateUnitsPerSecond, 1...100_000)
        c.retryMax = int("CRM_GMAIL_RETRY_MAX", c.retryMax, 0...50)
        c.historyStaleDays = int("CRM_GMAIL_HISTORY_STALE_DAYS", c.historyStaleDays, 1...365)
        c.databasePath = value("CRM_DB_PATH") ?? c.databasePath
        c.attachmentDirectory = value("CRM_GMAIL_ATTACHMENT_DIR") ?? c.attachmentDirectory
        c.apiBaseURL = url("CRM_GMAIL_API_BASE_URL", c.apiBaseURL)
        c.oauthAuthURL = url("CRM_GMAIL_OAUTH_AUTH_URL", c.oauthAuthURL)
        c.oauthTokenURL = url("CRM_GMAIL_OAUTH_TOKEN_URL", c.oauthTokenURL)
        if let q = value("CRM_GMAIL_QUOTA_COSTS") {
            if let costs = QuotaCosts(rawValue: q.lowercased()) {
                c.quotaCosts = costs
            } else {
                bad("CRM_GMAIL_QUOTA_COSTS", "\"\(q)\" is not a known cost table", "classic or 2026")
            }
        }
        c.projectUnitsPerSecond = int("CRM_GMAIL_PROJECT_UNITS_SEC", c.projectUnitsPerSecond, 1...1_000_000)
        c.blocklist = (value("CRM_GMAIL_BLOCKLIST") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        for name in ["CRM_GMAIL_DEFAULT_SHARING", "CRM_GMAIL_MAX_SHARING"] {
            guard let v = value(name) else { continue }
            guard let level = SharingLevel(rawValue: v.lowercased()) else {
                bad(name, "\"\(v)\" is not a sharing level", "metadata, subject or full")
                continue
            }
            if name == "CRM_GMAIL_DEFAULT_SHARING" { c.defaultSharing = level } else { c.maxSharing = level }
        }
        if c.defaultSharing > c.maxSharing {
            bad(
                "CRM_GMAIL_DEFAULT_SHARING", "\(c.defaultSharing.rawValue) is above CRM_GMAIL_MAX_SHARING (\(c.maxSharing.rawValue))",
                "a default no higher than the firm's ceiling")
        }
        if let path = value("CRM_GMAIL_CRM_SCHEMA") {
            if fileExists(path) {
                c.crmSchemaPath = path
            } else {
                bad("CRM_GMAIL_CRM_SCHEMA", "no readable file at \"\(path)\"", "the path of a JSON table/column mapping")
            }
        }
        if c.rateUnitsPerSecond > c.projectUnitsPerSecond {
            bad(
                "CRM_GMAIL_RATE_UNITS_SEC", "\(c.rateUnitsPerSecond) exceeds CRM_GMAIL_PROJECT_UNITS_SEC (\(c.projectUnitsPerSecond))",
                "a per-mailbox budget no larger than the project budget")
        }

        parsePush(&c, value: value, url: url, bad: bad)
        if c.integrationEnabled, c.pushMode == .pull, c.authMethod == .oauth, !fileExists(c.serviceAccountKeyPath) {
            bad(
                "CRM_GMAIL_SA_KEY_PATH",
                "no readable file at \"\(c.serviceAccountKeyPath)\" (pull mode reads Pub/Sub as the service account)",
                "the path of a service account's JSON key with roles/pubsub.subscriber on the subscription")
        }

        // What each mode needs, once the integration is on.
        if c.integrationEnabled {
            switch c.authMethod {
            case .dwd:
                if !fileExists(c.serviceAccountKeyPath) {
                    bad(
                        "CRM_GMAIL_SA_KEY_PATH", "no readable file at \"\(c.serviceAccountKeyPath)\"",
                        "the path of the service account's JSON key")
                }
                if c.workspaceDomain == nil && value("CRM_GMAIL_WORKSPACE_DOMAIN") == nil {
                    bad("CRM_GMAIL_WORKSPACE_DOMAIN", "missing (required for dwd)", "the Google Workspace domain, e.g. firm.example")
                }
            case .oauth:
                for (name, v) in [
                    ("CRM_GMAIL_OAUTH_CLIENT_ID", c.oauthClientID), ("CRM_GMAIL_OAUTH_CLIENT_SECRET", c.oauthClientSecret),
                    ("CRM_GMAIL_OAUTH_REDIRECT_URI", c.oauthRedirectURI),
                ] where v == nil && value(name) == nil {
                    bad(name, "missing (required for oauth)", "the OAuth client's value from the Google Cloud console")
                }
                if c.secretKey == nil && value("CRM_GMAIL_SECRET_KEY") == nil {
                    bad(
                        "CRM_GMAIL_SECRET_KEY", "missing (required for oauth: refresh tokens are encrypted with it)",
                        "base64 of 32 random bytes")
                }
            }
        }
        return (c, problems)
    }

    /// The push variables: the mode, the Pub/Sub names (checked for Google's resource form), and what
    /// each mode needs (pull: topic and subscription; push: topic and a verification method).
    static func parsePush(
        _ c: inout CaptureConfig, value: (String) -> String?, url: (String, String) -> String,
        bad: (String, String, String) -> Void
    ) {
        if let m = value("CRM_GMAIL_PUSH_MODE") {
            if let mode = PushMode(rawValue: m.lowercased()) {
                c.pushMode = mode
            } else {
                bad("CRM_GMAIL_PUSH_MODE", "\"\(m)\" is not a push mode", "off, pull or push")
            }
        }
        for (name, kind) in [("CRM_GMAIL_PUBSUB_TOPIC", "topics"), ("CRM_GMAIL_PUBSUB_SUBSCRIPTION", "subscriptions")] {
            guard let v = value(name) else { continue }
            let parts = v.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "projects", parts[2] == Substring(kind), !parts[1].isEmpty, !parts[3].isEmpty,
                !v.contains(" ")
            else {
                bad(name, "\"\(v.prefix(120))\" is not a Pub/Sub \(kind.dropLast()) name", "projects/PROJECT/\(kind)/NAME")
                continue
            }
            if kind == "topics" { c.pubsubTopic = v } else { c.pubsubSubscription = v }
        }
        c.pubsubBaseURL = url("CRM_GMAIL_PUBSUB_BASE_URL", c.pubsubBaseURL)
        c.pushSecret = value("CRM_GMAIL_PUSH_SECRET")
        c.pushOIDCAudience = value("CRM_GMAIL_PUSH_OIDC_AUDIENCE")
        c.pushOIDCEmail = value("CRM_GMAIL_PUSH_OIDC_EMAIL")
        c.pushOIDCCertsURL = url("CRM_GMAIL_PUSH_OIDC_CERTS_URL", c.pushOIDCCertsURL)
        if let s = c.pushSecret, s.count < 16 {
            bad(
                "CRM_GMAIL_PUSH_SECRET", "the value is shorter than 16 characters",
                "a long random string, e.g. the output of: openssl rand -hex 32")
        }
        if (c.pushOIDCAudience == nil) != (c.pushOIDCEmail == nil) {
            let missing = c.pushOIDCAudience == nil ? "CRM_GMAIL_PUSH_OIDC_AUDIENCE" : "CRM_GMAIL_PUSH_OIDC_EMAIL"
            bad(
                missing, "missing (OIDC verification needs both the audience and the service account)",
                "the push subscription's oidcToken audience and serviceAccountEmail")
        }
        guard c.pushMode != .off, c.integrationEnabled else { return }
        if c.pubsubTopic == nil && value("CRM_GMAIL_PUBSUB_TOPIC") == nil {
            bad(
                "CRM_GMAIL_PUBSUB_TOPIC", "missing (required for push mode \(c.pushMode.rawValue))",
                "the topic users.watch publishes to, projects/PROJECT/topics/NAME")
        }
        switch c.pushMode {
        case .pull:
            if c.pubsubSubscription == nil && value("CRM_GMAIL_PUBSUB_SUBSCRIPTION") == nil {
                bad(
                    "CRM_GMAIL_PUBSUB_SUBSCRIPTION", "missing (required for pull)",
                    "the pull subscription, projects/PROJECT/subscriptions/NAME")
            }
        case .push:
            let oidc = value("CRM_GMAIL_PUSH_OIDC_AUDIENCE") != nil || value("CRM_GMAIL_PUSH_OIDC_EMAIL") != nil
            if value("CRM_GMAIL_PUSH_SECRET") == nil && !oidc {
                bad(
                    "CRM_GMAIL_PUSH_MODE", "push needs a way to verify Pub/Sub's requests",
                    "CRM_GMAIL_PUSH_SECRET (the endpoint's ?token=) and/or CRM_GMAIL_PUSH_OIDC_AUDIENCE with CRM_GMAIL_PUSH_OIDC_EMAIL")
            }
        case .off:
            break
        }
    }

    /// The effective configuration as (variable, shown value) pairs, secrets masked.
    public func describe() -> [(String, String)] {
        func mask(_ s: String?) -> String { s == nil ? "(unset)" : "******** (set)" }
        return [
            ("CRM_GMAIL_INTEGRATION_ENABLED", String(integrationEnabled)),
            ("CRM_GMAIL_AUTH_METHOD", authMethod.rawValue),
            ("CRM_GMAIL_SA_KEY_PATH", serviceAccountKeyPath),
            ("CRM_GMAIL_WORKSPACE_DOMAIN", workspaceDomain ?? "(unset)"),
            ("CRM_GMAIL_OAUTH_CLIENT_ID", oauthClientID ?? "(unset)"),
            ("CRM_GMAIL_OAUTH_CLIENT_SECRET", mask(oauthClientSecret)),
            ("CRM_GMAIL_OAUTH_REDIRECT_URI", oauthRedirectURI ?? "(unset)"),
            ("CRM_GMAIL_SECRET_KEY", mask(secretKey.map { _ in "" })),
            ("CRM_GMAIL_SYNC_INTERVAL_MIN", String(syncIntervalMinutes)),
            ("CRM_GMAIL_BACKFILL_PAGE_SIZE", String(backfillPageSize)),
            ("CRM_GMAIL_MAX_ATTACHMENT_MB", String(maxAttachmentMB)),
            ("CRM_GMAIL_ATTACH_CONCURRENCY", String(attachmentConcurrency)),
            ("CRM_GMAIL_RATE_UNITS_SEC", String(rateUnitsPerSecond)),
            ("CRM_GMAIL_RETRY_MAX", String(retryMax)),
            ("CRM_GMAIL_HISTORY_STALE_DAYS", String(historyStaleDays)),
            ("CRM_DB_PATH", databasePath),
            ("CRM_GMAIL_ATTACHMENT_DIR", attachmentDirectory),
            ("CRM_GMAIL_API_BASE_URL", apiBaseURL),
            ("CRM_GMAIL_OAUTH_AUTH_URL", oauthAuthURL),
            ("CRM_GMAIL_OAUTH_TOKEN_URL", oauthTokenURL),
            ("CRM_GMAIL_QUOTA_COSTS", quotaCosts.rawValue),
            ("CRM_GMAIL_PROJECT_UNITS_SEC", String(projectUnitsPerSecond)),
            ("CRM_GMAIL_BLOCKLIST", blocklist.isEmpty ? "(unset)" : blocklist.joined(separator: ",")),
            ("CRM_GMAIL_CRM_SCHEMA", crmSchemaPath ?? "(unset)"),
            ("CRM_GMAIL_DEFAULT_SHARING", defaultSharing.rawValue),
            ("CRM_GMAIL_MAX_SHARING", maxSharing.rawValue),
            ("CRM_GMAIL_PUSH_MODE", pushMode.rawValue),
            ("CRM_GMAIL_PUBSUB_TOPIC", pubsubTopic ?? "(unset)"),
            ("CRM_GMAIL_PUBSUB_SUBSCRIPTION", pubsubSubscription ?? "(unset)"),
            ("CRM_GMAIL_PUBSUB_BASE_URL", pubsubBaseURL),
            ("CRM_GMAIL_PUSH_SECRET", mask(pushSecret)),
            ("CRM_GMAIL_PUSH_OIDC_AUDIENCE", pushOIDCAudience ?? "(unset)"),
            ("CRM_GMAIL_PUSH_OIDC_EMAIL", pushOIDCEmail ?? "(unset)"),
            ("CRM_GMAIL_PUSH_OIDC_CERTS_URL", pushOIDCCertsURL),
        ]
    }
}
