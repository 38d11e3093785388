import CaptureMCP
import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/mcp` in process (Hummingbird's router test client): the bearer token decides the viewer, no token
/// answers 401 JSON, a disabled integration 503, and the transport is stateless (no session id).
@Suite struct MCPHTTPTests {
    static func app(_ firm: MCPFirm, enabled: Bool = true) -> some ApplicationProtocol {
        let endpoint = MCPHTTPEndpoint(
            server: firm.server(), authenticator: APITokenAuthenticator(directory: firm.runtime.directory), enabled: enabled,
            localhostOnly: true)
        let router = Router()
        router.addRoutes(endpoint.collection(), atPath: "/mcp")
        return Application(router: router)
    }

    static func rpc(_ id: Int, _ method: String, _ params: String) -> ByteBuffer {
        ByteBuffer(string: #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
    }

    static func headers(_ token: String?) -> HTTPFields {
        var h: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        if let token { h[.authorization] = "Bearer \(token)" }
        return h
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static let initialize = #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}"#

    @Test func theTokenDecidesTheViewerAndNoTokenIs401() async throws {
        let firm = try await MCPFirm.get()
        let token = try await APITokenAuthenticator(directory: firm.runtime.directory).issue(forUserEmail: MCPFirm.kim).token
        try await Self.app(firm).test(.router) { client in
            for t in [nil, "gct_not-a-token"] {
                try await client.execute(
                    uri: "/mcp", method: .post, headers: Self.headers(t), body: Self.rpc(1, "initialize", Self.initialize)
                ) {
                    r in
                    #expect(r.status == .unauthorized)
                    #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
                    #expect((Self.json(r.body)["error"] as? [String: Any])?["message"] as? String == "a valid bearer token is required")
                }
            }
            try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(token), body: Self.rpc(1, "initialize", Self.initialize)
            ) {
                r in
                #expect(r.status == .ok)
                #expect(r.headers[HTTPField.Name("Mcp-Session-Id")!] == nil, "stateless: no session")
                let result = Self.json(r.body)["result"] as? [String: Any]
                #expect((result?["instructions"] as? String)?.contains("untrusted email content") == true)
            }
            // No session needed: the next request stands alone, as kim.
            try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(token),
                body: Self.rpc(2, "tools/call", #"{"name":"mailbox_status","arguments":{}}"#)
            ) { r in
                #expect(r.status == .ok)
                let result = Self.json(r.body)["result"] as? [String: Any]
                let rows = (result?["structuredContent"] as? [String: Any])?["mailboxes"] as? [[String: Any]]
                #expect(rows?.map { $0["email"] as? String } == [MCPFirm.kim], "\(String(buffer: r.body))")
            }
            try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(token),
                body: Self.rpc(3, "tools/call", #"{"name":"get_thread","arguments":{"threadId":"x"}}"#)
            ) { r in
                let result = Self.json(r.body)["result"] as? [String: Any]
                #expect(result?["isError"] as? Bool == true)
            }
            try await client.execute(uri: "/mcp", method: .get, headers: Self.headers(token)) { r in
                #expect(r.status == .methodNotAllowed)
            }
        }
        try await Self.app(firm, enabled: false).test(.router) { client in
            try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(token), body: Self.rpc(1, "initialize", Self.initialize)
            ) {
                r in
                #expect(r.status == .serviceUnavailable)
            }
        }
    }
}
