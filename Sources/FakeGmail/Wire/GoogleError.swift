import Foundation
/// An error as Gmail reports it: HTTP status, `errors[0].reason`, `domain`, message, gRPC status name.
/// Rendered through one adapter (`response`) into Google's envelope
/// `{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`.
public struct FakeGmailError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var reason: String
    public var domain: String
    public var status: String
    public var extraHeaders: [String: String] = [:]
    /// Auth errors carry `location`/`locationType` and a different inner message.
    var innerMessage: String?
    var location: String?
    /// Google's newer APIs (Pub/Sub) send `{"error": {"code", "message", "status"}}` without the legacy
    /// `errors` list.
    var omitsErrorList = false

    public init(code: Int, message: String, reason: String, domain: String = "global", status: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.status = status ?? FakeGmailError.grpcStatus(code)
    }

    static func grpcStatus(_ code: Int) -> String {
        switch code {
        case 400: return "INVALID_ARGUMENT"
        case 401: return "UNAUTHENTICATED"
        case 403: return "PERMISSION_DENIED"
        case 404: return "NOT_FOUND"
        case 409: return "ALREADY_EXISTS"
        case 412: return "FAILED_PRECONDITION"
        case 429: return "RESOURCE_EXHAUSTED"
        case 500: return "INTERNAL"
        case 501: return "UNIMPLEMENTED"
        case 503: return "UNAVAILABLE"
        case 504: return "DEADLINE_EXCEEDED"
        default: return "UNKNOWN"
        }
    }

    static func defaultReason(_ code: Int) -> (reason: String, message: String, domain: String) {
        switch code {
        case 400: return ("badRequest", "Bad Request", "global")
        case 401: return ("authError", "Invalid Credentials", "global")
        case 403: return ("rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")
        case 404: return ("notFound", "Requested entity was not found.", "global")
        case 429: return ("rateLimitExceeded", "Resource has been exhausted (e.g. check quota).", "global")
        case 500: return ("backendError", "Backend Error", "global")
        case 502: return ("backendError", "Bad Gateway", "global")
        case 503: return ("backendError", "The service is currently unavailable.", "global")
        case 504: return ("backendError", "Deadline exceeded", "global")
        default: return ("unknown", "Error", "global")
        }
    }

    // The catalogue (GMAIL_API_NOTES §9.2).
    public static let invalidID = FakeGmailError(code: 400, message: "Invalid id value", reason: "invalidArgument")
    public static let notFound = FakeGmailError(code: 404, message: "Requested entity was not found.", reason: "notFound")
    public static func badRequest(_ m: String) -> FakeGmailError { FakeGmailError(code: 400, message: m, reason: "invalidArgument") }
    public static func delegationDenied(_ email: String) -> FakeGmailError {
        FakeGmailError(code: 403, message: "Delegation denied for \(email)", reason: "forbidden")
    }
    public static let insufficientScope: FakeGmailError = {
        var e = FakeGmailError(code: 403, message: "Request had insufficient authentication scopes.", reason: "insufficientPermissions")
        e.innerMessage = "Insufficient Permission"
        e.extraHeaders["WWW-Authenticate"] = "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\""
        return e
    }()
    public static let invalidCredentials: FakeGmailError = {
        var e = FakeGmailError(
            code: 401,
            message:
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            reason: "authError")
        e.innerMessage = "Invalid Credentials"
        e.location = "Authorization"
        e.extraHeaders["WWW-Authenticate"] = "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\""
        return e
    }()
    public static let loginRequired: FakeGmailError = {
        var e = FakeGmailError(
            code: 401,
            message:
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            reason: "required")
        e.innerMessage = "Login Required."
        e.location = "Authorization"
        return e
    }()
    public static func notImplemented(_ what: String) -> FakeGmailError {
        FakeGmailError(code: 501, message: "FakeGmail does not implement \(what)", reason: "notImplemented")
    }
    public static let mailServiceNotEnabled = FakeGmailError(
        code: 400, message: "Precondition check failed.", reason: "failedPrecondition", status: "FAILED_PRECONDITION")
    /// An error as Cloud Pub/Sub's REST API sends it: no `errors` list.
    static func pubsub(_ code: Int, _ message: String, status: String? = nil) -> FakeGmailError {
        var e = FakeGmailError(code: code, message: message, reason: "", status: status)
        e.omitsErrorList = true
        return e
    }
    public static let domainPolicy = FakeGmailError(
        code: 403, message: "The domain administrators have disabled Gmail apps.", reason: "domainPolicy")

    /// An error for a scripted fault with this status.
    static func fault(status: Int, reason: String?, message: String?) -> FakeGmailError {
        let d = defaultReason(status)
        let r = reason ?? d.reason
        let domain =
            ["userRateLimitExceeded", "rateLimitExceeded", "dailyLimitExceeded"].contains(r) && status == 403 ? "usageLimits" : d.domain
        return FakeGmailError(code: status, message: message ?? d.message, reason: r, domain: domain)
    }

    var envelope: WireJSON {
        var inner: [(String, WireJSON)] = [
            ("message", .string(innerMessage ?? message)), ("domain", .string(domain)), ("reason", .string(reason)),
        ]
        if let l = location { inner += [("location", .string(l)), ("locationType", .string("header"))] }
        var body: [(String, WireJSON)] = [("code", .number(Int64(code))), ("message", .string(message))]
        if !omitsErrorList { body.append(("errors", .array([.object(inner)]))) }
        body.append(("status", .string(status)))
        return .object([("error", .object(body))])
    }

    /// The single adapter from errors to wire responses.
    var response: FakeResponse {
        var r = FakeResponse.json(code, envelope)
        for (k, v) in extraHeaders.sorted(by: { $0.key < $1.key }) { r.headers.append((k, v)) }
        return r
    }
}
