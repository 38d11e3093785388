import Foundation
import MIMEKit

/// Cloud Pub/Sub's REST API (v1) under `/v1/projects/...`, as Google's discovery document describes it
/// (so google-api-python-client's `build("pubsub", "v1")` works against it). No authentication, as
/// Google's own emulator. Errors are Pub/Sub's envelope `{"error": {"code", "message", "status"}}`.
///
/// | route | method |
/// |---|---|
/// | `PUT /v1/projects/{p}/topics/{t}` `{labels?}` | topics.create |
/// | `GET`, `DELETE /v1/projects/{p}/topics/{t}` | topics.get, topics.delete |
/// | `GET /v1/projects/{p}/topics` | topics.list |
/// | `GET /v1/projects/{p}/topics/{t}/subscriptions` | topics.subscriptions.list |
/// | `POST /v1/projects/{p}/topics/{t}:publish` `{messages: [{data, attributes, orderingKey}]}` | topics.publish |
/// | `POST .../topics/{t}:setIamPolicy` `{policy: {bindings, etag?}}`, `GET` (or `POST`) `...:getIamPolicy` | IAM |
/// | `PUT /v1/projects/{p}/subscriptions/{s}` `{topic, ackDeadlineSeconds, pushConfig, retryPolicy, deadLetterPolicy, labels}` | subscriptions.create |
/// | `GET`, `DELETE /v1/projects/{p}/subscriptions/{s}`, `GET /v1/projects/{p}/subscriptions` | get, delete, list |
/// | `POST .../subscriptions/{s}:pull` `{maxMessages, returnImmediately}` | subscriptions.pull |
/// | `POST .../subscriptions/{s}:acknowledge` `{ackIds}` | subscriptions.acknowledge |
/// | `POST .../subscriptions/{s}:modifyAckDeadline` `{ackIds, ackDeadlineSeconds}` | subscriptions.modifyAckDeadline |
/// | `POST .../subscriptions/{s}:modifyPushConfig` `{pushConfig}` | subscriptions.modifyPushConfig |
extension FakeGmail {
    func pubsub(_ r: FakeRequest) -> FakeResponse {
        pumpNotifier()
        var segments = r.path.dropFirst("/v1/".count).split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        var verb: String?
        if let last = segments.last, let colon = last.lastIndex(of: ":") {
            verb = String(last[last.index(after: colon)...])
            segments[segments.count - 1] = String(last[..<colon])
        }
        let name = segments.joined(separator: "/")
        let now = model.clock.nowMillis
        var method = "pubsub.projects.unknown"
        let response: FakeResponse
        do {
            guard segments.count >= 3, segments[0] == "projects" else { throw PubSubModel.notFound(name) }
            let project = "projects/" + segments[1]
            let pretty = r.queryValue("prettyPrint").map { $0 != "false" } ?? true
            func ok(_ v: WireJSON) -> FakeResponse { .json(200, v, pretty: pretty) }
            switch (r.method, segments[2], segments.count, verb) {
            case ("GET", "topics", 3, nil):
                method = "pubsub.projects.topics.list"
                let found = pubsub.topics.values.filter { $0.name.hasPrefix(project + "/") }.sorted { $0.name < $1.name }
                response = ok(found.isEmpty ? .object([]) : .object([("topics", .array(found.map(Self.topicJSON)))]))
            case ("PUT", "topics", 4, nil):
                method = "pubsub.projects.topics.create"
                let body = try Self.body(r)
                response = ok(Self.topicJSON(try pubsub.createTopic(name, labels: body["labels"] as? [String: String] ?? [:])))
            case ("GET", "topics", 4, nil):
                method = "pubsub.projects.topics.get"
                response = ok(Self.topicJSON(try pubsub.topic(name)))
            case ("DELETE", "topics", 4, nil):
                method = "pubsub.projects.topics.delete"
                try pubsub.deleteTopic(name)
                response = ok(.object([]))
            case ("GET", "topics", 5, nil) where segments[4] == "subscriptions":
                method = "pubsub.projects.topics.subscriptions.list"
                let topicName = segments[0..<4].joined(separator: "/")
                _ = try pubsub.topic(topicName)
                let names = pubsub.subscriptions.values.filter { $0.topic == topicName }.map(\.name).sorted()
                response = ok(names.isEmpty ? .object([]) : .object([("subscriptions", .array(names.map(WireJSON.string)))]))
            case ("POST", "topics", 4, "publish"?):
                method = "pubsub.projects.topics.publish"
                response = ok(try publish(name, Self.body(r), now: now))
            case ("POST", "topics", 4, "setIamPolicy"?):
                method = "pubsub.projects.topics.setIamPolicy"
                let policy = try Self.body(r)["policy"] as? [String: Any] ?? [:]
                let bindings = (policy["bindings"] as? [[String: Any]] ?? []).map { b in
                    PubSubModel.IAMPolicy.Binding(role: b["role"] as? String ?? "", members: b["members"] as? [String] ?? [])
                }
                response = ok(Self.policyJSON(try pubsub.setPolicy(topic: name, bindings: bindings, etag: policy["etag"] as? String)))
            case ("GET", "topics", 4, "getIamPolicy"?), ("POST", "topics", 4, "getIamPolicy"?):
                method = "pubsub.projects.topics.getIamPolicy"
                response = ok(Self.policyJSON(try pubsub.topic(name).policy))
            case ("GET", "subscriptions", 3, nil):
                method = "pubsub.projects.subscriptions.list"
                let found = pubsub.subscriptions.values.filter { $0.name.hasPrefix(project + "/") }.sorted { $0.name < $1.name }
                response = ok(found.isEmpty ? .object([]) : .object([("subscriptions", .array(found.map(Self.subscriptionJSON)))]))
            case ("PUT", "subscriptions", 4, nil):
                method = "pubsub.projects.subscriptions.create"
                response = ok(Self.subscriptionJSON(try pubsub.createSubscription(Self.subscription(name, Self.body(r)))))
            case ("GET", "subscriptions", 4, nil):
                method = "pubsub.projects.subscriptions.get"
                response = ok(Self.subscriptionJSON(try pubsub.subscription(name)))
            case ("DELETE", "subscriptions", 4, nil):
                method = "pubsub.projects.subscriptions.delete"
                try pubsub.deleteSubscription(name)
                response = ok(.object([]))
            case ("POST", "subscriptions", 4, "pull"?):
                method = "pubsub.projects.subscriptions.pull"
                let body = try Self.body(r)
                let max = Self.int(body["maxMessages"]) ?? 0
                let got = try pubsub.pull(name, max: max, now: now)
                response = ok(got.isEmpty ? .object([]) : .object([("receivedMessages", .array(got.map(Self.receivedJSON)))]))
            case ("POST", "subscriptions", 4, "acknowledge"?):
                method = "pubsub.projects.subscriptions.acknowledge"
                try pubsub.acknowledge(name, ackIds: try Self.body(r)["ackIds"] as? [String] ?? [])
                response = ok(.object([]))
            case ("POST", "subscriptions", 4, "modifyAckDeadline"?):
                method = "pubsub.projects.subscriptions.modifyAckDeadline"
                let body = try Self.body(r)
                guard let seconds = Self.int(body["ackDeadlineSeconds"]) else {
                    throw FakeGmailError.pubsub(400, "A required argument is missing in the request: (argument=\"ack_deadline_seconds\").")
                }
                try pubsub.modifyAckDeadline(name, ackIds: body["ackIds"] as? [String] ?? [], seconds: seconds, now: now)
                response = ok(.object([]))
            case ("POST", "subscriptions", 4, "modifyPushConfig"?):
                method = "pubsub.projects.subscriptions.modifyPushConfig"
                try pubsub.modifyPushConfig(name, try Self.pushConfig(Self.body(r)["pushConfig"] as? [String: Any]))
                response = ok(.object([]))
            default:
                throw FakeGmailError.pubsub(404, "FakeGmail's Pub/Sub does not serve \(r.method) \(r.path)", status: "NOT_FOUND")
            }
        } catch let e as FakeGmailError {
            response = e.response
        } catch {
            response = FakeGmailError.pubsub(500, "Internal error encountered.").response
        }
        let endpoint = FakeEndpoint.pubsub(method)
        count(endpoint)
        return record(r, endpoint, user: nil, batchPart: nil, response: response, fault: nil)
    }

