import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /api/email/push`: the shared secret, the OIDC token (the fake's Pub/Sub issues real RS256
/// tokens; its JWK set is fetched from the fake), malformed envelopes and unknown mailboxes.
@Suite struct PushRouteTests {
    static let pushSA = "crm-push@fake-gmail-project.iam.gserviceaccount.com"
    static let audience = "https://crm.firm.example/api/email/push"

    /// A harness in push mode with OIDC configured too, and one push request the fake's Pub/Sub made
    /// (its OIDC token for `sa`/`aud`).
    static func oidcRequest(sa: String = pushSA, aud: String = audience) async throws -> (PushHarness, PushRequest) {
        let fake = try await PushHarness.fake(initial: 1)
        let body =
            #"{"topic": "\#(PushHarness.topic)", "pushConfig": {"pushEndpoint": "http://crm.test/api/email/push", "oidcToken": {"serviceAccountEmail": "\#(sa)", "audience": "\#(aud)"}}}"#
        let created = await fake.handle(
            FakeRequest(method: "PUT", target: "http://fake.test/v1/\(PushHarness.pushSubscription)", headers: [], body: Array(body.utf8)))
        #expect(created.status == 200)
        var h = try await PushHarness.make(fake, mode: .push)
        var config = h.runtime.config
        config.pushOIDCAudience = audience
        config.pushOIDCEmail = pushSA
        config.pushOIDCCertsURL = "http://fake.test/oauth2/v3/certs"
        let runtime = try CaptureRuntime.build(
            config, database: h.db, transport: InProcessFakeTransport(fake: fake),
            tokens: try ServiceAccountTokenProvider(
                keyJSON: try await fake.serviceAccountKeyJSON(), transport: InProcessFakeTransport(fake: fake), clock: h.runtime.clock),
            clock: h.runtime.clock)
        h = PushHarness(
            fake: fake, runtime: runtime, scheduler: h.scheduler, schedulerClock: h.schedulerClock,
            routes: runtime.pushRoutes(runNow: { [s = h.scheduler] in s.runNow($0) }), push: h.push)
        #expect(await h.push.renewDue()[PushHarness.alice] != nil)
        let sender = CapturingPushSender()
        await fake.setPushSender(sender)
        try await fake.insertMessage(user: PushHarness.alice, raw: PushHarness.mail(50))
        await fake.deliverPushes()
        let request = try #require(await sender.requests.first)
        return (h, request)
    }

    static func envelope(_ email: String, _ historyId: Int) -> [UInt8] {
        let data = Data(#"{"emailAddress":"\#(email)","historyId":\#(historyId)}"#.utf8).base64EncodedString()
        return Array(#"{"message":{"data":"\#(data)","messageId":"1","message_id":"1"},"subscription":"s"}"#.utf8)
    }

    @Test func sharedSecret() async throws {
        let h = try await PushHarness.make(try await PushHarness.fake(initial: 0), mode: .push)
        let body = Self.envelope(PushHarness.alice, 999)
        #expect(await h.routes.answer(token: PushHarness.secret, authorization: nil, body: body).status == .noContent)
        #expect(await h.routes.answer(token: PushHarness.secret + "x", authorization: nil, body: body).status == .forbidden)
        #expect(await h.routes.answer(token: "", authorization: nil, body: body).status == .forbidden)
        #expect(await h.routes.answer(token: nil, authorization: nil, body: body).status == .unauthorized)
        // Only the verified request was recorded.
        #expect(try await h.db.pushStates().first?.notificationsReceived == 1)
    }

    @Test func malformedUnknownAndNotGmail() async throws {
        let h = try await PushHarness.make(try await PushHarness.fake(initial: 0), mode: .push)
        let s = PushHarness.secret
        for bad in ["", "{", #"{"subscription":"s"}"#, #"{"message":{"data":"***"}}"#] {
            let r = await h.routes.answer(token: s, authorization: nil, body: Array(bad.utf8))
            #expect(r.status == .badRequest)
        }
        // Never enrolled: acknowledged, nothing recorded, nothing revealed.
        let unknown = await h.routes.answer(token: s, authorization: nil, body: Self.envelope("nobody@firm.example", 5))
        #expect(unknown.status == .noContent)
        // Data that is not a Gmail notification can never succeed: acknowledged.
        let other = Data(#"{"kind":"test"}"#.utf8).base64EncodedString()
        let notGmail = await h.routes.answer(token: s, authorization: nil, body: Array(#"{"message":{"data":"\#(other)"}}"#.utf8))
        #expect(notGmail.status == .noContent)
        #expect(try await h.db.pushStates().allSatisfy { $0.notificationsReceived == 0 })
    }

    @Test func notMountedModesAndDisabled() async throws {
        let fake = try await PushHarness.fake(initial: 0)
        let pull = try await PushHarness.make(fake, mode: .pull)
        #expect(
            await pull.routes.answer(token: PushHarness.secret, authorization: nil, body: Self.envelope(PushHarness.alice, 1)).status
                == .notFound)
        var off = CaptureConfig()
        off.integrationEnabled = false
        let disabled = try CaptureRuntime.build(off, database: try CaptureDatabase(inMemory: nil)).pushRoutes(runNow: { _ in })
        #expect(await disabled.answer(token: nil, authorization: nil, body: []).status == .serviceUnavailable)
    }

    @Test func oidcTokenFromPubSubVerifies() async throws {
        let (h, request) = try await Self.oidcRequest()
        let auth = try #require(request.header("Authorization"))
        #expect(auth.hasPrefix("Bearer "))
        #expect(await h.routes.answer(token: nil, authorization: auth, body: request.body).status == .noContent)
        #expect(await h.routes.answer(token: nil, authorization: auth, body: request.body).status == .noContent)
        // The JWK set was fetched once and cached.
        #expect(await h.fake.journal().filter { $0.path == "/oauth2/v3/certs" }.count <= 1)
        // Tampered signature.
        var parts = auth.dropFirst("Bearer ".count).split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        let tampered = "Bearer " + parts.joined(separator: ".")
        #expect(await h.routes.answer(token: nil, authorization: tampered, body: request.body).status == .forbidden)
        // Claims changed without re-signing.
        var claims = try #require(
            try JSONSerialization.jsonObject(with: Data(base64URL: String(auth.dropFirst(7).split(separator: ".")[1]))) as? [String: Any])
        claims["aud"] = Self.audience
        claims["email"] = "attacker@evil.example"
        let forged = try JSONSerialization.data(withJSONObject: claims).base64URL
        let pieces = auth.dropFirst(7).split(separator: ".")
        #expect(
            await h.routes.answer(token: nil, authorization: "Bearer \(pieces[0]).\(forged).\(pieces[2])", body: request.body).status
                == .forbidden)
        #expect(await h.routes.answer(token: nil, authorization: "Basic abc", body: request.body).status == .forbidden)
        // Expired on the injected clock (the token lives an hour; a minute's leeway).
        try await h.runtime.clock.sleep(for: .seconds(2 * 3600))
        #expect(await h.routes.answer(token: nil, authorization: auth, body: request.body).status == .forbidden)
    }

    @Test func oidcWrongAudienceOrServiceAccount() async throws {
        let (a, wrongAud) = try await Self.oidcRequest(aud: "https://elsewhere.example/push")
        #expect(
            await a.routes.answer(token: nil, authorization: wrongAud.header("Authorization"), body: wrongAud.body).status == .forbidden)
        let (b, wrongSA) = try await Self.oidcRequest(sa: "someone-else@fake-gmail-project.iam.gserviceaccount.com")
        #expect(await b.routes.answer(token: nil, authorization: wrongSA.header("Authorization"), body: wrongSA.body).status == .forbidden)
        // The shared secret still works beside OIDC.
        #expect(await b.routes.answer(token: PushHarness.secret, authorization: nil, body: wrongSA.body).status == .noContent)
    }

    @Test func theRouteIsMountedUnderApiEmailWithoutBearerTokens() async throws {
        let h = try await PushHarness.make(try await PushHarness.fake(initial: 0), mode: .push)
        let router = Router()
        router.addRoutes(h.runtime.routes(runNow: { _ in }).collection(), atPath: "/api/email")
        router.addRoutes(h.routes.collection(), atPath: "/api/email")
        let app = Application(router: router)
        try await app.test(.router) { client in
            let body = ByteBuffer(bytes: Self.envelope(PushHarness.alice, 7))
            try await client.execute(uri: "/api/email/push?token=\(PushHarness.secret)", method: .post, body: body) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "/api/email/push", method: .post, body: body) { #expect($0.status == .unauthorized) }
            // status gains push; the existing keys stay.
            try await client.execute(uri: "/api/email/status", method: .get) { #expect($0.status == .unauthorized) }
        }
        let report = try await h.db.statusReport(pushMode: .push)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: e.encode(report)) as? [[String: Any]])
        let row = try #require(json.first)
        #expect(row["email"] as? String == PushHarness.alice && row["messagesStored"] != nil && row["attachmentsPending"] != nil)
        let push = try #require(row["push"] as? [String: Any])
        #expect(push["mode"] as? String == "push" && push["notificationsReceived"] as? Int == 1)
        #expect(push["lastNotificationAt"] is String && push["watchExpiresAt"] is NSNull)
    }
}

extension Data {
    init(base64URL s: String) {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        self = Data(base64Encoded: t) ?? Data()
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
