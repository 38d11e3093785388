import Foundation

/// A request as the fake sees it, whichever front door it came through (in-process or a socket).
public struct FakeRequest: Sendable {
    public var method: String
    /// The path without the query (`/gmail/v1/users/me/messages`).
    public var path: String
    /// Query parameters in order, percent-decoded; repeated keys repeat (`labelIds=A&labelIds=B`).
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: [UInt8]

    /// - Parameter target: path and query as sent on the request line (`/gmail/v1/users/me/messages?q=x`).
    public init(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method.uppercased()
        // Only the part before the first `?` is the path: a query value may hold `://` or `/` unencoded
        // (`redirect_uri=http://127.0.0.1:9/cb`, which RFC 3986 allows).
        var p: Substring
        if let q = target.firstIndex(of: "?") {
            p = target[..<q]
            query = FakeRequest.parseQuery(String(target[target.index(after: q)...]))
        } else {
            p = target[...]
            query = []
        }
        // Absolute-form targets (http://host/path) are accepted too.
        if !p.hasPrefix("/"), let r = p.range(of: "://") {
            let authorityAndPath = p[r.upperBound...]
            p = authorityAndPath.firstIndex(of: "/").map { authorityAndPath[$0...] } ?? "/"
        }
        path = String(p)
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    public func queryValues(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }

    /// Parses `a=1&b=x%20y` (also form bodies); `+` means space.
    public static func parseQuery(_ s: String) -> [(String, String)] {
        s.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func dec(_ x: Substring) -> String {
                String(x).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(x)
            }
            return (dec(kv[0]), kv.count > 1 ? dec(kv[1]) : "")
        }
    }
}

/// What went wrong at the transport level, as scripted by a fault rule.
public enum TransportFault: String, Sendable, Codable {
    /// The connection is closed without a usable response.
    case dropConnection
    /// The body is cut short of its announced length.
    case truncateBody
}

/// A response from the fake.
public struct FakeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Set when a fault rule wants the connection dropped or the body truncated.
    public var transportFault: TransportFault?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], transportFault: TransportFault? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.transportFault = transportFault
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    static func json(_ status: Int, _ value: WireJSON, pretty: Bool = true) -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", "application/json; charset=UTF-8")], body: value.render(pretty: pretty))
    }
}
