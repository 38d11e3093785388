import Foundation
import CaptureParsing
public import Hummingbird
import NIOCore
import HTTPTypes
public import Logging

/// `POST /api/email/push`: where a Pub/Sub push subscription delivers Gmail's notifications. Mounted
/// beside `EmailRoutes` under `/api/email`; not behind bearer tokens: each request is verified instead
/// (`PushVerifier`: the endpoint's shared secret, or Pub/Sub's OIDC token).
///
/// | answer | when | Pub/Sub |
/// |---|---|---|
/// | 204 | recorded and the mailbox's sync woken (or stale, paused, not enrolled, or data that is not a Gmail notification) | acked |
/// | 400 | the body is not a Pub/Sub push envelope (not JSON, no `message`, data not base64) | retried: fixing the subscription (wrapped, not `noWrapper` with other data) makes the redelivery succeed |
/// | 401 / 403 | no credential / a credential that does not verify | retried |
/// | 404 | push mode is not on | retried |
/// | 413 | a body over 64 KiB | retried |
/// | 503 | the integration is off, or Google's keys cannot be fetched | retried |
///
/// The answer never waits for a sync, and never says whether a mailbox is enrolled.
public struct PushRoutes: Sendable {
    public let enabled: Bool
    /// nil when CRM_GMAIL_PUSH_MODE is not `push`.
    public let verifier: PushVerifier?
    public let inbox: PushInbox
    public let logger: Logger
    public static let maxBodyBytes = 64 * 1024

    public init(
        enabled: Bool, verifier: PushVerifier?, inbox: PushInbox,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.enabled = enabled
        self.verifier = verifier
        self.inbox = inbox
        self.logger = logger
    }

    public func collection<Context: RequestContext>(_ context: Context.Type = BasicRequestContext.self) -> RouteCollection<Context> {
        let c = RouteCollection(context: Context.self)
        c.post("push") { request, _ in await handle(request) }
        return c
    }

    func handle(_ request: Request) async -> Response {
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maxBodyBytes) } catch {
            return EmailRoutes.error(.contentTooLarge, "the request body is larger than \(Self.maxBodyBytes) bytes")
        }
        return await answer(
            token: request.uri.queryParameters.get("token"), authorization: request.headers[.authorization],
            body: Array(body.readableBytesView))
    }

    /// The route's answer to a push request: its `?token=`, its Authorization header and its body.
    public func answer(token: String?, authorization: String?, body: [UInt8]) async -> Response {
        guard enabled else {
            return EmailRoutes.error(.serviceUnavailable, "the Gmail integration is disabled (CRM_GMAIL_INTEGRATION_ENABLED)")
        }
        guard let verifier else { return EmailRoutes.error(.notFound, "push notifications are not enabled (CRM_GMAIL_PUSH_MODE)") }
        switch await verifier.verify(token: token, authorization: authorization) {
        case .verified: break
        case .missing: return EmailRoutes.error(.unauthorized, "a push token or a Pub/Sub OIDC token is required")
        case .rejected(let why):
            logger.warning("push request rejected", metadata: ["push.reason": "\(why)"])
            return EmailRoutes.error(.forbidden, "the push request could not be verified")
        case .unavailable:
            return EmailRoutes.error(.serviceUnavailable, "Google's signing keys cannot be fetched; try again")
        }
        let content: PushEnvelope.Content
        do { content = try PushEnvelope.parse(body) } catch let e as PushEnvelope.Malformed {
            return EmailRoutes.error(.badRequest, e.description)
        } catch {
            return EmailRoutes.error(.badRequest, "the body is not a Pub/Sub push envelope")
        }
        switch content {
        case .notGmail(let id):
            logger.warning("push message is not a Gmail notification; acknowledged", metadata: ["pubsub.messageId": "\(id ?? "-")"])
            return Response(status: .noContent)
        case .notification(let n, _):
            do {
                _ = try await inbox.receive(n)
                return Response(status: .noContent)
            } catch {
                logger.error("push notification not recorded", metadata: ["error.type": "\(type(of: error))"])
                return EmailRoutes.error(.internalServerError, "internal error")
            }
        }
    }
}
