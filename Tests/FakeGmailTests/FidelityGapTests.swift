import AsyncHTTPClient
import FakeGmail
import Foundation
import Testing

/// Scripted faults on the batch envelope and on the token endpoint themselves (not only on Gmail calls
/// and batch parts).
@Suite struct EnvelopeFaultTests {
    static let contentType = "multipart/mixed; boundary=batch_foobarbaz"

    @Test(arguments: Door.allCases)
    func faultsOnTheBatchEnvelopeAnswerTheWholeBatch(door: Door) async throws {
        let (fake, msgs, token) = try await RouteTests.seeded()
        try await fake.addFault(FaultRule(method: "POST", pathRegex: "^/batch(/gmail/v1)?$", status: 503, retryAfter: 9, count: 1))
        try await fake.addFault(FaultRule(method: "batch", status: 429, retryAfterText: 30, count: 1))
        // Parts keep matching as before.
        try await fake.addFault(FaultRule(method: "messages.get", batchPart: 1, status: 500, count: 1))
        let parts = [
            ("p0", "/gmail/v1/users/me/messages/\(msgs[0].id)?format=minimal"),
            ("p1", "/gmail/v1/users/me/messages/\(msgs[1].id)?format=minimal"),
        ]
        try await withFake(fake, door: door) { s in
            let first = try await s.post("/batch/gmail/v1", body: BatchTests.batchBody(parts), contentType: Self.contentType, token: token)
            #expect(first.status == 503)
            #expect(first.header("Retry-After") == "9")
            #expect(first.header("Content-Type")?.hasPrefix("application/json") == true)
            let e1 = try #require(try s.json(first)["error"] as? [String: Any])
            #expect(e1["code"] as? Int == 503)
            #expect(e1["status"] as? String == "UNAVAILABLE")
            #expect((e1["errors"] as? [[String: Any]])?.first?["reason"] as? String == "backendError")

            let second = try await s.post("/batch", body: BatchTests.batchBody(parts), contentType: Self.contentType, token: token)
            #expect(second.status == 429)
            let e2 = try #require(try s.json(second)["error"] as? [String: Any])
            #expect(e2["status"] as? String == "RESOURCE_EXHAUSTED")
            #expect((e2["message"] as? String)?.contains("  Retry after 2024-03-05T17:02:30.000Z") == true)

            let third = try await s.post("/batch/gmail/v1", body: BatchTests.batchBody(parts), contentType: Self.contentType, token: token)
            #expect(third.status == 200)
            #expect(try BatchTests.parse(third).map(\.1) == [200, 500])
        }
        let journal = await fake.journal()
        #expect(journal.filter { $0.method == "batch" }.map(\.status) == [503, 429, 200])
        #expect(journal.filter { $0.method == "batch" && $0.fault != nil }.count == 2)
        let stats = await fake.stats()
        #expect(stats.requests["batch"] == 3)
        // The faulted envelopes never reached their parts.
        #expect(stats.requests["gmail.users.messages.get"] == 2)
    }

    @Test func envelopeLatencyTransportAndMalformedBodies() async throws {
        let (fake, msgs, token) = try await RouteTests.seeded()
        let request = FakeRequest(
            method: "POST", target: "/batch/gmail/v1",
            headers: [("Content-Type", Self.contentType), ("Authorization", "Bearer \(token)")],
            body: BatchTests.batchBody([("p0", "/gmail/v1/users/me/messages/\(msgs[0].id)?format=minimal")]))
        try await fake.addFault(FaultRule(method: "batch", latencyMs: 2500, count: 1))
        try await fake.addFault(FaultRule(method: "batch", transport: .dropConnection, count: 1))
        try await fake.addFault(FaultRule(method: "batch", malformedBody: true, count: 1))
        let before = await fake.nowMillis()
        let slow = await fake.handle(request)
        #expect(slow.status == 200)
        #expect(try BatchTests.parse(slow).map(\.1) == [200])
        #expect(await fake.nowMillis() - before == 2500)
        #expect(await fake.handle(request).transportFault == .dropConnection)
        let garbled = await fake.handle(request)
        #expect(String(decoding: garbled.body, as: UTF8.self).hasSuffix("\u{0}garbage"))
        #expect(try BatchTests.parse(await fake.handle(request)).map(\.1) == [200])
    }

