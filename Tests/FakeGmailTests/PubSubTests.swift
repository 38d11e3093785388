import Crypto
import FakeGmail
import Foundation
import MIMEKit
import _CryptoExtras
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@Suite struct PubSubTests {
    typealias F = PushFixture

    static func request(_ method: String, _ path: String, _ body: String = "") -> FakeRequest {
        FakeRequest(method: method, target: path, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }

    static func pullRequest(_ subscription: String, max: Int) -> FakeRequest {
        request("POST", "/v1/\(subscription):pull", "{\"maxMessages\": \(max), \"returnImmediately\": true}")
    }

    static func object(_ r: FakeResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any], "\(String(decoding: r.body, as: UTF8.self))")
    }

    /// The `receivedMessages` of a `:pull` answer (an empty answer is `{}`).
    static func pull(_ r: FakeResponse) throws -> [[String: Any]] {
        #expect(r.status == 200)
        return try object(r)["receivedMessages"] as? [[String: Any]] ?? []
    }

    static func error(_ r: FakeResponse) throws -> [String: Any] {
        try #require(try object(r)["error"] as? [String: Any])
    }

    @Test(arguments: Door.allCases)
    func topicsAndSubscriptionsWithPubSubsErrors(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 5))
        let topic = "projects/crm-staging/topics/gmail"
        let sub = "projects/crm-staging/subscriptions/crm"
        try await withFake(fake, door: door) { s in
            let created = try await s.send(Self.request("PUT", "/v1/\(topic)", "{}"))
            #expect(created.status == 200)
            #expect(String(decoding: created.body, as: UTF8.self) == "{\n  \"name\": \"\(topic)\"\n}\n")
            let again = try await s.send(Self.request("PUT", "/v1/\(topic)", "{}"))
            #expect(again.status == 409)
            let e = try Self.error(again)
            #expect(e["status"] as? String == "ALREADY_EXISTS")
            #expect(e["message"] as? String == "Resource already exists in the project (resource=gmail).")
            #expect(e["errors"] == nil)  // Pub/Sub's envelope has no legacy errors list
            #expect(try await s.send(Self.request("GET", "/v1/\(topic)")).status == 200)
            let missing = try await s.send(Self.request("GET", "/v1/projects/crm-staging/topics/nope"))
            #expect(missing.status == 404)
            #expect(try Self.error(missing)["message"] as? String == "Resource not found (resource=nope).")
            let invalid = try await s.send(Self.request("PUT", "/v1/projects/crm-staging/topics/9lives", "{}"))
            #expect(invalid.status == 400)
            #expect(try Self.error(invalid)["status"] as? String == "INVALID_ARGUMENT")
            #expect(try Self.error(invalid)["message"] as? String == "Invalid [topics] name: (name=projects/crm-staging/topics/9lives)")

            let orphan = try await s.send(Self.request("PUT", "/v1/\(sub)", "{\"topic\": \"projects/crm-staging/topics/nope\"}"))
            #expect(orphan.status == 404)
            let badDeadline = try await s.send(Self.request("PUT", "/v1/\(sub)", "{\"topic\": \"\(topic)\", \"ackDeadlineSeconds\": 601}"))
            #expect(badDeadline.status == 400)
            let made = try await s.send(Self.request("PUT", "/v1/\(sub)", "{\"topic\": \"\(topic)\", \"ackDeadlineSeconds\": 20}"))
            #expect(made.status == 200)
            let body = try Self.object(made)
            #expect(body["name"] as? String == sub && body["topic"] as? String == topic)
            #expect(body["ackDeadlineSeconds"] as? Int == 20)
            #expect((body["pushConfig"] as? [String: Any])?.isEmpty == true)
            #expect(body["state"] as? String == "ACTIVE")
            #expect(try await s.send(Self.request("PUT", "/v1/\(sub)", "{\"topic\": \"\(topic)\"}")).status == 409)
            let listed = try Self.object(try await s.send(Self.request("GET", "/v1/\(topic)/subscriptions")))
            #expect(listed["subscriptions"] as? [String] == [sub])
            let topics = try Self.object(try await s.send(Self.request("GET", "/v1/projects/crm-staging/topics")))
            #expect((topics["topics"] as? [[String: Any]])?.count == 1)

            // Deleting the topic detaches the subscription; deleting the subscription removes it.
            #expect(try await s.send(Self.request("DELETE", "/v1/\(topic)")).status == 200)
            let detached = try Self.object(try await s.send(Self.request("GET", "/v1/\(sub)")))
            #expect(detached["topic"] as? String == "_deleted-topic_")
            let deleted = try await s.send(Self.request("DELETE", "/v1/\(sub)"))
            #expect(deleted.status == 200 && String(decoding: deleted.body, as: UTF8.self) == "{}\n")
            #expect(try await s.send(Self.request("GET", "/v1/\(sub)")).status == 404)
        }
        #expect(await fake.stats().requests["pubsub.projects.topics.create"] == 3)
    }

    @Test(arguments: Door.allCases)
    func iamPolicyReadModifyWrite(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 5))
        let topic = "projects/fake-gmail-project/topics/gmail"
        try await fake.createTopic(topic)
        try await withFake(fake, door: door) { s in
            let empty = try Self.object(try await s.send(Self.request("GET", "/v1/\(topic):getIamPolicy")))
            #expect(empty as NSDictionary == ["etag": "ACAB"])
            let grant =
                "{\"policy\": {\"bindings\": [{\"role\": \"roles/pubsub.publisher\", \"members\": [\"serviceAccount:gmail-api-push@system.gserviceaccount.com\"]}], \"etag\": \"ACAB\"}}"
            let set = try await s.send(Self.request("POST", "/v1/\(topic):setIamPolicy", grant))
            #expect(set.status == 200)
            let policy = try Self.object(set)
            let etag = try #require(policy["etag"] as? String)
            #expect(etag != "ACAB" && etag.hasPrefix("Bw"))
            #expect(policy["version"] as? Int == 1)
            let bindings = try #require(policy["bindings"] as? [[String: Any]])
            #expect(bindings.first?["members"] as? [String] == ["serviceAccount:gmail-api-push@system.gserviceaccount.com"])
            // A write based on an old read is refused.
            let stale = try await s.send(Self.request("POST", "/v1/\(topic):setIamPolicy", grant))
            #expect(stale.status == 409)
            #expect(try Self.error(stale)["status"] as? String == "ABORTED")
            let read = try Self.object(try await s.send(Self.request("GET", "/v1/\(topic):getIamPolicy")))
            #expect(read["etag"] as? String == etag)
        }
        // The grant is what users.watch checks.
        await fake.addUser(F.alice)
        let token = await fake.accessToken(for: F.alice)
        #expect(await fake.handle(F.watchRequest("{\"topicName\": \"\(topic)\"}", token: token)).status == 200)
    }

    @Test(arguments: Door.allCases)
    func pullAcknowledgeAndRedeliveryAfterTheDeadline(door: Door) async throws {
        let (fake, _) = try await F.make()
        let sub = F.subscription
        try await withFake(fake, door: door) { s in
            let publish = try await s.send(
                Self.request(
                    "POST", "/v1/\(F.topic):publish",
                    "{\"messages\": [{\"data\": \"b25l\", \"attributes\": {\"k\": \"v\"}}, {\"data\": \"dHdv\"}]}"))
            let ids = try #require(try Self.object(publish)["messageIds"] as? [String])
            #expect(ids.count == 2 && ids[0] < ids[1])
            let first = try Self.pull(try await s.send(Self.pullRequest(sub, max: 10)))
            #expect(first.count == 2)
            let m0 = try #require(first[0]["message"] as? [String: Any])
            #expect(m0["data"] as? String == "b25l" && m0["messageId"] as? String == ids[0])
            #expect(m0["attributes"] as? [String: String] == ["k": "v"])
            #expect(m0["publishTime"] as? String == "2024-01-01T00:00:00.000Z")
            #expect(first[0]["deliveryAttempt"] == nil)
            // Within the deadline nothing is redelivered.
            #expect(try Self.pull(try await s.send(Self.pullRequest(sub, max: 10))).isEmpty)
            let ack0 = try #require(first[0]["ackId"] as? String)
            let oldAck1 = try #require(first[1]["ackId"] as? String)
            let acked = try await s.send(Self.request("POST", "/v1/\(sub):acknowledge", "{\"ackIds\": [\"\(ack0)\"]}"))
            #expect(acked.status == 200 && String(decoding: acked.body, as: UTF8.self) == "{}\n")
            await fake.advanceClock(millis: 9999)
            #expect(try Self.pull(try await s.send(Self.pullRequest(sub, max: 10))).isEmpty)
            await fake.advanceClock(millis: 1)
            let again = try Self.pull(try await s.send(Self.pullRequest(sub, max: 10)))
            #expect(again.count == 1)
            #expect((again[0]["message"] as? [String: Any])?["messageId"] as? String == ids[1])
            let newAck1 = try #require(again[0]["ackId"] as? String)
            #expect(newAck1 != oldAck1)
            // The superseded ack id does nothing; the current one acknowledges.
            _ = try await s.send(Self.request("POST", "/v1/\(sub):acknowledge", "{\"ackIds\": [\"\(oldAck1)\"]}"))
            await fake.advanceClock(seconds: 10)
            let third = try Self.pull(try await s.send(Self.pullRequest(sub, max: 10)))
            let ack1 = try #require(third.first?["ackId"] as? String)
            _ = try await s.send(Self.request("POST", "/v1/\(sub):acknowledge", "{\"ackIds\": [\"\(ack1)\"]}"))
            await fake.advanceClock(seconds: 60)
            #expect(try Self.pull(try await s.send(Self.pullRequest(sub, max: 10))).isEmpty)
            // Errors: no ack ids, no maxMessages, an unknown subscription.
            #expect(try await s.send(Self.request("POST", "/v1/\(sub):acknowledge", "{\"ackIds\": []}")).status == 400)
            #expect(try await s.send(Self.request("POST", "/v1/\(sub):pull", "{}")).status == 400)
            #expect(try await s.send(Self.pullRequest(F.project + "/subscriptions/nope", max: 1)).status == 404)
        }
    }

    @Test func modifyAckDeadlineExtendsAndNacks() async throws {
        let (fake, _) = try await F.make()
        let sub = F.subscription
        _ = await fake.handle(Self.request("POST", "/v1/\(F.topic):publish", "{\"messages\": [{\"data\": \"b25l\"}]}"))
        let got = try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1)))
        let ack = try #require(got.first?["ackId"] as? String)
        let extend = await fake.handle(
            Self.request("POST", "/v1/\(sub):modifyAckDeadline", "{\"ackIds\": [\"\(ack)\"], \"ackDeadlineSeconds\": 60}"))
        #expect(extend.status == 200)
        await fake.advanceClock(seconds: 59)
        #expect(try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1))).isEmpty)
        await fake.advanceClock(seconds: 1)
        let redelivered = try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1)))
        let ack2 = try #require(redelivered.first?["ackId"] as? String)
        _ = await fake.handle(
            Self.request("POST", "/v1/\(sub):modifyAckDeadline", "{\"ackIds\": [\"\(ack2)\"], \"ackDeadlineSeconds\": 0}"))
        #expect(try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1))).count == 1)
        let bad = await fake.handle(
            Self.request("POST", "/v1/\(sub):modifyAckDeadline", "{\"ackIds\": [\"x\"], \"ackDeadlineSeconds\": 601}"))
        #expect(bad.status == 400)
    }

    /// A dead-letter policy: `deliveryAttempt` counts, and the fifth failure moves the message on.
    @Test func deadLetterPolicyCountsDeliveryAttempts() async throws {
        let (fake, _) = try await F.make()
        try await fake.createTopic(F.project + "/topics/dead")
        try await fake.createSubscription(F.project + "/subscriptions/dead-pull", topic: F.project + "/topics/dead")
        let sub = F.project + "/subscriptions/counted"
        let created = await fake.handle(
            Self.request(
                "PUT", "/v1/\(sub)",
                "{\"topic\": \"\(F.topic)\", \"deadLetterPolicy\": {\"deadLetterTopic\": \"\(F.project)/topics/dead\", \"maxDeliveryAttempts\": 5}}"
            ))
        #expect(created.status == 200)
        _ = await fake.handle(Self.request("POST", "/v1/\(F.topic):publish", "{\"messages\": [{\"data\": \"b25l\"}]}"))
        for attempt in 1...5 {
            let got = try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1)))
            #expect(got.first?["deliveryAttempt"] as? Int == attempt)
            await fake.advanceClock(seconds: 10)
        }
        #expect(try Self.pull(await fake.handle(Self.pullRequest(sub, max: 1))).isEmpty)
        let dead = try Self.pull(await fake.handle(Self.pullRequest(F.project + "/subscriptions/dead-pull", max: 1)))
        #expect((dead.first?["message"] as? [String: Any])?["data"] as? String == "b25l")
    }

    /// Push with an injected sender: non-2xx answers are retried with Pub/Sub's push backoff (100 ms,
    /// doubling) on the virtual clock, a `retryPolicy` sets its own bounds, an ack ends it.
    @Test func pushRetriesWithExponentialBackoffOnTheVirtualClock() async throws {
        let (fake, token) = try await F.make()
        let sender = ScriptedSender(statuses: [503, 500, 404, 204])
        await fake.setPushSender(sender)
        let sub = F.project + "/subscriptions/crm-push"
        let made = await fake.handle(
            Self.request(
                "PUT", "/v1/\(sub)",
                "{\"topic\": \"\(F.topic)\", \"pushConfig\": {\"pushEndpoint\": \"http://crm.invalid/api/email/push\"}}"))
        #expect(made.status == 200)
        try await F.watch(fake, token: token)
        try await F.deliver(fake, 1)
        var attemptsAt: [Int64] = []
        for _ in 0..<400 {  // 400 rounds 5 ms apart: 2 virtual seconds
            if await fake.deliverPushes() > 0 { attemptsAt.append(await fake.nowMillis()) }
            await fake.advanceClock(millis: 5)
        }
        let t0 = try #require(attemptsAt.first)
        #expect(attemptsAt.map { $0 - t0 } == [0, 100, 300, 700])
        #expect(await fake.pushDeliveries().map(\.status) == [503, 500, 404, 204])
        #expect(await fake.pushDeliveries().map(\.attempt) == [1, 2, 3, 4])
        #expect(await sender.requests().count == 4)

        // retryPolicy: 10 s minimum backoff.
        let slow = F.project + "/subscriptions/crm-push-slow"
        _ = await fake.handle(
            Self.request(
                "PUT", "/v1/\(slow)",
                "{\"topic\": \"\(F.topic)\", \"pushConfig\": {\"pushEndpoint\": \"http://crm.invalid/slow\"}, \"retryPolicy\": {\"minimumBackoff\": \"10s\", \"maximumBackoff\": \"600s\"}}"
            ))
        await sender.script([200, 500, 200])
        await fake.advanceClock(seconds: 2)
        try await F.deliver(fake, 2)
        #expect(await fake.deliverPushes() == 2)  // both push subscriptions; the slow one gets the 500
        await fake.advanceClock(millis: 9900)
        #expect(await fake.deliverPushes() == 0)
        await fake.advanceClock(millis: 100)
        #expect(await fake.deliverPushes() == 1)
        #expect(await fake.pushDeliveries().last?.subscription == slow)
        #expect(await fake.pushDeliveries().last?.status == 200)
    }

    /// Push over a real loopback socket: the endpoint answers 500, the retry gets 200; the body is the
    /// standard wrapped envelope.
    @Test func pushOverALoopbackSocketRetriesAfterA500() async throws {
        let (fake, token) = try await F.make()
        await fake.setPushSender(HTTPPushSender())
        let endpoint = PushEndpoint(statuses: [500, 200])
        try await endpoint.serve { url in
            let sub = F.project + "/subscriptions/crm-push"
            let made = await fake.handle(
                Self.request(
                    "PUT", "/v1/\(sub)",
                    "{\"topic\": \"\(F.topic)\", \"pushConfig\": {\"pushEndpoint\": \"\(url)/api/email/push?token=s3cret\"}}"))
            #expect(made.status == 200)
            try await F.watch(fake, token: token)
            let historyId = try await F.deliver(fake, 1)
            #expect(await fake.deliverPushes() == 1)
            #expect(await fake.pushDeliveries().map(\.status) == [500])
            #expect(await fake.deliverPushes() == 0)  // backing off
            await fake.advanceClock(millis: 100)
            #expect(await fake.deliverPushes() == 1)
            #expect(await fake.pushDeliveries().map(\.status) == [500, 200])
            await fake.advanceClock(seconds: 60)
            #expect(await fake.deliverPushes() == 0)

            let received = await endpoint.received()
            #expect(received.count == 2)
            let r = try #require(received.last)
            #expect(r.target == "/api/email/push?token=s3cret")
            #expect(r.contentType == "application/json")
            #expect(r.userAgent?.hasPrefix("APIs-Google") == true)
            let envelope = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            #expect(envelope["subscription"] as? String == sub)
            #expect(envelope["deliveryAttempt"] == nil)
            let message = try #require(envelope["message"] as? [String: Any])
            #expect(message["messageId"] as? String == message["message_id"] as? String)
            #expect(message["publishTime"] as? String == message["publish_time"] as? String)
            #expect((message["attributes"] as? [String: Any])?.isEmpty == true)
            let data = try F.notification(try #require(message["data"] as? String))
            #expect(data["emailAddress"] as? String == F.alice)
            #expect(data["historyId"] as? Int == Int(historyId))
            #expect(received[0].body == received[1].body)
        }
    }
}