    private func publish(_ topic: String, _ body: [String: Any], now: Int64) throws -> WireJSON {
        guard let messages = body["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw FakeGmailError.pubsub(400, "The request contains no messages.")
        }
        _ = try pubsub.topic(topic)
        var ids: [WireJSON] = []
        for m in messages {
            let data = (m["data"] as? String).map { Base64.decode($0) } ?? []
            let attributes = m["attributes"] as? [String: String] ?? [:]
            guard !data.isEmpty || !attributes.isEmpty else {
                throw FakeGmailError.pubsub(400, "Some messages are empty: a message must have data or attributes.")
            }
            let id = try pubsub.publish(
                topic: topic, data: data, attributes: attributes, orderingKey: m["orderingKey"] as? String, now: now)
            ids.append(.string(id))
        }
        return .object([("messageIds", .array(ids))])
    }

    // MARK: - Parsing

    static func body(_ r: FakeRequest) throws -> [String: Any] {
        guard let o = WireJSON.parseObject(r.body) else {
            throw FakeGmailError.pubsub(400, "Invalid JSON payload received. Unexpected token.")
        }
        return o
    }

    /// An int32 field, which JSON clients send as a number or a string.
    static func int(_ v: Any?) -> Int? {
        if let n = v as? Int { return n }
        if let s = v as? String { return Int(s) }
        return nil
    }