    @Test(arguments: Door.allCases)
    func faultsOnTheTokenEndpoint(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 3))
        await fake.addUser(OAuthTests.user)
        try await fake.addFault(FaultRule(method: "POST", pathRegex: "^/token$", status: 503, retryAfter: 5, count: 1))
        try await fake.addFault(FaultRule(method: "oauth2.token", status: 429, reason: "rate_limit_exceeded", retryAfterText: 60, count: 1))
        try await fake.addFault(FaultRule(method: "oauth2.token", latencyMs: 2000, count: 1))
        try await withFake(fake, door: door) { s in
            // Read inside the door: a live server's key file names its own token URL (the JWT's aud).
            let key = try JSONDecoder().decode(OAuthTests.Key.self, from: try await fake.serviceAccountKeyJSON())
            func token() async throws -> FakeResponse {
                let now = Int(await fake.nowMillis() / 1000)
                let jwt = try OAuthTests.assertion(key, sub: OAuthTests.user, iat: now)
                return try await s.post(
                    "/token", body: OAuthTests.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", jwt)]),
                    contentType: "application/x-www-form-urlencoded")
            }
            let unavailable = try await token()
            #expect(unavailable.status == 503)
            #expect(unavailable.header("Retry-After") == "5")
            let b1 = try s.json(unavailable)
            #expect(b1["error"] as? String == "internal_failure")
            #expect(b1["error_description"] is String)

            let limited = try await token()
            #expect(limited.status == 429)
            let b2 = try s.json(limited)
            #expect(b2["error"] as? String == "rate_limit_exceeded")
            #expect((b2["error_description"] as? String)?.contains("  Retry after 2024-01-01T00:01:00.000Z") == true)

            // A latency-only rule delays the grant; it does not fail it.
            let before = await fake.nowMillis()
            let slow = try await token()
            #expect(slow.status == 200)
            #expect(try s.json(slow)["access_token"] is String)
            #expect(await fake.nowMillis() - before == 2000)
        }
        let journal = await fake.journal().filter { $0.method == "oauth2.token" }
        #expect(journal.map(\.status) == [503, 429, 200])
        #expect(journal.allSatisfy { $0.fault != nil })
    }
}

/// The request target: only what comes before `?` is the path, whatever the query holds.
@Suite struct RequestTargetTests {
    static let user = "alice@firm.example"
    static let scope = "https://www.googleapis.com/auth/gmail.readonly"

    static func consentFake() async -> FakeGmail {
        let fake = FakeGmail(options: .init(seed: 11))
        await fake.addUser(user)
        await fake.registerOAuthClient(id: "x", secret: "s3cret")
        return fake
    }

    @Test func aQueryValueHoldingAURIDoesNotMakeTheTargetAbsolute() {
        let r = FakeRequest(method: "GET", target: "/o/oauth2/v2/auth?client_id=x&redirect_uri=http://127.0.0.1:9/cb&state=s")
        #expect(r.path == "/o/oauth2/v2/auth")
        #expect(r.queryValue("redirect_uri") == "http://127.0.0.1:9/cb")
        #expect(r.queryValue("state") == "s")
        // Absolute-form targets still work, with or without a path.
        let a = FakeRequest(method: "GET", target: "http://127.0.0.1:9/gmail/v1/users/me/profile?next=http://h/x")
        #expect(a.path == "/gmail/v1/users/me/profile")
        #expect(a.queryValue("next") == "http://h/x")
        #expect(FakeRequest(method: "GET", target: "http://127.0.0.1:9?a=b").path == "/")
    }

