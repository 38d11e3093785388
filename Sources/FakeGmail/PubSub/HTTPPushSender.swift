import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Push delivery over HTTP with AsyncHTTPClient's shared client (the one place FakeGmail imports it).
public struct HTTPPushSender: PushSender {
    let timeoutSeconds: Int64

    public init(timeoutSeconds: Int64 = 10) { self.timeoutSeconds = timeoutSeconds }

    public func send(_ request: PushRequest) async throws -> Int {
        var r = HTTPClientRequest(url: request.url)
        r.method = .POST
        for (k, v) in request.headers { r.headers.add(name: k, value: v) }
        r.body = .bytes(request.body)
        let response = try await HTTPClient.shared.execute(r, timeout: .seconds(timeoutSeconds))
        for try await _ in response.body {}
        return Int(response.status.code)
    }
}