    /// `"10s"`, `"1.5s"`, as protobuf's JSON mapping writes a Duration.
    static func durationMillis(_ v: Any?) throws -> Int64? {
        guard let s = v as? String else { return nil }
        guard s.hasSuffix("s"), let seconds = Double(s.dropLast()), seconds >= 0 else {
            throw FakeGmailError.pubsub(400, "Invalid value at 'duration' (\(s))")
        }
        return Int64(seconds * 1000)
    }

    static func subscription(_ name: String, _ body: [String: Any]) throws -> PubSubModel.Subscription {
        guard let topic = body["topic"] as? String, !topic.isEmpty else {
            throw FakeGmailError.pubsub(400, "A required argument is missing in the request: (argument=\"topic\").")
        }
        var retry: PubSubModel.RetryPolicy?
        if let rp = body["retryPolicy"] as? [String: Any] {
            retry = PubSubModel.RetryPolicy(
                minimumMillis: try durationMillis(rp["minimumBackoff"]) ?? 10_000,
                maximumMillis: try durationMillis(rp["maximumBackoff"]) ?? 600_000)
        }
        var deadLetter: PubSubModel.DeadLetterPolicy?
        if let dl = body["deadLetterPolicy"] as? [String: Any], let t = dl["deadLetterTopic"] as? String {
            let attempts = int(dl["maxDeliveryAttempts"]) ?? 5
            guard (5...100).contains(attempts) else {
                throw FakeGmailError.pubsub(400, "Invalid max_delivery_attempts: \(attempts) (must be between 5 and 100).")
            }
            deadLetter = PubSubModel.DeadLetterPolicy(topic: t, maxDeliveryAttempts: attempts)
        }
        return PubSubModel.Subscription(
            name: name, topic: topic, ackDeadlineSeconds: int(body["ackDeadlineSeconds"]) ?? 10,
            push: try pushConfig(body["pushConfig"] as? [String: Any]), retryPolicy: retry, deadLetter: deadLetter,
            labels: body["labels"] as? [String: String] ?? [:])
    }

    /// Nil (a pull subscription) when there is no `pushEndpoint`. Plain `http` endpoints are accepted, as
    /// Google's emulator accepts them (the real service wants `https`).
    static func pushConfig(_ o: [String: Any]?) throws -> PubSubModel.PushConfig? {
        guard let o, let endpoint = o["pushEndpoint"] as? String, !endpoint.isEmpty else { return nil }
        guard let u = URL(string: endpoint), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host != nil else {
            throw FakeGmailError.pubsub(400, "Invalid push endpoint given (endpoint=\(endpoint)).")
        }
        var c = PubSubModel.PushConfig(endpoint: endpoint, attributes: o["attributes"] as? [String: String] ?? [:])
        if let oidc = o["oidcToken"] as? [String: Any] {
            guard let account = oidc["serviceAccountEmail"] as? String, !account.isEmpty else {
                throw FakeGmailError.pubsub(400, "A required argument is missing in the request: (argument=\"service_account_email\").")
            }
            c.oidcServiceAccount = account
            c.oidcAudience = oidc["audience"] as? String
        }
        if let nw = o["noWrapper"] as? [String: Any] {
            c.unwrapped = true
            c.writeMetadata = nw["writeMetadata"] as? Bool ?? false
        }
        return c
    }

    // MARK: - Rendering