    @Test func unencodedRedirectURIOverARawSocket() async throws {
        let fake = await Self.consentFake()
        let encoded =
            "/o/oauth2/v2/auth?client_id=x&redirect_uri=\(pct("http://127.0.0.1:9/cb"))&response_type=code&scope=\(pct(Self.scope))&state=s"
        let unencoded = "/o/oauth2/v2/auth?client_id=x&redirect_uri=http://127.0.0.1:9/cb&response_type=code&scope=\(Self.scope)&state=s"
        let answers = try await withLiveFake(fake) { base in
            [try await RawHTTP.exchange(base, target: encoded), try await RawHTTP.exchange(base, target: unencoded)]
        }
        for answer in answers {
            #expect(answer.status == 302)
            let location = try #require(answer.header("Location"))
            #expect(location.hasPrefix("http://127.0.0.1:9/cb?code="))
            let items = URLComponents(string: location)?.queryItems ?? []
            #expect(items.first { $0.name == "state" }?.value == "s")
            #expect(items.first { $0.name == "code" }?.value?.isEmpty == false)
        }
        #expect(await fake.journal().filter { $0.method == "oauth2.auth" }.map(\.path) == ["/o/oauth2/v2/auth", "/o/oauth2/v2/auth"])
    }

    /// The consent URL as the capture library builds it (Foundation's URLComponents leaves `:` `/` `@` in
    /// query values unencoded), sent as is over a socket; the redirect is not followed.
    @Test func consentURLBuiltWithURLComponentsRoundTrips() async throws {
        let fake = await Self.consentFake()
        let redirect = "http://127.0.0.1:9/api/email/oauth/callback"
        let state = "dXNlci0xfDE3MDk2NTgwMDB8YWJj.SGVsbG8tV29ybGRf_x-y"
        let locations: [String] = try await withLiveFake(fake) { base in
            var c = try #require(URLComponents(string: base + "/o/oauth2/v2/auth"))
            c.queryItems = [
                URLQueryItem(name: "client_id", value: "x"), URLQueryItem(name: "redirect_uri", value: redirect),
                URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "scope", value: Self.scope),
                URLQueryItem(name: "access_type", value: "offline"), URLQueryItem(name: "prompt", value: "consent"),
                URLQueryItem(name: "state", value: state), URLQueryItem(name: "login_hint", value: Self.user),
            ]
            let url = try #require(c.string)
            // Exactly the bytes URLComponents produced, on the request line.
            let raw = try await RawHTTP.exchange(base, target: c.percentEncodedPath + "?" + (c.percentEncodedQuery ?? ""))
            #expect(raw.status == 302)
            // And through an HTTP client that never follows redirects.
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            do {
                let resp = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                _ = try await resp.body.collect(upTo: 1 << 20)
                try await client.shutdown()
                #expect(resp.status.code == 302)
                return [raw.header("Location"), resp.headers.first(name: "Location")].compactMap { $0 }
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        #expect(locations.count == 2)
        for location in locations {
            let back = try #require(URLComponents(string: location))
            #expect(back.scheme == "http" && back.host == "127.0.0.1" && back.port == 9 && back.path == "/api/email/oauth/callback")
            let items = back.queryItems ?? []
            #expect(items.first { $0.name == "state" }?.value == state)
            let code = try #require(items.first { $0.name == "code" }?.value)
            // The code is good at the token endpoint for this redirect_uri.
            let exchange = await fake.handle(
                FakeRequest(
                    method: "POST", target: "/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                    body: OAuthTests.form([
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect),
                        ("client_id", "x"), ("client_secret", "s3cret"),
                    ])))
            #expect(exchange.status == 200)
        }
        #expect(await fake.journal().filter { $0.method == "oauth2.auth" }.map(\.user) == [Self.user, Self.user])
    }
}

