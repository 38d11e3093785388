import Foundation
public import GmailCapture
import HTTPTypes
public import Hummingbird
public import Logging
import MCP
import NIOCore

/// The MCP server over streamable HTTP as a Hummingbird route collection, mounted by `serve` at `/mcp`
/// (`router.addRoutes(endpoint.collection(), atPath: "/mcp")`), behind the same bearer tokens as
/// `/api/email/*`: the token decides the viewer; no valid token answers 401 JSON, a disabled integration
/// 503, like the other routes.
///
/// Stateless (the SDK's `StatelessHTTPServerTransport`): each POST gets a fresh MCP `Server` for the
/// token's teammate, answers with one JSON body and sets no `Mcp-Session-Id`, so clients simply send
/// their next request (initialize included) without a session; GET and DELETE answer 405.
public struct MCPHTTPEndpoint: Sendable {
    public let server: CaptureMCPServer
    public let authenticator: any RequestAuthenticator
    public let enabled: Bool
    /// Check Host and Origin against loopback names (DNS-rebinding protection) when bound to loopback.
    public let localhostOnly: Bool
    public let logger: Logger

    /// Request bodies larger than this answer 413.
    public static let maxBodyBytes = 1 << 20

    public init(
        server: CaptureMCPServer, authenticator: any RequestAuthenticator, enabled: Bool = true, localhostOnly: Bool = false,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.server = server
        self.authenticator = authenticator
        self.enabled = enabled
        self.localhostOnly = localhostOnly
        self.logger = logger
    }

    public func collection<Context: Hummingbird.RequestContext>(
        _ context: Context.Type = BasicRequestContext.self
    ) -> RouteCollection<Context> {
        let c = RouteCollection(context: Context.self)
        c.post { request, _ in await handle(request) }
        c.get { request, _ in await handle(request) }
        c.delete { request, _ in await handle(request) }
        return c
    }

    /// One HTTP request: authenticate, then hand it to a fresh server's stateless transport.
    public func handle(_ request: Request) async -> Response {
        guard enabled else { return Self.error(.serviceUnavailable, "the Gmail integration is disabled (CRM_GMAIL_INTEGRATION_ENABLED)") }
        let user: AuthenticatedUser
        do {
            guard let u = try await authenticator.authenticate(authorization: request.headers[.authorization]) else {
                return Self.error(.unauthorized, "a valid bearer token is required", headers: [.wwwAuthenticate: "Bearer"])
            }
            user = u
        } catch {
            logger.error("mcp authentication failed", metadata: ["error.type": .string("\(type(of: error))")])
            return Self.error(.internalServerError, "internal error")
        }
        let body: Data
        do {
            body = Data(try await request.body.collect(upTo: Self.maxBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            return Self.error(.contentTooLarge, "the request body is larger than \(Self.maxBodyBytes) bytes")
        } catch {
            return Self.error(.badRequest, "the request body could not be read")
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        if let authority = request.head.authority { headers["host"] = authority }
        let mcpRequest = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers, body: body.isEmpty ? nil : body, path: request.uri.path)

        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                localhostOnly ? Self.loopbackOnly : OriginValidator.disabled,
                AcceptHeaderValidator(mode: .jsonOnly),
                ContentTypeValidator(),
                ProtocolVersionValidator(),
            ]))
        let mcp = await server.makeServer(for: .teammate(user.email))
        do {
            try await mcp.start(transport: transport)
        } catch {
            logger.error("mcp server did not start", metadata: ["error.type": .string("\(type(of: error))")])
            return Self.error(.internalServerError, "internal error")
        }
        let reply = await transport.handleRequest(mcpRequest)
        await mcp.stop()
        return Self.response(reply)
    }

    static let nosniff = HTTPField.Name("X-Content-Type-Options")!

    /// Host (and Origin, when a browser sends one) must name the loopback interface, with or without a port.
    static let loopbackOnly: OriginValidator = {
        let hosts = ["127.0.0.1", "localhost", "[::1]"]
        return OriginValidator(
            allowedHosts: hosts + hosts.map { $0 + ":*" },
            allowedOrigins: hosts.flatMap { ["http://\($0)", "http://\($0):*", "https://\($0)", "https://\($0):*"] })
    }()

    /// The transport's answer as a Hummingbird response (stateless answers are never streams).
    static func response(_ reply: MCP.HTTPResponse) -> Response {
        if case .stream = reply { return error(.internalServerError, "internal error") }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        fields[nosniff] = "nosniff"
        let body = reply.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
        return Response(status: HTTPTypes.HTTPResponse.Status(code: reply.statusCode), headers: fields, body: body)
    }

    /// `{"error": {"code", "message"}}`, as `/api/email/*` answers.
    static func error(_ status: HTTPTypes.HTTPResponse.Status, _ message: String, headers extra: HTTPFields = [:]) -> Response {
        struct Body: Encodable {
            struct E: Encodable {
                var code: Int
                var message: String
            }
            var error: E
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", nosniff: "nosniff"]
        headers.append(contentsOf: extra)
        let data = (try? e.encode(Body(error: .init(code: status.code, message: message)))) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