    static func stringMap(_ m: [String: String]) -> WireJSON { .object(m.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }

    static func topicJSON(_ t: PubSubModel.Topic) -> WireJSON {
        var pairs: [(String, WireJSON)] = [("name", .string(t.name))]
        if !t.labels.isEmpty { pairs.append(("labels", stringMap(t.labels))) }
        return .object(pairs)
    }

    /// `{"version": 1, "etag", "bindings"}`; an empty policy is just its etag (`ACAB`, as Google's is).
    static func policyJSON(_ p: PubSubModel.IAMPolicy) -> WireJSON {
        guard !p.bindings.isEmpty else { return .object([("etag", .string(p.etag))]) }
        let bindings = p.bindings.map { b in
            WireJSON.object([("role", .string(b.role)), ("members", .array(b.members.map(WireJSON.string)))])
        }
        return .object([("version", .number(1)), ("etag", .string(p.etag)), ("bindings", .array(bindings))])
    }

    static func duration(_ ms: Int64) -> WireJSON {
        ms % 1000 == 0 ? .string("\(ms / 1000)s") : .string(String(format: "%.3fs", Double(ms) / 1000))
    }

    static func pushConfigJSON(_ c: PubSubModel.PushConfig?) -> WireJSON {
        guard let c else { return .object([]) }
        var attributes = c.attributes
        if !c.unwrapped && attributes["x-goog-version"] == nil { attributes["x-goog-version"] = "v1" }
        var pairs: [(String, WireJSON)] = [("pushEndpoint", .string(c.endpoint)), ("attributes", stringMap(attributes))]
        if let sa = c.oidcServiceAccount {
            var oidc: [(String, WireJSON)] = [("serviceAccountEmail", .string(sa))]
            if let a = c.oidcAudience { oidc.append(("audience", .string(a))) }
            pairs.append(("oidcToken", .object(oidc)))
        }
        if c.unwrapped { pairs.append(("noWrapper", .object(c.writeMetadata ? [("writeMetadata", .bool(true))] : []))) }
        return .object(pairs)
    }

    static func subscriptionJSON(_ s: PubSubModel.Subscription) -> WireJSON {
        var pairs: [(String, WireJSON)] = [
            ("name", .string(s.name)), ("topic", .string(s.topic)), ("pushConfig", pushConfigJSON(s.push)),
            ("ackDeadlineSeconds", .number(Int64(s.ackDeadlineSeconds))), ("messageRetentionDuration", .string("604800s")),
        ]
        if !s.labels.isEmpty { pairs.append(("labels", stringMap(s.labels))) }
        pairs.append(("expirationPolicy", .object([("ttl", .string("2678400s"))])))
        if let rp = s.retryPolicy {
            pairs.append(
                ("retryPolicy", .object([("minimumBackoff", duration(rp.minimumMillis)), ("maximumBackoff", duration(rp.maximumMillis))])))
        }
        if let dl = s.deadLetter {
            pairs.append(
                (
                    "deadLetterPolicy",
                    .object([("deadLetterTopic", .string(dl.topic)), ("maxDeliveryAttempts", .number(Int64(dl.maxDeliveryAttempts)))])
                ))
        }
        pairs.append(("state", .string("ACTIVE")))
        return .object(pairs)
    }

    /// A PubsubMessage as `:pull` returns it: data (standard base64), attributes when set, id, time.
    static func messageJSON(_ m: PubSubModel.Message) -> WireJSON {
        var pairs: [(String, WireJSON)] = []
        if !m.data.isEmpty { pairs.append(("data", .string(Base64.encode(m.data)))) }
        if !m.attributes.isEmpty { pairs.append(("attributes", stringMap(m.attributes))) }
        pairs += [("messageId", .string(m.id)), ("publishTime", .string(publishTime(m.publishMillis)))]
        if let k = m.orderingKey { pairs.append(("orderingKey", .string(k))) }
        return .object(pairs)
    }

    static func receivedJSON(_ d: PubSubModel.Delivery) -> WireJSON {
        var pairs: [(String, WireJSON)] = [("ackId", .string(d.ackId)), ("message", messageJSON(d.message))]
        if let a = d.deliveryAttempt { pairs.append(("deliveryAttempt", .number(Int64(a)))) }
        return .object(pairs)
    }

    /// `2024-01-01T00:00:00.123Z` (Pub/Sub writes fractional seconds).
    static func publishTime(_ ms: Int64) -> String {
        let seconds = Int64((Double(ms) / 1000).rounded(.down))
        let iso = DateParser.iso8601(Date(timeIntervalSince1970: TimeInterval(seconds)))
        return iso.replacingOccurrences(of: "Z", with: String(format: ".%03dZ", ms - seconds * 1000))
    }
}
