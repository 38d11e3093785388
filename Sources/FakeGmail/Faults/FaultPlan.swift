import Foundation

/// One scripted fault. Matching: every set criterion must hold. Effects: an error with Google's real
/// body, latency on the virtual clock, a dropped connection, a truncated or malformed body. A rule with
/// `count` expires after firing that many times.
public struct FaultRule: Sendable, Codable, Equatable {
    /// Gmail method id (`gmail.users.messages.get`, or the short `messages.get`), `batch` (the envelope
    /// itself: the rule answers the whole batch), `oauth2.token`, or an HTTP method (`GET`). Kept as
    /// text on the wire; parsed once into a `FaultPlan.MethodMatcher` when the rule is added.
    public var method: String?
    public var pathRegex: String?
    /// Mailbox address the call is for.
    public var user: String?
    /// Fire only on the nth matching call (1-based).
    public var nth: Int?
    /// Only for this inner part of a batch (0-based).
    public var batchPart: Int?
    /// Fire with this probability, drawn from the fake's seeded generator.
    public var probability: Double?
    public var status: Int?
    /// Google reason (`rateLimitExceeded`, `backendError`, ...); defaults from the status.
    public var reason: String?
    public var message: String?
    /// Seconds for a `Retry-After` header.
    public var retryAfter: Int?
    /// Put Google's "Retry after <RFC 3339>" text in the message (seconds from now).
    public var retryAfterText: Int?
    /// Virtual milliseconds that pass while this call is served.
    public var latencyMs: Int?
    public var transport: TransportFault?
    /// Serve a body that is not valid JSON.
    public var malformedBody: Bool?
    /// Fire at most this many times.
    public var count: Int?

    public init(
        method: String? = nil, pathRegex: String? = nil, user: String? = nil, nth: Int? = nil, batchPart: Int? = nil,
        probability: Double? = nil, status: Int? = nil, reason: String? = nil, message: String? = nil,
        retryAfter: Int? = nil, retryAfterText: Int? = nil, latencyMs: Int? = nil, transport: TransportFault? = nil,
        malformedBody: Bool? = nil, count: Int? = nil
    ) {
        self.method = method
        self.pathRegex = pathRegex
        self.user = user
        self.nth = nth
        self.batchPart = batchPart
        self.probability = probability
        self.status = status
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
        self.retryAfterText = retryAfterText
        self.latencyMs = latencyMs
        self.transport = transport
        self.malformedBody = malformedBody
        self.count = count
    }
}

/// The ordered set of active rules plus their counters. The first rule that matches and fires wins.
struct FaultPlan: Sendable {
    struct Active: Sendable {
        var rule: FaultRule
        var matcher: MethodMatcher?
        var regex: NSRegularExpression?
        var matched = 0
        var fired = 0
    }
    var rules: [Active] = []

    /// A rule's `method` text, parsed once: a Gmail method (full id or short form), the batch envelope,
    /// the token endpoint, or else an HTTP method (upper-cased; text that names none of these is taken
    /// as an HTTP method too, so it never matches, as before).
    enum MethodMatcher: Sendable, Equatable {
        case gmail(GmailMethod)
        case batch
        case tokenEndpoint
        case httpMethod(String)

        init(_ text: String) {
            if let m = GmailMethod(id: text) {
                self = .gmail(m)
            } else if text == "batch" {
                self = .batch
            } else if text == "oauth2.token" {
                self = .tokenEndpoint
            } else {
                self = .httpMethod(text.uppercased())
            }
        }

        func matches(_ call: Call) -> Bool {
            switch self {
            case .gmail(let m): return call.endpoint == .gmail(m)
            case .batch: return call.endpoint == .batch
            case .tokenEndpoint: return call.endpoint == .oauthToken
            case .httpMethod(let h): return h == call.httpMethod
            }
        }
    }

    struct Call {
        var endpoint: FakeEndpoint
        var httpMethod: String
        var path: String
        var user: String?
        var batchPart: Int?
    }

    mutating func add(_ rule: FaultRule) throws {
        var regex: NSRegularExpression?
        if let p = rule.pathRegex {
            do { regex = try NSRegularExpression(pattern: p) } catch { throw FakeGmailError.badRequest("invalid pathRegex: \(p)") }
        }
        rules.append(Active(rule: rule, matcher: rule.method.map(MethodMatcher.init), regex: regex))
    }

    /// Returns the rule to apply to this call, if any, updating counters.
    mutating func pick(_ call: Call, random: inout FakeRandom) -> FaultRule? {
        for i in rules.indices {
            let r = rules[i].rule
            if let c = r.count, rules[i].fired >= c { continue }
            if let m = rules[i].matcher, !m.matches(call) { continue }
            if let re = rules[i].regex {
                let range = NSRange(call.path.startIndex..., in: call.path)
                if re.firstMatch(in: call.path, range: range) == nil { continue }
            }
            if let u = r.user, u.lowercased() != call.user?.lowercased() { continue }
            if let p = r.batchPart, p != call.batchPart { continue }
            rules[i].matched += 1
            if let n = r.nth, rules[i].matched != n { continue }
            if let p = r.probability {
                let draw = Double(random.next() >> 11) / Double(1 << 53)
                if draw >= p { continue }
            }
            rules[i].fired += 1
            return r
        }
        return nil
    }
}