extension PubSubTests {
    /// `pushConfig.oidcToken`: each push carries an RS256 JWT from accounts.google.com for the service
    /// account and audience, verifiable with the JWK set at `/oauth2/v3/certs`, timed on the virtual clock.
    @Test func pushCarriesAnOIDCTokenVerifiableWithTheFakesJWKS() async throws {
        let (fake, token) = try await F.make()
        let sender = ScriptedSender(statuses: [])
        await fake.setPushSender(sender)
        let account = "push-invoker@fake-gmail-project.iam.gserviceaccount.com"
        let made = await fake.handle(
            Self.request(
                "PUT", "/v1/\(F.project)/subscriptions/crm-push",
                "{\"topic\": \"\(F.topic)\", \"pushConfig\": {\"pushEndpoint\": \"https://crm.example/api/email/push\", \"oidcToken\": {\"serviceAccountEmail\": \"\(account)\", \"audience\": \"crm-push\"}}}"
            ))
        #expect(made.status == 200)
        let config = try #require(try Self.object(made)["pushConfig"] as? [String: Any])
        #expect((config["oidcToken"] as? [String: String]) == ["serviceAccountEmail": account, "audience": "crm-push"])
        let missing = await fake.handle(
            Self.request(
                "PUT", "/v1/\(F.project)/subscriptions/no-account",
                "{\"topic\": \"\(F.topic)\", \"pushConfig\": {\"pushEndpoint\": \"https://crm.example/p\", \"oidcToken\": {}}}"))
        #expect(missing.status == 400)
        try await F.watch(fake, token: token)
        try await F.deliver(fake, 1)
        #expect(await fake.deliverPushes() == 1)
        let sent = try #require(await sender.requests().first)
        let bearer = try #require(sent.header("Authorization"))
        #expect(bearer.hasPrefix("Bearer "))
        let parts = bearer.dropFirst("Bearer ".count).split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let header = try #require(JSONSerialization.jsonObject(with: Data(Base64.decode(parts[0]))) as? [String: Any])
        let claims = try #require(JSONSerialization.jsonObject(with: Data(Base64.decode(parts[1]))) as? [String: Any])
        #expect(header["alg"] as? String == "RS256")
        #expect(claims["iss"] as? String == "https://accounts.google.com")
        #expect(claims["aud"] as? String == "crm-push")
        #expect(claims["email"] as? String == account)
        #expect(claims["email_verified"] as? Bool == true)
        let now = await fake.nowMillis() / 1000
        #expect(claims["iat"] as? Int == Int(now) && claims["exp"] as? Int == Int(now) + 3600)
        let jwks = try Self.object(await fake.handle(FakeRequest(method: "GET", target: "/oauth2/v3/certs")))
        let jwk = try #require((jwks["keys"] as? [[String: String]])?.first)
        #expect(jwk["kid"] == header["kid"] as? String)
        let key = try _RSA.Signing.PublicKey(n: Base64.decode(try #require(jwk["n"])), e: Base64.decode(try #require(jwk["e"])))
        let valid = key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: Base64.decode(parts[2])),
            for: SHA256.hash(data: Array("\(parts[0]).\(parts[1])".utf8)), padding: .insecurePKCS1v1_5)
        #expect(valid)
    }
}

