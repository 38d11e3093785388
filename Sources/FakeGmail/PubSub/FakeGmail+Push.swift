import Foundation
import MIMEKit

/// A push request to a subscription's endpoint: Pub/Sub's wrapped envelope (or the bare data for a
/// `noWrapper` subscription) as an HTTP POST.
public struct PushRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(url: String, headers: [(String, String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// Sends push requests: `HTTPPushSender` over the network; tests may inject their own (in-process, no
/// socket). Returns the HTTP status; a thrown error counts as a failed delivery (retried).
public protocol PushSender: Sendable {
    func send(_ request: PushRequest) async throws -> Int
}

/// The state of a mailbox's `users.watch`, as Gmail returned it.
public struct WatchStatus: Sendable, Equatable {
    public var topicName: String
    public var labelIds: [String]
    /// `include` or `exclude`.
    public var labelFilterBehavior: String
    /// The historyId `watch` answered.
    public var historyId: String
    /// Epoch ms on the virtual clock.
    public var expiration: Int64
}

/// A Gmail notification that reached Pub/Sub (after the cap, the label filter and the faults).
public struct PublishedNotification: Sendable, Equatable, Codable {
    public var emailAddress: String
    public var historyId: String
    public var topic: String
    public var messageId: String
    public var atMillis: Int64
}

/// One push attempt and the endpoint's answer (0: no HTTP answer at all).
public struct PushDeliveryRecord: Sendable, Equatable, Codable {
    public var subscription: String
    public var messageId: String
    public var attempt: Int
    public var status: Int
    public var atMillis: Int64
}

/// Gmail push: `users.watch` / `users.stop`, the notifier that follows each watched mailbox's history
/// log into Pub/Sub, push delivery, and their control operations (routes in `pushControl`).
extension FakeGmail {
    static let gmailPushMember = PubSubModel.gmailPushMember

    // MARK: - users.watch, users.stop

    func watch(_ mb: Mailbox, _ r: FakeRequest) throws -> WireJSON {
        guard let body = WireJSON.parseObject(r.body) else { throw FakeGmailError.badRequest("Invalid JSON payload received.") }
        guard let topic = body["topicName"] as? String, !topic.isEmpty else { throw FakeGmailError.badRequest("topicName required") }
        // The topic must be in the caller's project (Gmail compares it with the OAuth client's project).
        guard topic.hasPrefix("projects/\(options.projectID)/topics/"), PubSubModel.validName(topic, kind: .topics) else {
            throw FakeGmailError.badRequest("Invalid topicName does not match projects/\(options.projectID)/topics/*")
        }
        // Gmail publishes a test message when the watch is set up; its failures come back as these.
        guard let t = pubsub.topics[topic] else {
            throw FakeGmailError(
                code: 404,
                message:
                    "Error sending test message to Cloud PubSub \(topic) : Resource not found (resource=\(PubSubModel.resourceID(topic))).",
                reason: "notFound")
        }
        guard t.policy.grantsPublish(to: Self.gmailPushMember) else {
            throw FakeGmailError(
                code: 403, message: "Error sending test message to Cloud PubSub \(topic) : User not authorized to perform this action.",
                reason: "forbidden")
        }
        // labelFilterBehavior replaces the deprecated labelFilterAction; when both are set the action is ignored.
        var behavior = GmailWatch.Behavior.include
        for field in ["labelFilterBehavior", "labelFilterAction"] {
            guard let raw = body[field] as? String else { continue }
            guard let b = GmailWatch.Behavior(rawValue: raw.lowercased()) else {
                throw FakeGmailError.badRequest("Invalid value at '\(field)' (\(raw))")
            }
            behavior = b
            break
        }
        let labels = (body["labelIds"] as? [String] ?? []).map { mb.labelId(forNameOrId: $0) ?? $0 }
        let now = model.clock.nowMillis
        let expiration = now + PushNotifier.defaultLifetimeMillis
        notifier.watches[FakeGmailModel.key(mb.email)] = GmailWatch(
            email: mb.email, topic: topic, labelIds: labels, behavior: behavior, startHistoryId: mb.currentHistoryId,
            expirationMillis: expiration, scannedThrough: mb.currentHistoryId)
        return .object([("historyId", .string(String(mb.currentHistoryId))), ("expiration", .string(String(expiration)))])
    }

    func stopWatch(_ mb: Mailbox) {
        notifier.watches[FakeGmailModel.key(mb.email)] = nil
    }

    // MARK: - The notifier

    /// Publishes what the notifier has due: called after every mailbox change and clock move, and before
    /// Pub/Sub calls and push rounds.
    func pumpNotifier() {
        guard !notifier.watches.isEmpty || !notifier.inTransit.isEmpty else { return }
        let snapshot = model
        let due = notifier.step(now: snapshot.clock.nowMillis, mailbox: { snapshot.mailbox($0) }, random: &pubsub.random)
        for n in due { publish(n) }
    }

    /// Publishes `{"emailAddress", "historyId"}` to the topic, if Gmail may still publish there.
    @discardableResult
    func publish(_ n: GmailNotification) -> String? {
        guard let t = pubsub.topics[n.topic], t.policy.grantsPublish(to: Self.gmailPushMember) else { return nil }
        let data = WireJSON.object([("emailAddress", .string(n.email)), ("historyId", .number(Int64(bitPattern: n.historyId)))])
        let now = model.clock.nowMillis
        guard let id = try? pubsub.publish(topic: n.topic, data: data.render(pretty: false), attributes: [:], now: now) else { return nil }
        notifier.published.append(
            PublishedNotification(emailAddress: n.email, historyId: String(n.historyId), topic: n.topic, messageId: id, atMillis: now))
        return id
    }

    // MARK: - Push delivery

    /// Sends every push message due now on the virtual clock through the push sender, once: an ack
    /// (102, 200, 201, 202, 204) removes it, anything else schedules the next attempt with backoff.
    /// Returns the number of attempts made. Without a sender, push messages wait.
    @discardableResult
    public func deliverPushes() async -> Int {
        pumpNotifier()
        guard let sender = pushSender else { return 0 }
        let due = pubsub.takeDuePushes(now: model.clock.nowMillis)
        for attempt in due {
            var request = Self.pushRequest(attempt)
            if let account = attempt.config.oidcServiceAccount, let token = try? oidcToken(account, attempt.config) {
                request.headers.append(("Authorization", "Bearer \(token)"))
            }
            let status: Int
            do { status = try await sender.send(request) } catch { status = 0 }
            let now = model.clock.nowMillis
            pubsub.pushAnswered(attempt, acked: PushBackoff.acks(status), now: now)
            pushLog.append(
                PushDeliveryRecord(
                    subscription: attempt.subscription, messageId: attempt.message.id, attempt: attempt.attempt, status: status,
                    atMillis: now))
        }
        return due.count
    }

    /// The OIDC token for a push (audience: the configured one, else the endpoint URL).
    func oidcToken(_ account: String, _ config: PubSubModel.PushConfig) throws -> String {
        try pushOIDC.token(
            serviceAccount: account, audience: config.oidcAudience ?? config.endpoint, nowMillis: model.clock.nowMillis,
            random: &pubsub.random)
    }

    /// The wrapped envelope `{"message": {..., "messageId", "message_id", "publishTime", "publish_time"},
    /// "subscription"}` (plus `deliveryAttempt` with a dead-letter policy), or the bare data.
    static func pushRequest(_ a: PubSubModel.PushAttempt) -> PushRequest {
        let m = a.message
        let time = publishTime(m.publishMillis)
        var headers = [("User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)")]
        if a.config.unwrapped {
            headers.append(("Content-Type", "application/octet-stream"))
            if a.config.writeMetadata {
                headers += [
                    ("x-goog-pubsub-subscription-name", a.subscription), ("x-goog-pubsub-message-id", m.id),
                    ("x-goog-pubsub-publish-time", time),
                ]
                headers += m.attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            }
            return PushRequest(url: a.config.endpoint, headers: headers, body: m.data)
        }
        var message: [(String, WireJSON)] = [("attributes", stringMap(m.attributes))]
        if !m.data.isEmpty { message.append(("data", .string(Base64.encode(m.data)))) }
        message += [
            ("messageId", .string(m.id)), ("message_id", .string(m.id)), ("publishTime", .string(time)), ("publish_time", .string(time)),
        ]
        if let k = m.orderingKey { message.append(("orderingKey", .string(k))) }
        var envelope: [(String, WireJSON)] = [("message", .object(message)), ("subscription", .string(a.subscription))]
        if let d = a.deliveryAttempt { envelope.append(("deliveryAttempt", .number(Int64(d)))) }
        headers.append(("Content-Type", "application/json"))
        return PushRequest(url: a.config.endpoint, headers: headers, body: WireJSON.object(envelope).render(pretty: false))
    }

    // MARK: - Control (Swift)

    /// Moves the virtual clock forward by whole milliseconds (the push pump's wall-clock mode).
    public func advanceClock(millis: Int64) {
        model.advance(millis: millis)
        pumpNotifier()
    }

    /// Where push requests go (nil: push messages wait). `fakegmail-server` sets an `HTTPPushSender`.
    public func setPushSender(_ sender: (any PushSender)?) { pushSender = sender }

    /// The mailbox's active watch (nil when there is none or it has lapsed).
    public func watchStatus(user: String) -> WatchStatus? {
        pumpNotifier()
        guard let w = notifier.watches[FakeGmailModel.key(user)] else { return nil }
        return WatchStatus(
            topicName: w.topic, labelIds: w.labelIds, labelFilterBehavior: w.behavior.rawValue, historyId: String(w.startHistoryId),
            expiration: w.expirationMillis)
    }

    /// The watch lapses now, silently, as at its expiration.
    public func expireWatch(user: String) throws {
        let key = FakeGmailModel.key(user)
        guard notifier.watches[key] != nil else { throw FakeGmailError.notFound }
        notifier.watches[key]!.expirationMillis = model.clock.nowMillis
        pumpNotifier()
    }

    /// Publishes a notification for the mailbox's watch now, outside the cap, the filter and the faults;
    /// `historyId` defaults to the mailbox's current one. Returns the Pub/Sub message id.
    @discardableResult
    public func injectNotification(user: String, historyId: String? = nil) throws -> String {
        guard let w = notifier.watches[FakeGmailModel.key(user)], let mb = model.mailbox(user) else { throw FakeGmailError.notFound }
        var hid = mb.currentHistoryId
        if let h = historyId {
            guard let v = UInt64(h) else { throw FakeGmailError.badRequest("historyId must be an unsigned integer") }
            hid = v
        }
        guard let id = publish(GmailNotification(topic: w.topic, email: mb.email, historyId: hid)) else {
            throw FakeGmailError.badRequest("the watch's topic \(w.topic) no longer exists or no longer grants Gmail publish rights")
        }
        return id
    }

    public func addNotificationFault(_ fault: NotificationFault) { notifier.faults.append(.init(fault: fault)) }

    public func clearNotificationFaults() { notifier.faults = [] }

    /// At most one notification per mailbox per `millis` of virtual time (Gmail: 1,000).
    public func setNotificationInterval(millis: Int64) { notifier.intervalMillis = max(0, millis) }

    /// Every Gmail notification published so far, oldest first.
    public func publishedNotifications() -> [PublishedNotification] { notifier.published }

    /// Every push attempt so far, oldest first.
    public func pushDeliveries() -> [PushDeliveryRecord] { pushLog }

    /// Creates a Pub/Sub topic (`projects/{p}/topics/{t}`).
    public func createTopic(_ name: String) throws { _ = try pubsub.createTopic(name, labels: [:]) }

    /// Grants `roles/pubsub.publisher` to Gmail's push service account on the topic (adding to its policy).
    public func grantGmailPublish(topic: String) throws {
        var bindings = try pubsub.topic(topic).policy.bindings
        bindings.append(.init(role: "roles/pubsub.publisher", members: [Self.gmailPushMember]))
        _ = try pubsub.setPolicy(topic: topic, bindings: bindings, etag: nil)
    }

    /// Creates a pull subscription, or a push one with `pushEndpoint`.
    public func createSubscription(_ name: String, topic: String, ackDeadlineSeconds: Int = 10, pushEndpoint: String? = nil) throws {
        let push = pushEndpoint.map { PubSubModel.PushConfig(endpoint: $0, attributes: [:]) }
        _ = try pubsub.createSubscription(
            PubSubModel.Subscription(
                name: name, topic: topic, ackDeadlineSeconds: ackDeadlineSeconds, push: push, retryPolicy: nil, deadLetter: nil, labels: [:]
            ))
    }

    // MARK: - Control (routes)

    /// | route | Swift |
    /// |---|---|
    /// | `GET /__fake/users/{email}/watch` | `watchStatus` (404 without a watch) |
    /// | `POST /__fake/users/{email}/watch/expire` | `expireWatch` |
    /// | `POST /__fake/users/{email}/watch/notify` `{"historyId"?}` | `injectNotification` |
    /// | `POST /__fake/push/faults` (a `NotificationFault` as JSON), `DELETE /__fake/push/faults` | `addNotificationFault`, `clearNotificationFaults` |
    /// | `POST /__fake/push/interval` `{"millis"}` | `setNotificationInterval` |
    /// | `GET /__fake/push/notifications`, `GET /__fake/push/deliveries` | `publishedNotifications`, `pushDeliveries` |
    func pushControl(_ r: FakeRequest, _ segs: [String]) throws -> FakeResponse? {
        let ok: FakeResponse = .json(200, .object([("ok", .bool(true))]))
        switch (r.method, segs) {
        case ("GET", let s) where s.count == 3 && s[0] == "users" && s[2] == "watch":
            guard let w = watchStatus(user: s[1]) else { throw FakeGmailError.notFound }
            return .json(
                200,
                .object([
                    ("topicName", .string(w.topicName)), ("labelIds", .array(w.labelIds.map(WireJSON.string))),
                    ("labelFilterBehavior", .string(w.labelFilterBehavior.uppercased())), ("historyId", .string(w.historyId)),
                    ("expiration", .string(String(w.expiration))),
                ]))
        case ("POST", let s) where s.count == 4 && s[0] == "users" && s[2] == "watch" && s[3] == "expire":
            try expireWatch(user: s[1])
            return ok
        case ("POST", let s) where s.count == 4 && s[0] == "users" && s[2] == "watch" && s[3] == "notify":
            let body = WireJSON.parseObject(r.body) ?? [:]
            let hid = (body["historyId"] as? String) ?? (body["historyId"] as? Int).map { String($0) }
            return .json(200, .object([("messageId", .string(try injectNotification(user: s[1], historyId: hid)))]))
        case ("POST", ["push", "faults"]):
            do { addNotificationFault(try JSONDecoder().decode(NotificationFault.self, from: Data(r.body))) } catch {
                throw FakeGmailError.badRequest("invalid notification fault: \(error)")
            }
            return ok
        case ("DELETE", ["push", "faults"]):
            clearNotificationFaults()
            return ok
        case ("POST", ["push", "interval"]):
            guard let ms = WireJSON.parseObject(r.body)?["millis"] as? Int else {
                throw FakeGmailError.badRequest("body must be {\"millis\": N}")
            }
            setNotificationInterval(millis: Int64(ms))
            return ok
        case ("GET", ["push", "notifications"]):
            return .json(200, .object([("notifications", .array(publishedNotifications().map(Self.notificationJSON)))]))
        case ("GET", ["push", "deliveries"]):
            return .json(200, .object([("deliveries", .array(pushDeliveries().map(Self.deliveryJSON)))]))
        default:
            return nil
        }
    }

    static func notificationJSON(_ n: PublishedNotification) -> WireJSON {
        .object([
            ("emailAddress", .string(n.emailAddress)), ("historyId", .string(n.historyId)), ("topic", .string(n.topic)),
            ("messageId", .string(n.messageId)), ("atMillis", .number(n.atMillis)),
        ])
    }

    static func deliveryJSON(_ d: PushDeliveryRecord) -> WireJSON {
        .object([
            ("subscription", .string(d.subscription)), ("messageId", .string(d.messageId)), ("attempt", .number(Int64(d.attempt))),
            ("status", .number(Int64(d.status))), ("atMillis", .number(d.atMillis)),
        ])
    }
}
