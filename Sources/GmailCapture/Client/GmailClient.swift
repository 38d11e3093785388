import Foundation
public import CaptureParsing
public import Logging
import MIMEKit

/// The Gmail API as the capture pipeline uses it: every call is charged to the rate limiter before it
/// is sent, retried per `RetryPolicy` (a value-type state machine), re-authenticated once on 401, and
/// failed with a typed `GmailAPIError` carrying status and reason.
///
/// ```swift
/// let client = GmailClient(baseURL: config.apiBaseURL, transport: AsyncHTTPClientTransport(), tokens: dwd,
///                          limiter: limiter, costs: .classic, retry: RetryPolicy(maxRetries: 5), clock: SystemClock())
/// let profile = try await client.getProfile(mailbox: "alice@firm.example")
/// ```
public actor GmailClient {
    public enum Format: String, Sendable { case minimal, metadata, full, raw }

    let baseURL: String
    let transport: any HTTPTransport
    let tokens: any AccessTokenProvider
    let limiter: RateLimiter
    let costs: QuotaCostTable
    let retry: RetryPolicy
    let clock: any CaptureClock
    let logger: Logger
    var random: SplitMix
    /// Batch sizing per mailbox: Gmail's concurrency limit is per user, so one mailbox's refusals never
    /// shrink another's batches.
    var sizers: [String: BatchSizer] = [:]
    /// The configured largest batch (default 25: the size real Gmail served without inner 429s in the
    /// field notes; never more than Google's recommended 50).
    public let batchLimit: Int
    public static let maxBatchSize = 50

    public init(
        baseURL: String, transport: any HTTPTransport, tokens: any AccessTokenProvider, limiter: RateLimiter,
        costs: QuotaCostTable = .classic, retry: RetryPolicy = RetryPolicy(), clock: any CaptureClock = SystemClock(),
        seed: UInt64 = 0x5EED, batchLimit: Int = 25,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.transport = transport
        self.tokens = tokens
        self.limiter = limiter
        self.costs = costs
        self.retry = retry
        self.clock = clock
        self.logger = logger
        random = SplitMix(seed: seed)
        self.batchLimit = max(1, min(batchLimit, Self.maxBatchSize))
    }

    // MARK: - Methods

    public func getProfile(mailbox: String) async throws -> GmailProfile {
        try await call(.getProfile, mailbox: mailbox, path: "profile", query: [])
    }

    public func listMessages(
        mailbox: String, q: String? = nil, labelIds: [String] = [], includeSpamTrash: Bool = false,
        pageToken: String? = nil, maxResults: Int = 500
    ) async throws -> GmailMessageList {
        var query: [(String, String)] = [("maxResults", String(maxResults))]
        if let q { query.append(("q", q)) }
        for l in labelIds { query.append(("labelIds", l)) }
        if includeSpamTrash { query.append(("includeSpamTrash", "true")) }
        if let p = pageToken { query.append(("pageToken", p)) }
        return try await call(.messagesList, mailbox: mailbox, path: "messages", query: query)
    }

    public func getMessage(
        mailbox: String, id: String, format: Format = .full, metadataHeaders: [String] = []
    ) async throws -> GmailMessageResource {
        try await call(.messagesGet, mailbox: mailbox, path: "messages/\(id)", query: Self.getQuery(format, metadataHeaders))
    }

    public func getAttachment(mailbox: String, messageId: String, attachmentId: String) async throws -> GmailMessagePartBody {
        try await call(.messagesAttachmentsGet, mailbox: mailbox, path: "messages/\(messageId)/attachments/\(attachmentId)", query: [])
    }

    public func listHistory(
        mailbox: String, startHistoryId: String, historyTypes: [String] = [], pageToken: String? = nil,
        maxResults: Int = 500
    ) async throws -> GmailHistoryList {
        var query: [(String, String)] = [("startHistoryId", startHistoryId), ("maxResults", String(maxResults))]
        for t in historyTypes { query.append(("historyTypes", t)) }
        if let p = pageToken { query.append(("pageToken", p)) }
        return try await call(.historyList, mailbox: mailbox, path: "history", query: query)
    }

    public func listLabels(mailbox: String) async throws -> [GmailLabel] {
        let list: GmailLabelList = try await call(.labelsList, mailbox: mailbox, path: "labels", query: [])
        return list.labels ?? []
    }

    static func getQuery(_ format: Format, _ headers: [String]) -> [(String, String)] {
        [("format", format.rawValue)] + (format == .metadata ? headers.map { ("metadataHeaders", $0) } : [])
    }

    // MARK: - The call loop

    func url(_ mailbox: String, _ path: String, _ query: [(String, String)]) -> String {
        var u = "\(baseURL)/gmail/v1/users/\(Self.escape(mailbox))/\(path)"
        if !query.isEmpty { u += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&") }
        return u
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    func call<T: Decodable>(_ method: GmailMethod, mailbox: String, path: String, query: [(String, String)]) async throws -> T {
        let target = url(mailbox, path, query)
        return try await perform(method: method, mailbox: mailbox, units: costs.cost(method), decode: Self.json(T.self)) { token in
            TransportRequest(method: "GET", url: target, headers: [("Authorization", "Bearer \(token)")], operation: method)
        }
    }

    /// A body decoder for `perform`: the body as `T`'s JSON, or nil (malformed: retried).
    static func json<T: Decodable>(_: T.Type) -> @Sendable (TransportResponse) -> T? {
        { decodeJSON(T.self, $0.body) }
    }

    /// `bytes` as `T`'s JSON, or nil. The decoder reads the bytes where they are (a `Data` that does not
    /// own them, alive only during the call) instead of a copy: attachment bodies run to megabytes.
    static func decodeJSON<T: Decodable>(_: T.Type, _ bytes: [UInt8]) -> T? {
        bytes.withUnsafeBytes { raw -> T? in
            guard let base = raw.baseAddress else { return nil }  // empty: not JSON
            let view = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: raw.count, deallocator: .none)
            return try? JSONDecoder().decode(T.self, from: view)
        }
    }

    /// Sends with retries and returns the 2xx response's body decoded by `decode`. A body `decode`
    /// refuses (nil: truncated, not JSON, not the expected shape) is a `malformedBody` failure and
    /// retried like any other; each body is parsed once, by the decoder that keeps the result.
    func perform<T>(
        method: GmailMethod, mailbox: String, units: Int, decode: (TransportResponse) -> T?,
        build: (String) -> TransportRequest
    ) async throws -> T {
        var machine = RetryStateMachine(policy: retry, random: random.fork())
        var forceRefresh = false
        var attempts = 0
        while true {
            attempts += 1
            var failure: GmailAPIError
            switch try await send(
                method: method, mailbox: mailbox, units: units, forceRefresh: forceRefresh, attempts: attempts, build: build)
            {
            case .success(let r):
                if let value = decode(r) { return value }
                failure = GmailAPIError(
                    classification: .retryAfterBackoff, method: method, status: r.status, reason: "malformedBody",
                    message: "response body is not the expected JSON (truncated or malformed)", attempts: attempts)
            case .failure(let e):
                failure = e
            }
            forceRefresh = false
            switch step(after: failure, attempts: attempts, machine: &machine) {
            case .retry(let after): try await clock.sleep(for: after)
            case .refresh: forceRefresh = true
            case .fail(let e): throw e
            }
        }
    }

    /// What the retry state machine says after a failure.
    enum Step {
        case retry(after: Duration)
        case refresh
        case fail(GmailAPIError)
    }

    /// The one place a failure meets its `RetryStateMachine` (single calls, whole batches and each batch
    /// part): the Retry-After hint is read here, the decision logged here, the final error stamped here.
    func step(after failure: GmailAPIError, attempts: Int, machine: inout RetryStateMachine<SplitMix>) -> Step {
        let hint = failure.retryAfter.map { Duration.fromSeconds($0.timeIntervalSince(clock.now())) }
        switch machine.next(after: failure.classification, hint: hint) {
        case .retry(let after):
            logger.debug(
                "retrying Gmail call",
                metadata: [
                    "gmail.method": "\(failure.method)", "retry.attempt": "\(attempts)",
                    "http.status": "\(failure.status.map(String.init) ?? "-")",
                ])
            return .retry(after: after)
        case .refreshCredentialsAndRetry:
            return .refresh
        case .fail:
            var e = failure
            e.attempts = attempts
            return .fail(e)
        }
    }

    /// The one place a request is sent: its quota charged first, an access token (refreshed when asked),
    /// the per-mailbox in-flight gate, the transport. A credential error, a transport failure or a non-2xx
    /// answer comes back as the classified error; only cancellation and quota waits throw.
    func send(
        method: GmailMethod, mailbox: String, units: Int, forceRefresh: Bool, attempts: Int,
        build: (String) -> TransportRequest
    ) async throws -> Result<TransportResponse, GmailAPIError> {
        try await limiter.acquire(units: units, mailbox: mailbox)
        let token: String
        do { token = try await tokens.accessToken(for: mailbox, forceRefresh: forceRefresh) } catch var e as GmailAPIError {
            e.attempts = attempts
            return .failure(e)
        }
        await limiter.enter(mailbox)
        let result: Result<TransportResponse, TransportError>
        do { result = .success(try await transport.send(build(token))) } catch let e as TransportError { result = .failure(e) } catch {
            await limiter.leave(mailbox)
            throw error
        }
        await limiter.leave(mailbox)
        switch result {
        case .success(let r) where (200..<300).contains(r.status): return .success(r)
        case .success(let r): return .failure(self.error(for: r, method: method, attempts: attempts))
        case .failure(let e):
            return .failure(
                GmailAPIError(
                    classification: .retryAfterBackoff, method: method, status: nil, reason: e.failure.rawValue,
                    message: "transport failure", attempts: attempts))
        }
    }

    func error(for r: TransportResponse, method: GmailMethod, attempts: Int) -> GmailAPIError {
        let parsed = ErrorClassifier.parseGoogleError(r.body)
        let cls = ErrorClassifier.classify(status: r.status, reason: parsed.reason, oauthError: nil, transport: nil, method: method)
        return GmailAPIError(
            classification: cls, method: method, status: r.status, reason: parsed.reason,
            message: parsed.message ?? "HTTP \(r.status)",
            retryAfter: ErrorClassifier.retryAfter(header: r.header("Retry-After"), message: parsed.message, now: clock.now()),
            attempts: attempts)
    }
}