/// JWT-bearer assertions are checked against the fake's virtual clock.
@Suite struct AssertionExpiryTests {
    @Test(arguments: Door.allCases)
    func anExpiredAssertionIsInvalidGrant(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 5))
        await fake.addUser(OAuthTests.user)
        try await withFake(fake, door: door) { s in
            let key = try JSONDecoder().decode(OAuthTests.Key.self, from: try await fake.serviceAccountKeyJSON())
            func post(_ jwt: String) async throws -> FakeResponse {
                try await s.post(
                    "/token", body: OAuthTests.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", jwt)]),
                    contentType: "application/x-www-form-urlencoded")
            }
            let iat = Int(await fake.nowMillis() / 1000)
            let signed = try OAuthTests.assertion(key, sub: OAuthTests.user, iat: iat, lifetime: 600)
            await fake.advanceClock(seconds: 601)
            let expired = try await post(signed)
            #expect(expired.status == 400)
            let body = try s.json(expired)
            #expect(body["error"] as? String == "invalid_grant")
            #expect(
                body["error_description"] as? String
                    == "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
            )
            // Expiry is exclusive: at exactly exp the assertion is already dead.
            let edge = try OAuthTests.assertion(key, sub: OAuthTests.user, iat: iat + 1, lifetime: 600)
            #expect(try await post(edge).status == 400)

            let fresh = try OAuthTests.assertion(key, sub: OAuthTests.user, iat: Int(await fake.nowMillis() / 1000))
            let ok = try await post(fresh)
            #expect(ok.status == 200)
            #expect(try s.json(ok)["access_token"] is String)
        }
    }
}

/// `labelIds` on control-plane inserts: comma-separated, repeated, or both.
@Suite struct InsertLabelIdsTests {
    @Test(arguments: Door.allCases)
    func repeatedAndCommaSeparatedLabelIds(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 9))
        let user = "bob@firm.example"
        await fake.addUser(user)
        let ids: [String] = try await withFake(fake, door: door) { s in
            var ids: [String] = []
            for (n, query) in [
                "labelIds=INBOX,STARRED", "labelIds=INBOX&labelIds=STARRED", "labelIds=INBOX,IMPORTANT&labelIds=STARRED", "",
            ].enumerated() {
                let target =
                    "/__fake/users/\(user)/messages?" + query + (query.isEmpty ? "" : "&") + "internalDate=\(1_709_658_000_000 + n * 1000)"
                let r = try await s.post(target, body: eml(subject: "m\(n)", messageID: "m\(n)@x"), contentType: "message/rfc822")
                #expect(r.status == 200)
                ids.append(try #require(try s.json(r)["id"] as? String))
            }
            return ids
        }
        let labels = await fake.messageLabels(user: user)
        #expect(Set(labels[ids[0]] ?? []) == ["INBOX", "STARRED"])
        #expect(Set(labels[ids[1]] ?? []) == ["INBOX", "STARRED"])
        #expect(Set(labels[ids[2]] ?? []) == ["INBOX", "IMPORTANT", "STARRED"])
        #expect(Set(labels[ids[3]] ?? []) == ["INBOX", "UNREAD"])
    }

    /// The same over a raw socket, with the repeated parameters exactly as written.
    @Test func repeatedLabelIdsOverARawSocket() async throws {
        let fake = FakeGmail(options: .init(seed: 9))
        let user = "bob@firm.example"
        await fake.addUser(user)
        let answer = try await withLiveFake(fake) { base in
            try await RawHTTP.exchange(
                base, method: "POST", target: "/__fake/users/\(user)/messages?labelIds=INBOX,IMPORTANT&labelIds=STARRED&labelIds=UNREAD",
                headers: [("Content-Type", "message/rfc822")], body: eml(subject: "raw", messageID: "raw@x"))
        }
        #expect(answer.status == 200)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["id"] as? String)
        #expect(Set(await fake.messageLabels(user: user)[id] ?? []) == ["INBOX", "IMPORTANT", "STARRED", "UNREAD"])
    }
}
