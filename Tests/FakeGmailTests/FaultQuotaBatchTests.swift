import FakeGmail
import Foundation
import MIMEKit
import Testing

@Suite struct FaultTests {
    static let user = RouteTests.alice

    @Test(arguments: Door.allCases)
    func statusFaultsWithRetryHintsThenExpire(door: Door) async throws {
        let (fake, msgs, token) = try await RouteTests.seeded()
        try await fake.addFault(FaultRule(method: "messages.get", status: 429, retryAfter: 7, retryAfterText: 30, count: 2))
        try await withFake(fake, door: door) { s in
            let first = try await s.get("/gmail/v1/users/me/messages/\(msgs[0].id)", token: token)
            #expect(first.status == 429)
            #expect(first.header("Retry-After") == "7")
            let e = try #require(try s.json(first)["error"] as? [String: Any])
            #expect(e["status"] as? String == "RESOURCE_EXHAUSTED")
            #expect((e["message"] as? String)?.contains("  Retry after 2024-03-05T17:02:30.000Z") == true)
            #expect(try await s.get("/gmail/v1/users/me/messages/\(msgs[0].id)", token: token).status == 429)
            #expect(try await s.get("/gmail/v1/users/me/messages/\(msgs[0].id)", token: token).status == 200)
            // Other methods were never affected.
            #expect(try await s.get("/gmail/v1/users/me/profile", token: token).status == 200)
        }
        let journal = await fake.journal()
        #expect(journal.filter { $0.fault != nil }.count == 2)
        // Faulted calls are not charged.
        let stats = await fake.stats()
        #expect(stats.requests["gmail.users.messages.get"] == 3)
    }

    /// A long-running server keeps only the newest requests; sequence numbers keep counting.
    @Test func theJournalKeepsTheNewestRequests() async throws {
        let fake = FakeGmail(options: .init(seed: 3, quota: .off, journalLimit: 10))
        await fake.addUser(Self.user)
        let auth = [("Authorization", "Bearer \(await fake.accessToken(for: Self.user))")]
        for _ in 0..<57 { _ = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/profile", headers: auth)) }
        let journal = await fake.journal()
        #expect(journal.map(\.seq) == Array(48...57))
        #expect(await fake.stats().requests["gmail.users.getProfile"] == 57)
    }

    @Test func nthCallUserPathRegexAndRateReasons() async throws {
        let (fake, msgs, token) = try await RouteTests.seeded()
        try await fake.addFault(FaultRule(pathRegex: "/history$", user: Self.user, nth: 2, status: 500))
        try await fake.addFault(FaultRule(method: "gmail.users.messages.list", status: 403, reason: "userRateLimitExceeded", count: 1))
        let auth = [("Authorization", "Bearer \(token)")]
        let start = try #require(await fake.currentHistoryId(user: Self.user))
        let h1 = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/history?startHistoryId=\(start)", headers: auth))
        let h2 = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/history?startHistoryId=\(start)", headers: auth))
        let h3 = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/history?startHistoryId=\(start)", headers: auth))
        let statuses: [Int] = [h1.status, h2.status, h3.status]
        #expect(statuses == [200, 500, 200])
        let l = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages", headers: auth))
        #expect(l.status == 403)
        let body = String(decoding: l.body, as: UTF8.self)
        #expect(body.contains("\"reason\": \"userRateLimitExceeded\"") && body.contains("\"domain\": \"usageLimits\""))
        _ = msgs
    }

    @Test func latencyAdvancesTheVirtualClock() async throws {
        let (fake, _, token) = try await RouteTests.seeded()
        let before = await fake.nowMillis()
        try await fake.addFault(FaultRule(method: "getProfile", latencyMs: 1500, count: 1))
        let r = await fake.handle(
            FakeRequest(method: "GET", target: "/gmail/v1/users/me/profile", headers: [("Authorization", "Bearer \(token)")]))
        #expect(r.status == 200)
        #expect(await fake.nowMillis() - before == 1500)
    }

    @Test func transportFaultsInProcess() async throws {
        let (fake, _, token) = try await RouteTests.seeded()
        let auth = [("Authorization", "Bearer \(token)")]
        try await fake.addFault(FaultRule(method: "getProfile", transport: .dropConnection, count: 1))
        try await fake.addFault(FaultRule(method: "labels.list", transport: .truncateBody, count: 1))
        try await fake.addFault(FaultRule(method: "threads.list", malformedBody: true, count: 1))
        #expect(
            await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/profile", headers: auth)).transportFault
                == .dropConnection)
        let t = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/labels", headers: auth))
        #expect(t.transportFault == .truncateBody && t.status == 200)
        let m = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/threads", headers: auth))
        #expect((try? JSONSerialization.jsonObject(with: Data(m.body))) == nil)
    }

