import AsyncHTTPClient
import FakeGmail
import Foundation
import Hummingbird
import Logging
import NIOCore
import Testing

/// The two front doors of the fake. Each scenario test runs once per door: in-process (no socket) and
/// over a real loopback socket with AsyncHTTPClient.
enum Door: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess, live
    var testDescription: String { rawValue }
}

/// Sends requests to a fake through a door.
struct FakeSession: Sendable {
    let fake: FakeGmail
    let send: @Sendable (FakeRequest) async throws -> FakeResponse

    func get(_ target: String, token: String? = nil, headers: [(String, String)] = []) async throws -> FakeResponse {
        var h = headers
        if let t = token { h.append(("Authorization", "Bearer \(t)")) }
        return try await send(FakeRequest(method: "GET", target: target, headers: h))
    }

    func post(_ target: String, body: [UInt8], contentType: String, token: String? = nil) async throws -> FakeResponse {
        var h = [("Content-Type", contentType)]
        if let t = token { h.append(("Authorization", "Bearer \(t)")) }
        return try await send(FakeRequest(method: "POST", target: target, headers: h, body: body))
    }

    func json(_ r: FakeResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }
}

struct TransportError: Error {}

/// Runs `body` against `fake` through `door`. Live: a Hummingbird server on port 0 for the duration.
func withFake<T: Sendable>(_ fake: FakeGmail, door: Door, _ body: @Sendable (FakeSession) async throws -> T) async throws -> T {
    switch door {
    case .inProcess:
        return try await body(
            FakeSession(fake: fake) { request in
                let r = await fake.handle(request)
                if r.transportFault != nil { throw TransportError() }
                return r
            })
    case .live:
        var logger = Logger(label: "fake-test")
        logger.logLevel = .critical
        // Never follow redirects: the consent step redirects to the CRM's (non-existent) host.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let result = try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger) { base in
                try await body(
                    FakeSession(fake: fake) { request in
                        var q = request.query.map { "\(pct($0.0))=\(pct($0.1))" }.joined(separator: "&")
                        if !q.isEmpty { q = "?" + q }
                        var req = HTTPClientRequest(url: "\(base)\(request.path)\(q)")
                        req.method = .init(rawValue: request.method)
                        for (k, v) in request.headers { req.headers.add(name: k, value: v) }
                        if !request.body.isEmpty { req.body = .bytes(ByteBuffer(bytes: request.body)) }
                        let resp = try await client.execute(req, timeout: .seconds(10))
                        let body = try await resp.body.collect(upTo: 64 << 20)
                        return FakeResponse(
                            status: Int(resp.status.code), headers: resp.headers.map { ($0.name, $0.value) },
                            body: Array(body.readableBytesView))
                    })
            }
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

func pct(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

/// A small RFC 822 message.
func eml(
    from: String = "Maya Chen <maya@lumenridge.example.com>", to: String = "alex@firm.example", subject: String,
    messageID: String, inReplyTo: String? = nil, body: String = "Hello there.\r\n", attachment: (name: String, bytes: [UInt8])? = nil
) -> [UInt8] {
    var s = "From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nDate: Tue, 5 Mar 2024 17:04:00 +0000\r\nMessage-ID: <\(messageID)>\r\n"
    if let r = inReplyTo { s += "In-Reply-To: <\(r)>\r\nReferences: <\(r)>\r\n" }
    s += "MIME-Version: 1.0\r\n"
    if let a = attachment {
        s +=
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\(body)\r\n--b1\r\n"
        s +=
            "Content-Type: application/pdf; name=\"\(a.name)\"\r\nContent-Disposition: attachment; filename=\"\(a.name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        s +=
            Data(a.bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            + "\r\n--b1--\r\n"
    } else {
        s += "Content-Type: text/plain; charset=UTF-8\r\n\r\n\(body)"
    }
    return Array(s.utf8)
}
