public import Foundation
import CaptureParsing

/// What to do about a failed call. One classifier maps (HTTP status, Google reason, OAuth error,
/// transport failure) to one of these.
public enum FailureClass: String, Sendable, Codable, CaseIterable {
    /// 429, 403 rate limits, 5xx, timeouts, resets, truncated bodies: back off and retry.
    case retryAfterBackoff
    /// 401: refresh the access token, retry once.
    case refreshTokenThenRetryOnce
    /// 404 on a message or attachment: the message is gone (terminal, not a retry loop).
    case messageGone
    /// 404 on history.list: the cursor is too old; recover with a bounded re-list.
    case historyExpired
    /// invalid_grant, unauthorized_client, delegation denied, domain policy, mail not enabled: a human must act.
    case needsAdmin
    /// Any other 4xx: the request itself is wrong.
    case permanent
}

/// Transport-level failures, translated at the client boundary (callers never see AsyncHTTPClient types).
public enum TransportFailure: String, Sendable, Codable, Equatable {
    case timeout, connectionReset, truncatedBody, malformedBody, other
}

public struct TransportError: Error, Sendable, Equatable {
    public var failure: TransportFailure
    public var detail: String
    public init(_ failure: TransportFailure, _ detail: String = "") {
        self.failure = failure
        self.detail = detail
    }
}

/// A failed Gmail or OAuth call, with enough context to act on and nothing secret in it.
public struct GmailAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var classification: FailureClass
    /// The Gmail method or OAuth operation that failed; prints as Google's id (`gmail.users.messages.get`,
    /// `oauth2.token`), so error texts read as they always have.
    public var method: GmailMethod
    public var status: Int?
    /// Google's `errors[0].reason`, the OAuth `error` code, or the transport failure.
    public var reason: String?
    /// Google's message (never a token or a body).
    public var message: String
    /// When Google said to come back (Retry-After header or "Retry after <time>" text, the later one).
    public var retryAfter: Date?
    /// Attempts made before giving up.
    public var attempts: Int

    public init(
        classification: FailureClass, method: GmailMethod, status: Int?, reason: String?, message: String,
        retryAfter: Date? = nil, attempts: Int = 1
    ) {
        self.classification = classification
        self.method = method
        self.status = status
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
        self.attempts = attempts
    }

    /// Bounded text for logs and metrics labels: no ids, no addresses, no messages.
    public var shortDescription: String {
        "\(classification.rawValue) \(method) \(status.map(String.init) ?? "-") \(reason ?? "-")"
    }

    public var description: String {
        "\(method) failed (\(classification.rawValue)): HTTP \(status.map(String.init) ?? "none")\(reason.map { " \($0)" } ?? ""): \(message)\(attempts > 1 ? " after \(attempts) attempts" : "")"
    }
}

/// The single place where failures are classified.
public enum ErrorClassifier {
    static let needsAdminReasons: Set<String> = [
        "forbidden", "domainPolicy", "insufficientPermissions", "accessNotConfigured",
        "failedPrecondition", "authError.delegation",
    ]
    static let needsAdminOAuth: Set<String> = [
        "invalid_grant", "unauthorized_client", "access_denied", "admin_policy_enforced",
        "invalid_client", "deleted_client", "disabled_client", "org_internal", "invalid_scope",
    ]
    static let retryOAuth: Set<String> = ["internal_failure", "server_error", "temporarily_unavailable"]

    /// Classifies a failed call. The method matters only for a 404: on `history.list` the cursor has
    /// expired, on `messages.get` or `messages.attachments.get` the message is gone.
    public static func classify(
        status: Int?, reason: String?, oauthError: String?, transport: TransportFailure?,
        method: GmailMethod
    ) -> FailureClass {
        classify(status: status, reason: reason, oauthError: oauthError, transport: transport, knownMethod: method)
    }

    /// `classify` for a caller holding a method id as text (Google's id, as logged or journaled): the id
    /// is parsed into a `GmailMethod`; text naming no known method gets no method-specific meaning.
    public static func classify(
        status: Int?, reason: String?, oauthError: String?, transport: TransportFailure?,
        method: String
    ) -> FailureClass {
        classify(
            status: status, reason: reason, oauthError: oauthError, transport: transport,
            knownMethod: GmailMethod(rawValue: method))
    }

    private static func classify(
        status: Int?, reason: String?, oauthError: String?, transport: TransportFailure?,
        knownMethod method: GmailMethod?
    ) -> FailureClass {
        if transport != nil { return .retryAfterBackoff }
        if let o = oauthError {
            if retryOAuth.contains(o) { return .retryAfterBackoff }
            if needsAdminOAuth.contains(o) { return .needsAdmin }
            if let s = status, s >= 500 { return .retryAfterBackoff }
            return .needsAdmin
        }
        guard let s = status else { return .permanent }
        switch s {
        case 401: return .refreshTokenThenRetryOnce
        case 429: return .retryAfterBackoff
        case 403:
            if reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" { return .retryAfterBackoff }
            if reason == "dailyLimitExceeded" { return .permanent }
            return .needsAdmin
        case 400:
            return reason == "failedPrecondition" ? .needsAdmin : .permanent
        case 404:
            switch method {
            case .historyList?: return .historyExpired
            case .messagesGet?, .messagesAttachmentsGet?: return .messageGone
            default: return .permanent
            }
        case 408, 500, 502, 503, 504: return .retryAfterBackoff
        default: return s >= 500 ? .retryAfterBackoff : .permanent
        }
    }

    /// Google's error envelope -> (reason, message); falls back to `status` and the raw text.
    static func parseGoogleError(_ body: [UInt8]) -> (reason: String?, message: String?, oauthError: String?) {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return (nil, nil, nil) }
        if let e = obj["error"] as? [String: Any] {
            let reason = (e["errors"] as? [[String: Any]])?.first?["reason"] as? String ?? e["status"] as? String
            return (reason, e["message"] as? String, nil)
        }
        if let code = obj["error"] as? String {
            return (code, obj["error_description"] as? String, code)
        }
        return (nil, nil, nil)
    }

    /// The retry hint: the later of a `Retry-After` header (seconds or HTTP date) and Google's
    /// "Retry after <RFC 3339>" message text.
    public static func retryAfter(header: String?, message: String?, now: Date) -> Date? {
        var hints: [Date] = []
        if let h = header?.trimmingCharacters(in: .whitespaces) {
            if let secs = Double(h) {
                hints.append(now.addingTimeInterval(max(0, secs)))
            } else {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.timeZone = TimeZone(identifier: "GMT")
                f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
                if let d = f.date(from: h) { hints.append(d) }
            }
        }
        if let m = message, let r = m.range(of: "Retry after ") {
            let stamp = String(m[r.upperBound...].prefix { !$0.isWhitespace })
            let iso = ISO8601DateFormatter()
            iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let plain = ISO8601DateFormatter()
            if let d = iso.date(from: stamp) ?? plain.date(from: stamp) { hints.append(d) }
        }
        return hints.max()
    }
}