    @Test func transportFaultsOverASocket() async throws {
        let (fake, _, token) = try await RouteTests.seeded()
        try await fake.addFault(FaultRule(method: "getProfile", transport: .dropConnection, count: 1))
        try await fake.addFault(FaultRule(method: "labels.list", transport: .truncateBody, count: 1))
        let outcomes: [Bool] = try await withFake(fake, door: .live) { s in
            var failed: [Bool] = []
            for path in ["/gmail/v1/users/me/profile", "/gmail/v1/users/me/labels", "/gmail/v1/users/me/profile"] {
                do {
                    let r = try await s.get(path, token: token)
                    // A truncated body may surface as a short body rather than an error, depending on timing.
                    failed.append(r.status != 200 || (try? JSONSerialization.jsonObject(with: Data(r.body))) == nil)
                } catch {
                    failed.append(true)
                }
            }
            return failed
        }
        #expect(outcomes == [true, true, false])
    }

    @Test func probabilisticFaultsAreReproducibleWithTheSeed() async throws {
        func run() async throws -> [Int] {
            let (fake, msgs, token) = try await RouteTests.seeded()
            try await fake.addFault(FaultRule(method: "messages.get", probability: 0.3, status: 503))
            var statuses: [Int] = []
            for _ in 0..<40 {
                statuses.append(
                    await fake.handle(
                        FakeRequest(
                            method: "GET", target: "/gmail/v1/users/me/messages/\(msgs[0].id)?format=minimal",
                            headers: [("Authorization", "Bearer \(token)")])
                    ).status)
            }
            return statuses
        }
        let a = try await run(), b = try await run()
        #expect(a == b)
        #expect(a.contains(503) && a.contains(200))
    }
}

