import Foundation
public import Hummingbird
public import Logging
import HTTPTypes
import ServiceLifecycle

/// The fake's second front door: a Hummingbird server that turns each HTTP request into a
/// `FakeRequest`, lets `FakeGmail.handle` answer it, and writes the `FakeResponse` back, including
/// scripted transport faults (a dropped connection, a truncated body).
public enum FakeGmailHTTPServer {
    /// Largest request body accepted (raw message inserts, batches).
    public static let maxBodyBytes = 64 << 20

    /// Builds the application. `onBound` receives the bound port (useful with port 0).
    public static func application(
        fake: FakeGmail, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger, onBound: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let fakeRequest = FakeRequest(
                method: request.method.rawValue, target: request.uri.description,
                headers: request.headers.map { ($0.name.rawName, $0.value) },
                body: Array(body.readableBytesView))
            let answer = await fake.handle(fakeRequest)
            return response(answer)
        }
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "FakeGmail"),
            onServerRunning: { channel in await onBound(channel.localAddress?.port ?? -1) },
            logger: logger)
    }

    struct DroppedConnection: Error {}

    static func response(_ r: FakeResponse) -> Response {
        var fields = HTTPFields()
        for (k, v) in r.headers {
            if let name = HTTPField.Name(k) { fields.append(HTTPField(name: name, value: v)) }
        }
        let status = HTTPResponse.Status(code: r.status)
        switch r.transportFault {
        case .dropConnection?:
            // Announce a body, send none, fail the stream: the client sees the connection close.
            return Response(status: status, headers: fields, body: ResponseBody(contentLength: 1024) { _ in throw DroppedConnection() })
        case .truncateBody?:
            let half = ByteBuffer(bytes: r.body.prefix(r.body.count / 2))
            return Response(
                status: status, headers: fields,
                body: ResponseBody(contentLength: r.body.count) { writer in
                    try await writer.write(half)
                    throw DroppedConnection()
                })
        case nil:
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: r.body)))
        }
    }
}

extension FakeGmailHTTPServer {
    /// Runs `fake` on a loopback port for the duration of `body` (which gets the base URL), then shuts
    /// the server down gracefully. For tests, benchmarks and the demo's live mode. With `pushPump`, a
    /// `PushPump` runs alongside (push delivery every that many real milliseconds).
    public static func withLiveServer<T: Sendable>(
        _ fake: FakeGmail, host: String = "127.0.0.1", logger: Logger, pushPump: PushPump? = nil,
        _ body: @Sendable (String) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = application(fake: fake, host: host, port: 0, logger: logger) { port in
            await fake.setBaseURL("http://\(host):\(port)")
            continuation.yield(port)
        }
        let services: [any Service] = [app] + (pushPump.map { [$0] } ?? [])
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var it = ports.makeAsyncIterator()
            guard let port = await it.next() else { throw CancellationError() }
            do {
                let result = try await body("http://\(host):\(port)")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
