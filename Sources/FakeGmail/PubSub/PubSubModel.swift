import Foundation

/// Cloud Pub/Sub as data: topics with their IAM policies, subscriptions with their outstanding messages,
/// ack deadlines and push retry times on the fake's virtual clock. Domain rules only (times are passed
/// in, errors are Pub/Sub's); `PubSubRoutes` parses and renders, `FakeGmail.deliverPushes` sends.
struct PubSubModel: Sendable {
    struct Topic: Sendable {
        var name: String
        var labels: [String: String]
        var policy: IAMPolicy
    }

    /// A resource's IAM policy: bindings of a role to members, and an etag that changes on every write.
    struct IAMPolicy: Sendable, Equatable {
        struct Binding: Sendable, Equatable {
            var role: String
            var members: [String]
        }
        var bindings: [Binding] = []
        var etag: String

        /// Roles that carry `pubsub.topics.publish`.
        static let publishRoles: Set<String> = [
            "roles/pubsub.publisher", "roles/pubsub.editor", "roles/pubsub.admin", "roles/editor", "roles/owner",
        ]

        func grantsPublish(to member: String) -> Bool {
            bindings.contains { b in
                Self.publishRoles.contains(b.role) && (b.members.contains(member) || b.members.contains("allUsers"))
            }
        }
    }

    struct PushConfig: Sendable, Equatable {
        var endpoint: String
        var attributes: [String: String]
        /// `oidcToken.serviceAccountEmail` and `audience`: the push carries a Google-signed OIDC bearer.
        var oidcServiceAccount: String?
        var oidcAudience: String?
        /// `noWrapper`: the body is the message data alone; `writeMetadata` adds `x-goog-pubsub-*` headers.
        var unwrapped = false
        var writeMetadata = false
    }

    /// `retryPolicy`: exponential backoff between these bounds (the push default when absent is Pub/Sub's
    /// own push backoff, see `PushBackoff`).
    struct RetryPolicy: Sendable, Equatable {
        var minimumMillis: Int64
        var maximumMillis: Int64
    }

    struct DeadLetterPolicy: Sendable, Equatable {
        var topic: String
        var maxDeliveryAttempts: Int
    }

    struct Message: Sendable, Equatable {
        var id: String
        var data: [UInt8]
        var attributes: [String: String]
        var publishMillis: Int64
        var orderingKey: String?
    }

    /// A message not yet acknowledged on one subscription.
    struct Outstanding: Sendable {
        var message: Message
        /// Deliveries so far (pull or push).
        var attempts = 0
        /// The ack id of the current pull delivery (nil: never delivered, or nacked).
        var ackId: String?
        /// Pull: the current delivery's ack deadline. Push: the earliest time of the next attempt.
        var dueMillis: Int64 = 0
        /// Push: a POST is under way.
        var inFlight = false

        func availableForPull(at now: Int64) -> Bool { ackId == nil || dueMillis <= now }
    }

    struct Subscription: Sendable {
        var name: String
        /// The topic's name, or `_deleted-topic_` once the topic is deleted.
        var topic: String
        var ackDeadlineSeconds: Int
        var push: PushConfig?
        var retryPolicy: RetryPolicy?
        var deadLetter: DeadLetterPolicy?
        var labels: [String: String]
        var outstanding: [Outstanding] = []
    }

    /// One pull delivery: what `:pull` returns.
    struct Delivery: Sendable {
        var ackId: String
        var message: Message
        var deliveryAttempt: Int?
    }

    /// One push attempt handed to the sender.
    struct PushAttempt: Sendable {
        var subscription: String
        var message: Message
        var attempt: Int
        var deliveryAttempt: Int?
        var config: PushConfig
    }

    static let deletedTopic = "_deleted-topic_"
    static let gmailPushMember = "serviceAccount:gmail-api-push@system.gserviceaccount.com"

    var topics: [String: Topic] = [:]
    var subscriptions: [String: Subscription] = [:]
    var random: FakeRandom
    private var nextMessageId: UInt64
    private var ackSequence: UInt64 = 0

