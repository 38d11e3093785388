public import AsyncHTTPClient
import Foundation
import CaptureParsing
import NIOCore
import NIOHTTP1

/// Production transport over AsyncHTTPClient. The only file that imports it.
public struct AsyncHTTPClientTransport: HTTPTransport {
    let client: HTTPClient
    /// Largest response body read (a raw message plus headroom).
    public var maxResponseBytes: Int

    public init(client: HTTPClient = .shared, maxResponseBytes: Int = 128 << 20) {
        self.client = client
        self.maxResponseBytes = maxResponseBytes
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for (k, v) in request.headers { r.headers.add(name: k, value: v) }
        if !request.body.isEmpty { r.body = .bytes(ByteBuffer(bytes: request.body)) }
        do {
            let response = try await client.execute(r, timeout: .milliseconds(Int64(request.timeout.seconds * 1000)))
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return TransportResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(body.readableBytesView))
        } catch let e as HTTPClientError {
            switch e {
            case .readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout: throw TransportError(.timeout, "\(e)")
            case .remoteConnectionClosed, .uncleanShutdown: throw TransportError(.connectionReset, "\(e)")
            case .bodyLengthMismatch: throw TransportError(.truncatedBody, "\(e)")
            default: throw TransportError(.other, "\(e)")
            }
        } catch let e as TransportError {
            throw e
        } catch {
            throw TransportError(.connectionReset, "\(error)")
        }
    }
}
