public import Foundation
import CaptureParsing

/// One HTTP request, with the Gmail operation it performs (rate limiting and fault rules key on it).
public struct TransportRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// What the request does, as a label: a `GmailMethod`'s id (`gmail.users.messages.get`, `batch`,
    /// `oauth2.token`) for the client's own calls; free text for requests that are none of those.
    public var operation: String
    public var timeout: Duration

    public init(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], operation: String,
        timeout: Duration = .seconds(60)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.operation = operation
        self.timeout = timeout
    }

    /// A request performing one of the client's operations (the label is its id).
    public init(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], operation: GmailMethod,
        timeout: Duration = .seconds(60)
    ) {
        self.init(method: method, url: url, headers: headers, body: body, operation: operation.rawValue, timeout: timeout)
    }
}

public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// The HTTP seam: AsyncHTTPClient in production, the in-process fake in tests. Throws `TransportError`.
public protocol HTTPTransport: Sendable {
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

/// Time as the client sees it: wall time for tokens and retry hints, and a sleep that tests control.
public protocol CaptureClock: Sendable {
    func now() -> Date
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemClock: CaptureClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