@Suite struct QuotaTests {
    @Test func perUserBudgetAnswers429WithRetryAfterText() async throws {
        var q = QuotaConfig.classic
        q.perUserPerMinute = 60  // 1 unit per virtual second, bucket of 60
        let (fake, msgs, token) = try await RouteTests.seeded(quota: q)
        let auth = [("Authorization", "Bearer \(token)")]
        var statuses: [Int] = []
        for _ in 0..<13 {  // 13 x 5 units > 60
            statuses.append(
                await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages/\(msgs[0].id)", headers: auth)).status)
        }
        #expect(statuses.prefix(12).allSatisfy { $0 == 200 })
        #expect(statuses.last == 429)
        let r = await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages/\(msgs[0].id)", headers: auth))
        #expect(String(decoding: r.body, as: UTF8.self).contains("User-rate limit exceeded.  Retry after 2024-03-05T17:02:05.000Z"))
        await fake.advanceClock(seconds: 5)
        #expect(
            await fake.handle(FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages/\(msgs[0].id)", headers: auth)).status == 200)
        let stats = await fake.stats()
        #expect(stats.quotaUnits[RouteTests.alice.lowercased()] == 13 * 5)
        #expect(stats.rateLimited[RouteTests.alice.lowercased()] == 2)
    }

    @Test func table2026ChargesTwentyForAGet() async throws {
        let (fake, msgs, token) = try await RouteTests.seeded(quota: .table2026)
        _ = await fake.handle(
            FakeRequest(method: "GET", target: "/gmail/v1/users/me/messages/\(msgs[0].id)", headers: [("Authorization", "Bearer \(token)")])
        )
        _ = await fake.handle(
            FakeRequest(method: "GET", target: "/gmail/v1/users/me/profile", headers: [("Authorization", "Bearer \(token)")]))
        #expect(await fake.stats().quotaUnits[RouteTests.alice.lowercased()] == 21)
    }
}

@Suite struct BatchTests {
    static func batchBody(_ parts: [(id: String, target: String)], boundary: String = "batch_foobarbaz") -> [UInt8] {
        var s = ""
        for p in parts {
            s += "--\(boundary)\r\nContent-Type: application/http\r\nContent-ID: <\(p.id)>\r\n\r\nGET \(p.target) HTTP/1.1\r\n\r\n"
        }
        s += "--\(boundary)--\r\n"
        return Array(s.utf8)
    }

    /// Parses a batch response into (Content-ID, status, JSON body).
    static func parse(_ r: FakeResponse) throws -> [(String?, Int, [String: Any])] {
        let ct = try #require(r.header("Content-Type"))
        let mime = MIMEMessage.parse(Array("Content-Type: \(ct)\r\n\r\n".utf8) + r.body)
        return try mime.root.children.map { part in
            let http = Array(mime.rawBody(part))
            let text = String(decoding: http, as: UTF8.self)
            let statusLine = text.split(separator: "\r\n").first ?? ""
            let status = Int(statusLine.split(separator: " ")[1]) ?? 0
            let bodyStart = try #require(text.range(of: "\r\n\r\n"))
            let json = try JSONSerialization.jsonObject(with: Data(text[bodyStart.upperBound...].utf8)) as? [String: Any] ?? [:]
            return (part.headers["Content-ID"], status, json)
        }
    }

    @Test(arguments: Door.allCases)
    func partsAreDispatchedChargedAndEchoed(door: Door) async throws {
        let (fake, msgs, token) = try await RouteTests.seeded(quota: .classic)
        try await fake.addFault(FaultRule(method: "messages.get", batchPart: 2, status: 503, count: 1))
        try await withFake(fake, door: door) { s in
            let parts = [
                ("item1", "/gmail/v1/users/me/messages/\(msgs[0].id)?format=minimal"),
                ("item2", "/gmail/v1/users/me/messages/zzzz"),
                ("item3", "/gmail/v1/users/me/messages/\(msgs[1].id)?format=minimal"),
                ("a3e1 + 4", "/gmail/v1/users/me/messages/\(msgs[2].id)?format=minimal"),
            ]
            let r = try await s.post(
                "/batch/gmail/v1", body: Self.batchBody(parts), contentType: "multipart/mixed; boundary=batch_foobarbaz", token: token)
            #expect(r.status == 200)
            let answers = try Self.parse(r)
            #expect(answers.map(\.0) == ["<response-item1>", "<response-item2>", "<response-item3>", "<response-a3e1 + 4>"])
            #expect(answers.map(\.1) == [200, 400, 503, 200])
            #expect(answers[0].2["id"] as? String == msgs[0].id)
            let alt = try await s.post(
                "/batch", body: Self.batchBody([("x", "/gmail/v1/users/me/profile")]),
                contentType: "multipart/mixed; boundary=batch_foobarbaz", token: token)
            #expect(try Self.parse(alt).first?.1 == 200)
        }
        let stats = await fake.stats()
        #expect(stats.requests["batch"] == 2)
        // Three gets reached Gmail (5 units each, the invalid id included) plus one profile (1); the part
        // answered by a scripted fault was not charged.
        #expect(stats.quotaUnits[RouteTests.alice.lowercased()] == 16)
    }

    @Test func moreThanAHundredPartsIsA400() async throws {
        let (fake, msgs, token) = try await RouteTests.seeded()
        let parts = (0..<101).map { ("i\($0)", "/gmail/v1/users/me/messages/\(msgs[0].id)") }
        let r = await fake.handle(
            FakeRequest(
                method: "POST", target: "/batch/gmail/v1",
                headers: [("Content-Type", "multipart/mixed; boundary=batch_foobarbaz"), ("Authorization", "Bearer \(token)")],
                body: Self.batchBody(parts)))
        #expect(r.status == 400)
        #expect(String(decoding: r.body, as: UTF8.self).contains("Inner request count exceeds the limit. Received: 101, Limit: 100"))
    }

    @Test func concurrencyCapInsideOneBatch() async throws {
        var q = QuotaConfig.classic
        q.concurrentPerUser = 3
        let (fake, msgs, token) = try await RouteTests.seeded(quota: q)
        let parts = (0..<5).map { ("i\($0)", "/gmail/v1/users/me/messages/\(msgs[0].id)?format=minimal") }
        let r = await fake.handle(
            FakeRequest(
                method: "POST", target: "/batch/gmail/v1",
                headers: [("Content-Type", "multipart/mixed; boundary=batch_foobarbaz"), ("Authorization", "Bearer \(token)")],
                body: Self.batchBody(parts)))
        let statuses = try Self.parse(r).map(\.1)
        #expect(statuses == [200, 200, 200, 429, 429])
    }
}

@Suite struct ControlPlaneTests {
    @Test(arguments: Door.allCases)
    func controlRoutesMirrorTheSwiftMethods(door: Door) async throws {
        let fake = FakeGmail(options: .init(seed: 9))
        try await withFake(fake, door: door) { s in
            #expect(
                try await s.post("/__fake/users", body: Array(#"{"email": "bob@firm.example"}"#.utf8), contentType: "application/json")
                    .status == 200)
            let inserted = try await s.post(
                "/__fake/users/bob@firm.example/messages?labelIds=INBOX,STARRED&internalDate=1709658000000",
                body: eml(subject: "Hi", messageID: "x@y"), contentType: "message/rfc822")
            let m = try s.json(inserted)
            let id = try #require(m["id"] as? String)
            #expect(m["threadId"] as? String == id)
            #expect(m["historyId"] is String)
            #expect(await fake.messageIDs(user: "bob@firm.example") == [id])
            #expect(
                try await s.post(
                    "/__fake/users/bob@firm.example/messages/\(id)/labels",
                    body: Array(#"{"add": ["Investors"], "remove": ["STARRED"]}"#.utf8),
                    contentType: "application/json"
                ).status == 200)
            #expect(
                try await s.post("/__fake/users/bob@firm.example/history/expire", body: [], contentType: "application/json").status == 200)
            #expect(
                try await s.post(
                    "/__fake/faults", body: Array(#"{"method": "messages.get", "status": 503, "count": 1}"#.utf8),
                    contentType: "application/json"
                ).status == 200)
            #expect(
                try await s.post(
                    "/__fake/faults", body: Array(#"{"pathRegex": "(unclosed", "status": 503}"#.utf8),
                    contentType: "application/json"
                ).status == 400)
            let token = try #require(
                try s.json(try await s.post("/__fake/users/bob@firm.example/token", body: [], contentType: "application/json"))[
                    "access_token"] as? String)
            #expect(try await s.get("/gmail/v1/users/me/messages/\(id)", token: token).status == 503)
            #expect(try await s.get("/gmail/v1/users/me/messages/\(id)", token: token).status == 200)
            let clock = try s.json(
                try await s.post("/__fake/clock/advance", body: Array(#"{"seconds": 90}"#.utf8), contentType: "application/json"))
            #expect(clock["nowMillis"] as? Int64 == 1_709_658_090_000 || (clock["nowMillis"] as? Int) == 1_709_658_090_000)
            let stats = try s.json(try await s.get("/__fake/stats"))
            #expect((stats["requests"] as? [String: Int])?["gmail.users.messages.get"] == 2)
            #expect((stats["quotaUnits"] as? [String: Int])?["bob@firm.example"] == 5)
            #expect(try await s.send(FakeRequest(method: "DELETE", target: "/__fake/users/bob@firm.example/messages/\(id)")).status == 200)
            #expect(try await s.send(FakeRequest(method: "DELETE", target: "/__fake/faults")).status == 200)
            #expect(try await s.post("/__fake/reset", body: [], contentType: "application/json").status == 200)
            #expect(await fake.users().isEmpty)
            #expect(try await s.get("/__fake/nope").status == 404)
        }
    }
}