    init(seed: UInt64) {
        random = FakeRandom(seed: seed ^ 0x5055_4253_5542)
        // Pub/Sub message ids are decimal integers of about 16 digits.
        nextMessageId = 1_000_000_000_000_000 + random.next() % 9_000_000_000_000_000
    }

    // MARK: - Names

    enum Kind: String { case topics, subscriptions }

    /// `projects/{project}/{kind}/{id}` with Pub/Sub's id rules: 3-255 characters, a letter first, then
    /// letters, digits and `-_.~+%`, never starting with `goog`.
    static func validName(_ name: String, kind: Kind) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "projects", !parts[1].isEmpty, parts[2] == kind.rawValue else { return false }
        let id = parts[3]
        guard (3...255).contains(id.count), let first = id.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else {
            return false
        }
        guard !id.lowercased().hasPrefix("goog") else { return false }
        return id.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_.~+%".unicodeScalars.contains(c))
        }
    }

    static func resourceID(_ name: String) -> String { name.split(separator: "/").last.map(String.init) ?? name }

    static func invalidName(_ name: String, kind: Kind) -> FakeGmailError {
        .pubsub(400, "Invalid [\(kind.rawValue)] name: (name=\(name))")
    }

    static func notFound(_ name: String) -> FakeGmailError { .pubsub(404, "Resource not found (resource=\(resourceID(name))).") }

    // MARK: - Topics

    mutating func createTopic(_ name: String, labels: [String: String]) throws -> Topic {
        guard Self.validName(name, kind: .topics) else { throw Self.invalidName(name, kind: .topics) }
        guard topics[name] == nil else {
            throw FakeGmailError.pubsub(409, "Resource already exists in the project (resource=\(Self.resourceID(name))).")
        }
        let t = Topic(name: name, labels: labels, policy: IAMPolicy(etag: "ACAB"))  // Google's etag of an empty policy
        topics[name] = t
        return t
    }

    func topic(_ name: String) throws -> Topic {
        guard Self.validName(name, kind: .topics) else { throw Self.invalidName(name, kind: .topics) }
        guard let t = topics[name] else { throw Self.notFound(name) }
        return t
    }

    /// Deletes a topic; its subscriptions stay, detached (`_deleted-topic_`), and receive nothing more.
    mutating func deleteTopic(_ name: String) throws {
        _ = try topic(name)
        topics[name] = nil
        for k in subscriptions.keys where subscriptions[k]!.topic == name { subscriptions[k]!.topic = Self.deletedTopic }
    }

    /// Replaces the policy. A stale `etag` is refused as Google refuses concurrent policy changes.
    mutating func setPolicy(topic name: String, bindings: [IAMPolicy.Binding], etag: String?) throws -> IAMPolicy {
        let t = try topic(name)
        if let e = etag, e != t.policy.etag {
            throw FakeGmailError.pubsub(
                409, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
                status: "ABORTED")
        }
        let policy = IAMPolicy(bindings: bindings.filter { !$0.members.isEmpty }, etag: newEtag())
        topics[name]!.policy = policy
        return policy
    }

    /// Publishes to every attached subscription; returns the message id.
    mutating func publish(
        topic name: String, data: [UInt8], attributes: [String: String], orderingKey: String? = nil, now: Int64
    )
        throws -> String
    {
        _ = try topic(name)
        nextMessageId += 1 + random.next() % 97
        let m = Message(id: String(nextMessageId), data: data, attributes: attributes, publishMillis: now, orderingKey: orderingKey)
        for k in subscriptions.keys.sorted() where subscriptions[k]!.topic == name {
            subscriptions[k]!.outstanding.append(Outstanding(message: m, dueMillis: now))
        }
        return m.id
    }

    // MARK: - Subscriptions

    mutating func createSubscription(_ s: Subscription) throws -> Subscription {
        guard Self.validName(s.name, kind: .subscriptions) else { throw Self.invalidName(s.name, kind: .subscriptions) }
        guard Self.validName(s.topic, kind: .topics) else { throw Self.invalidName(s.topic, kind: .topics) }
        guard topics[s.topic] != nil else { throw Self.notFound(s.topic) }
        guard subscriptions[s.name] == nil else {
            throw FakeGmailError.pubsub(409, "Resource already exists in the project (resource=\(Self.resourceID(s.name))).")
        }
        try Self.checkAckDeadline(s.ackDeadlineSeconds, allowZero: false)
        if let d = s.deadLetter, topics[d.topic] == nil { throw Self.notFound(d.topic) }
        subscriptions[s.name] = s
        return s
    }

    func subscription(_ name: String) throws -> Subscription {
        guard Self.validName(name, kind: .subscriptions) else { throw Self.invalidName(name, kind: .subscriptions) }
        guard let s = subscriptions[name] else { throw Self.notFound(name) }
        return s
    }

    mutating func deleteSubscription(_ name: String) throws {
        _ = try subscription(name)
        subscriptions[name] = nil
    }

    /// `:modifyPushConfig`: nil turns a push subscription into a pull one.
    mutating func modifyPushConfig(_ name: String, _ config: PushConfig?) throws {
        _ = try subscription(name)
        subscriptions[name]!.push = config
        for i in subscriptions[name]!.outstanding.indices { subscriptions[name]!.outstanding[i].inFlight = false }
    }

    static func checkAckDeadline(_ seconds: Int, allowZero: Bool) throws {
        let range = allowZero ? 0...600 : 10...600
        guard range.contains(seconds) else {
            throw FakeGmailError.pubsub(
                400, "Invalid ack deadline given: \(seconds) (must be between \(range.lowerBound) and \(range.upperBound) seconds).")
        }
    }

    /// Up to `max` messages whose ack deadline has passed (or that were never delivered), oldest first;
    /// each gets a fresh ack id and a deadline `ackDeadlineSeconds` ahead. A message past its dead-letter
    /// policy's attempts goes to the dead-letter topic instead.
    mutating func pull(_ name: String, max: Int, now: Int64) throws -> [Delivery] {
        let s = try subscription(name)
        guard s.push == nil else {
            throw FakeGmailError.pubsub(400, "Pull is not supported on a push subscription.", status: "FAILED_PRECONDITION")
        }
        guard max > 0 else {
            throw FakeGmailError.pubsub(400, "A required argument is missing in the request: (argument=\"max_messages\").")
        }
        deadLetterExhausted(name, now: now)
        var out: [Delivery] = []
        for i in subscriptions[name]!.outstanding.indices where out.count < max {
            var o = subscriptions[name]!.outstanding[i]
            guard o.availableForPull(at: now) else { continue }
            ackSequence += 1
            o.attempts += 1
            o.ackId = mintAckId(sequence: ackSequence)
            o.dueMillis = now + Int64(s.ackDeadlineSeconds) * 1000
            subscriptions[name]!.outstanding[i] = o
            out.append(Delivery(ackId: o.ackId!, message: o.message, deliveryAttempt: s.deadLetter == nil ? nil : o.attempts))
        }
        return out
    }

    /// Acknowledges current deliveries; ack ids of expired or superseded deliveries are ignored, as
    /// Pub/Sub ignores late acks.
    mutating func acknowledge(_ name: String, ackIds: [String]) throws {
        _ = try subscription(name)
        guard !ackIds.isEmpty else { throw FakeGmailError.pubsub(400, "No ack ids specified.") }
        let wanted = Set(ackIds)
        subscriptions[name]!.outstanding.removeAll { o in o.ackId.map(wanted.contains) ?? false }
    }

    /// Moves current deliveries' deadlines to `seconds` from now; 0 makes them available again at once.
    mutating func modifyAckDeadline(_ name: String, ackIds: [String], seconds: Int, now: Int64) throws {
        _ = try subscription(name)
        guard !ackIds.isEmpty else { throw FakeGmailError.pubsub(400, "No ack ids specified.") }
        try Self.checkAckDeadline(seconds, allowZero: true)
        let wanted = Set(ackIds)
        for i in subscriptions[name]!.outstanding.indices {
            guard let a = subscriptions[name]!.outstanding[i].ackId, wanted.contains(a) else { continue }
            if seconds == 0 {
                subscriptions[name]!.outstanding[i].ackId = nil
                subscriptions[name]!.outstanding[i].dueMillis = now
            } else {
                subscriptions[name]!.outstanding[i].dueMillis = now + Int64(seconds) * 1000
            }
        }
    }

    // MARK: - Push

    /// Every push message due now, marked in flight (so a concurrent pump does not send it twice).
    mutating func takeDuePushes(now: Int64) -> [PushAttempt] {
        var out: [PushAttempt] = []
        for name in subscriptions.keys.sorted() {
            guard let config = subscriptions[name]!.push else { continue }
            deadLetterExhausted(name, now: now)
            let dl = subscriptions[name]!.deadLetter
            for i in subscriptions[name]!.outstanding.indices {
                var o = subscriptions[name]!.outstanding[i]
                guard !o.inFlight, o.dueMillis <= now else { continue }
                o.inFlight = true
                o.attempts += 1
                subscriptions[name]!.outstanding[i] = o
                out.append(
                    PushAttempt(
                        subscription: name, message: o.message, attempt: o.attempts, deliveryAttempt: dl == nil ? nil : o.attempts,
                        config: config))
            }
        }
        return out
    }

    /// The endpoint's answer: an ack removes the message; anything else schedules the next attempt.
    mutating func pushAnswered(_ attempt: PushAttempt, acked: Bool, now: Int64) {
        guard let i = subscriptions[attempt.subscription]?.outstanding.firstIndex(where: { $0.message.id == attempt.message.id })
        else { return }
        if acked {
            subscriptions[attempt.subscription]!.outstanding.remove(at: i)
            return
        }
        let policy = subscriptions[attempt.subscription]!.retryPolicy
        subscriptions[attempt.subscription]!.outstanding[i].inFlight = false
        subscriptions[attempt.subscription]!.outstanding[i].dueMillis =
            now + PushBackoff.delayMillis(afterAttempt: attempt.attempt, policy: policy)
    }

    /// Forwards messages that used up their delivery attempts to the dead-letter topic.
    private mutating func deadLetterExhausted(_ name: String, now: Int64) {
        guard let dl = subscriptions[name]!.deadLetter else { return }
        let spent = subscriptions[name]!.outstanding.filter { o in
            !o.inFlight && o.attempts >= dl.maxDeliveryAttempts && o.availableForPull(at: now) && o.dueMillis <= now
        }
        guard !spent.isEmpty else { return }
        let ids = Set(spent.map(\.message.id))
        subscriptions[name]!.outstanding.removeAll { ids.contains($0.message.id) }
        for o in spent {
            _ = try? publish(
                topic: dl.topic, data: o.message.data, attributes: o.message.attributes, orderingKey: o.message.orderingKey, now: now)
        }
    }

    private mutating func newEtag() -> String {
        var bytes: [UInt8] = [0x07, 0x06]  // Google's policy etags begin "BwY" in base64
        for _ in 0..<6 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        return Data(bytes).base64EncodedString()
    }

    /// An opaque ack id, long and URL-safe like Pub/Sub's.
    private mutating func mintAckId(sequence: UInt64) -> String {
        var bytes = Array("\(sequence)|".utf8)
        while bytes.count < 60 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// When a nacked push is tried again: with a `retryPolicy`, exponential from its minimum (default 10 s)
/// to its maximum (default 600 s); without one, Pub/Sub's push backoff, 100 ms doubling to 60 s.
enum PushBackoff {
    static func delayMillis(afterAttempt attempt: Int, policy: PubSubModel.RetryPolicy?) -> Int64 {
        let (base, cap) = policy.map { ($0.minimumMillis, $0.maximumMillis) } ?? (100, 60_000)
        let shift = min(max(attempt - 1, 0), 30)
        let d = base.multipliedReportingOverflow(by: Int64(1) << shift)
        return d.overflow ? cap : min(d.partialValue, cap)
    }

    /// The answers Pub/Sub takes as an acknowledgement.
    static func acks(_ status: Int) -> Bool { [102, 200, 201, 202, 204].contains(status) }
}