/// A push sender that answers from a script (then 200), recording requests; no socket.
actor ScriptedSender: PushSender {
    private var statuses: [Int]
    private var sent: [PushRequest] = []

    init(statuses: [Int]) { self.statuses = statuses }

    func script(_ s: [Int]) { statuses = s }

    func requests() -> [PushRequest] { sent }

    func send(_ request: PushRequest) async throws -> Int {
        sent.append(request)
        return statuses.isEmpty ? 200 : statuses.removeFirst()
    }
}

/// A push endpoint on a real loopback socket (Hummingbird), answering from a script (then 200).
actor PushEndpoint {
    struct Received: Sendable {
        var target: String
        var contentType: String?
        var userAgent: String?
        var body: [UInt8]
    }

    private var statuses: [Int]
    private var got: [Received] = []

    init(statuses: [Int]) { self.statuses = statuses }

    func received() -> [Received] { got }

    func answer(_ r: Received) -> Int {
        got.append(r)
        return statuses.isEmpty ? 200 : statuses.removeFirst()
    }

    /// Serves on a free loopback port for the duration of `body` (which gets `http://127.0.0.1:PORT`).
    func serve(_ body: @Sendable (String) async throws -> Void) async throws {
        var logger = Logger(label: "push-endpoint")
        logger.logLevel = .critical
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let status = await self.answer(
                Received(
                    target: request.uri.description, contentType: request.headers[.contentType], userAgent: request.headers[.userAgent],
                    body: Array(bytes.readableBytesView)))
            return Response(status: .init(code: status))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? -1) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var it = ports.makeAsyncIterator()
            guard let port = await it.next() else { throw CancellationError() }
            do {
                try await body("http://127.0.0.1:\(port)")
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
