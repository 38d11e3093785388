import Foundation
import CaptureParsing

/// Cloud Pub/Sub's REST API (v1) as pull mode uses it: `subscriptions.pull` and `subscriptions.acknowledge`
/// through the injected transport, with a service-account access token (scope
/// `https://www.googleapis.com/auth/pubsub`, no subject: the service account's own identity).
public struct PubSubClient: Sendable {
    public static let scope = "https://www.googleapis.com/auth/pubsub"

    /// One pulled message.
    public struct Received: Sendable, Equatable {
        public var ackId: String
        public var messageId: String?
        /// The message's data, base64-decoded.
        public var data: [UInt8]
    }

    /// A failed Pub/Sub call: the HTTP status (nil: no answer) and Google's message.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var status: Int?
        public var message: String
        public var description: String { "Pub/Sub \(status.map { "HTTP \($0)" } ?? "unreachable"): \(message)" }
    }

    let baseURL: String
    let subscription: String
    let transport: any HTTPTransport
    let tokens: any AccessTokenProvider

    /// - Parameter tokens: asked for the token of `PubSubClient.tokenSubject` (a provider minting the
    ///   service account's own token ignores the name).
    public init(baseURL: String, subscription: String, transport: any HTTPTransport, tokens: any AccessTokenProvider) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.subscription = subscription
        self.transport = transport
        self.tokens = tokens
    }

    /// The name the token provider is asked for (its cache key).
    public static let tokenSubject = "pubsub"

    /// Up to `maxMessages` messages (an empty answer when none is waiting).
    public func pull(maxMessages: Int = 100) async throws -> [Received] {
        struct Answer: Decodable {
            struct Item: Decodable {
                struct Message: Decodable {
                    var data: String?
                    var messageId: String?
                }
                var ackId: String
                var message: Message?
            }
            var receivedMessages: [Item]?
        }
        let body = try JSONSerialization.data(withJSONObject: ["maxMessages": maxMessages])
        let response = try await post("pull", Array(body), operation: "pubsub.projects.subscriptions.pull")
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            throw Failure(status: response.status, message: "the pull answer is not JSON")
        }
        return (answer.receivedMessages ?? []).map { item in
            Received(
                ackId: item.ackId, messageId: item.message?.messageId,
                data: item.message?.data.flatMap(PushEnvelope.decodeBase64) ?? [])
        }
    }

    /// Acknowledges pulled messages (they are not redelivered).
    public func acknowledge(_ ackIds: [String]) async throws {
        guard !ackIds.isEmpty else { return }
        let body = try JSONSerialization.data(withJSONObject: ["ackIds": ackIds])
        _ = try await post("acknowledge", Array(body), operation: "pubsub.projects.subscriptions.acknowledge")
    }

    /// POST `{base}/v1/{subscription}:{verb}`; a 401 refreshes the token once.
    func post(_ verb: String, _ body: [UInt8], operation: String) async throws -> TransportResponse {
        var refresh = false
        while true {
            let token = try await tokens.accessToken(for: Self.tokenSubject, forceRefresh: refresh)
            let response: TransportResponse
            do {
                response = try await transport.send(
                    TransportRequest(
                        method: "POST", url: "\(baseURL)/v1/\(subscription):\(verb)",
                        headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: body,
                        operation: operation, timeout: .seconds(90)))
            } catch let e as TransportError {
                throw Failure(status: nil, message: "\(e.failure.rawValue)")
            }
            if response.status == 401 && !refresh {
                refresh = true
                continue
            }
            guard (200..<300).contains(response.status) else {
                throw Failure(
                    status: response.status, message: ErrorClassifier.parseGoogleError(response.body).message ?? "HTTP \(response.status)")
            }
            return response
        }
    }
}
