import FakeGmail
import Foundation
import MIMEKit
import Testing

/// Gmail routes through both front doors (in-process and a live loopback socket).
@Suite struct RouteTests {
    static let alice = "alice@firm.example"

    /// A fake with Alice's mailbox: three messages (one reply in the first one's thread, one with a PDF).
    static func seeded(quota: QuotaConfig = .off) async throws -> (FakeGmail, [FakeGmail.InsertedMessage], String) {
        let fake = FakeGmail(options: .init(seed: 42, quota: quota))
        await fake.addUser(alice)
        let base: Int64 = 1_709_658_000_000
        let a = try await fake.insertMessage(
            user: alice, raw: eml(subject: "Series A term sheet", messageID: "a@lumen"),
            labelIds: ["INBOX", "UNREAD"], internalDate: base)
        let b = try await fake.insertMessage(
            user: alice,
            raw: eml(
                from: "Alex <alice@firm.example>", to: "maya@lumenridge.example.com",
                subject: "Re: Series A term sheet", messageID: "b@firm", inReplyTo: "a@lumen"),
            labelIds: ["SENT"], internalDate: base + 60_000)
        let c = try await fake.insertMessage(
            user: alice,
            raw: eml(
                from: "IR <ir@quill.example>", subject: "Quarterly letter", messageID: "c@quill",
                attachment: ("letter.pdf", Array(repeating: 0x25, count: 3000))),
            labelIds: ["INBOX", "CATEGORY_UPDATES"], internalDate: base + 120_000)
        return (fake, [a, b, c], await fake.accessToken(for: alice))
    }

    @Test(arguments: Door.allCases)
    func profileAndListShapes(door: Door) async throws {
        let (fake, msgs, token) = try await Self.seeded()
        try await withFake(fake, door: door) { s in
            let profile = try s.json(try await s.get("/gmail/v1/users/me/profile", token: token))
            #expect(profile["emailAddress"] as? String == Self.alice)
            #expect(profile["messagesTotal"] as? Int == 3)
            #expect(profile["threadsTotal"] as? Int == 2)
            #expect(profile["historyId"] is String)

            let list = try s.json(try await s.get("/gmail/v1/users/me/messages?maxResults=2", token: token))
            let ids = (list["messages"] as? [[String: String]])?.map { $0["id"]! }
            #expect(ids == [msgs[2].id, msgs[1].id])  // newest first
            let next = try #require(list["nextPageToken"] as? String)
            let page2 = try s.json(try await s.get("/gmail/v1/users/me/messages?maxResults=2&pageToken=\(next)", token: token))
            #expect((page2["messages"] as? [[String: String]])?.map { $0["id"]! } == [msgs[0].id])
            #expect(page2["nextPageToken"] == nil)

            let empty = try await s.get("/gmail/v1/users/me/messages?q=subject:nothing-matches", token: token)
            #expect(
                String(decoding: empty.body, as: UTF8.self).replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\n", with: "")
                    == "{\"resultSizeEstimate\":0}")
            // The thread: the reply joined the first message's thread.
            #expect(msgs[1].threadId == msgs[0].id)
        }
    }

    @Test(arguments: Door.allCases)
    func everyFormatAndAttachments(door: Door) async throws {
        let (fake, msgs, token) = try await Self.seeded()
        try await withFake(fake, door: door) { s in
            let id = msgs[2].id
            let full = try s.json(try await s.get("/gmail/v1/users/me/messages/\(id)", token: token))
            #expect(full["internalDate"] as? String == "1709658120000")
            let payload = try #require(full["payload"] as? [String: Any])
            #expect(payload["partId"] as? String == "")
            #expect(payload["mimeType"] as? String == "multipart/mixed")
            let parts = try #require(payload["parts"] as? [[String: Any]])
            #expect(parts.map { $0["partId"] as? String } == ["0", "1"])
            #expect((parts[0]["body"] as? [String: Any])?["data"] is String)
            let attBody = try #require(parts[1]["body"] as? [String: Any])
            #expect(parts[1]["filename"] as? String == "letter.pdf")
            #expect(attBody["size"] as? Int == 3000)
            let attId = try #require(attBody["attachmentId"] as? String)
            let att = try s.json(try await s.get("/gmail/v1/users/me/messages/\(id)/attachments/\(attId)", token: token))
            #expect(att["size"] as? Int == 3000)
            #expect(Base64.decode(att["data"] as? String ?? "") == Array(repeating: 0x25, count: 3000))
            // attachmentIds rotate per fetch, and old ones keep working.
            let again = try s.json(try await s.get("/gmail/v1/users/me/messages/\(id)", token: token))
            let attId2 =
                ((((again["payload"] as? [String: Any])?["parts"] as? [[String: Any]])?[1]["body"]) as? [String: Any])?["attachmentId"]
                as? String
            #expect(attId2 != nil && attId2 != attId)
            #expect(try await s.get("/gmail/v1/users/me/messages/\(id)/attachments/\(attId)", token: token).status == 200)

            let raw = try s.json(try await s.get("/gmail/v1/users/me/messages/\(id)?format=raw", token: token))
            let rawBytes = Base64.decode(raw["raw"] as? String ?? "")
            #expect(rawBytes.count == raw["sizeEstimate"] as? Int)
            #expect(raw["payload"] == nil)
            let minimal = try s.json(try await s.get("/gmail/v1/users/me/messages/\(id)?format=minimal", token: token))
            #expect(minimal["payload"] == nil && minimal["snippet"] != nil)
            let meta = try s.json(
                try await s.get(
                    "/gmail/v1/users/me/messages/\(id)?format=metadata&metadataHeaders=Subject&metadataHeaders=from", token: token))
            let headers = ((meta["payload"] as? [String: Any])?["headers"] as? [[String: String]])?.map { $0["name"]! }
            #expect(headers == ["From", "Subject"])
        }
    }

    @Test(arguments: Door.allCases)
    func errorsInGooglesEnvelope(door: Door) async throws {
        let (fake, _, token) = try await Self.seeded()
        try await withFake(fake, door: door) { s in
            let bad = try await s.get("/gmail/v1/users/me/messages/not-hex!", token: token)
            #expect(bad.status == 400)
            let e = try #require(try s.json(bad)["error"] as? [String: Any])
            #expect(e["message"] as? String == "Invalid id value")
            #expect(e["status"] as? String == "INVALID_ARGUMENT")
            #expect(((e["errors"] as? [[String: Any]])?.first?["reason"]) as? String == "invalidArgument")

            let missing = try await s.get("/gmail/v1/users/me/messages/18c9a1b2c3d4e5f6", token: token)
            #expect(missing.status == 404)
            #expect(((try s.json(missing)["error"] as? [String: Any])?["status"]) as? String == "NOT_FOUND")

            #expect(try await s.get("/gmail/v1/users/me/profile").status == 401)
            #expect(try await s.get("/gmail/v1/users/me/profile", token: "ya29.wrong").status == 401)
            let other = try await s.get("/gmail/v1/users/bob@firm.example/profile", token: token)
            #expect(other.status == 403)
            #expect(((try s.json(other)["error"] as? [String: Any])?["message"]) as? String == "Delegation denied for bob@firm.example")
            #expect(try await s.get("/gmail/v1/users/\(Self.alice)/profile", token: token).status == 200)

            let unsupported = try await s.get("/gmail/v1/users/me/settings/filters", token: token)
            #expect(unsupported.status == 501)
            let badQ = try await s.get("/gmail/v1/users/me/messages?q=from:a%20OR%20from:b", token: token)
            #expect(badQ.status == 400)
            let badFormat = try await s.get("/gmail/v1/users/me/messages/18c9a1b2c3d4e5f6?format=weird", token: token)
            #expect(badFormat.status == 400)
        }
    }

    @Test(arguments: [
        ("from:quill", [2]), ("-from:quill", [1, 0]), ("to:maya", [1]), ("subject:\"term sheet\"", [1, 0]),
        ("is:unread", [0]), ("has:attachment", [2]), ("label:updates", []), ("label:CATEGORY_UPDATES", [2]),
        ("in:sent", [1]), ("rfc822msgid:a@lumen", [0]), ("letter", [2]), ("after:1709658060", [2, 1]),
        ("before:2024/03/06", [2, 1, 0]), ("older_than:1d", []), ("newer_than:2d", [2, 1, 0]),
        // Bare words match whole words (Gmail does not match inside words); phrases need the words in a row.
        ("quarter", []), ("LETTER", [2]), ("\"term sheet\"", [1, 0]), ("\"sheet term\"", []), ("series -letter", [1, 0]),
        ("maya@lumenridge.example.com", [1, 0]), ("lumenridge", [1, 0]),
    ])
    func searchOperators(q: String, expected: [Int]) async throws {
        let (fake, msgs, token) = try await Self.seeded()
        let r = await fake.handle(
            FakeRequest(
                method: "GET", target: "/gmail/v1/users/me/messages?q=\(pct(q))",
                headers: [("Authorization", "Bearer \(token)")]))
        #expect(r.status == 200)
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        let ids = (obj["messages"] as? [[String: String]] ?? []).map { $0["id"]! }
        #expect(ids == expected.map { msgs[$0].id }, "q=\(q)")
    }

    @Test(arguments: Door.allCases)
    func historyPagingExpiryAndNetChanges(door: Door) async throws {
        let (fake, msgs, token) = try await Self.seeded()
        let start = try #require(await fake.currentHistoryId(user: Self.alice))
        try await fake.modifyLabels(user: Self.alice, id: msgs[0].id, add: ["STARRED"], remove: ["UNREAD"])
        try await fake.deleteMessage(user: Self.alice, id: msgs[2].id)
        let d = try await fake.insertMessage(user: Self.alice, raw: eml(subject: "New", messageID: "d@x"), labelIds: ["INBOX"])
        try await withFake(fake, door: door) { s in
            var records: [[String: Any]] = []
            var page: String?
            repeat {
                let q = "startHistoryId=\(start)&maxResults=2" + (page.map { "&pageToken=\($0)" } ?? "")
                let h = try s.json(try await s.get("/gmail/v1/users/me/history?\(q)", token: token))
                records += h["history"] as? [[String: Any]] ?? []
                page = h["nextPageToken"] as? String
                #expect(h["historyId"] as? String != nil)
            } while page != nil
            #expect(records.count == 4)
            let ids = records.compactMap { $0["id"] as? String }.compactMap(UInt64.init)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)
            #expect((records[0]["labelsAdded"] as? [[String: Any]])?.first?["labelIds"] as? [String] == ["STARRED"])
            #expect((records[1]["labelsRemoved"] as? [[String: Any]])?.first?["labelIds"] as? [String] == ["UNREAD"])
            #expect(
                ((records[2]["messagesDeleted"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["id"] as? String == msgs[2].id)
            #expect(((records[3]["messagesAdded"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["id"] as? String == d.id)

            let onlyAdds = try s.json(
                try await s.get("/gmail/v1/users/me/history?startHistoryId=\(start)&historyTypes=messageAdded", token: token))
            #expect((onlyAdds["history"] as? [Any])?.count == 1)
            let none = try s.json(try await s.get("/gmail/v1/users/me/history?startHistoryId=\(d.historyId)", token: token))
            #expect(none["history"] == nil && none["nextPageToken"] == nil && none["historyId"] as? String == d.historyId)
            #expect(try await s.get("/gmail/v1/users/me/history", token: token).status == 400)

            try await fake.expireHistory(user: Self.alice)
            let expired = try await s.get("/gmail/v1/users/me/history?startHistoryId=\(start)", token: token)
            #expect(expired.status == 404)
            #expect(((try s.json(expired)["error"] as? [String: Any])?["message"]) as? String == "Requested entity was not found.")
            let current = try #require(await fake.currentHistoryId(user: Self.alice))
            #expect(try await s.get("/gmail/v1/users/me/history?startHistoryId=\(current)", token: token).status == 200)
        }
    }

    @Test(arguments: Door.allCases)
    func threadsAndLabels(door: Door) async throws {
        let (fake, msgs, token) = try await Self.seeded()
        try await withFake(fake, door: door) { s in try await Self.checkThreadsAndLabels(s, msgs, token) }
    }

    static func checkThreadsAndLabels(_ s: FakeSession, _ msgs: [FakeGmail.InsertedMessage], _ token: String) async throws {
        let list = try s.json(try await s.get("/gmail/v1/users/me/threads", token: token))
        let threads = try #require(list["threads"] as? [[String: Any]])
        let threadIds: [String] = threads.compactMap { $0["id"] as? String }
        #expect(threadIds == [msgs[2].threadId, msgs[0].threadId])
        let t = try s.json(try await s.get("/gmail/v1/users/me/threads/\(msgs[0].threadId)?format=minimal", token: token))
        let inThread: [String] = (t["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(inThread == [msgs[0].id, msgs[1].id])
        let labels = try s.json(try await s.get("/gmail/v1/users/me/labels", token: token))
        let names: [String] = (labels["labels"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Array(names.prefix(3)) == ["INBOX", "SENT", "DRAFT"])
        let inbox = try s.json(try await s.get("/gmail/v1/users/me/labels/INBOX", token: token))
        #expect(inbox["messagesTotal"] as? Int == 2)
        #expect(inbox["messagesUnread"] as? Int == 1)
    }

    @Test func spamAndTrashAreExcludedUnlessAsked() async throws {
        let (fake, msgs, token) = try await Self.seeded()
        try await fake.modifyLabels(user: Self.alice, id: msgs[0].id, add: ["TRASH"])
        func ids(_ target: String) async throws -> [String] {
            let r = await fake.handle(FakeRequest(method: "GET", target: target, headers: [("Authorization", "Bearer \(token)")]))
            let obj = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            return (obj["messages"] as? [[String: String]] ?? []).map { $0["id"]! }
        }
        #expect(try await ids("/gmail/v1/users/me/messages").count == 2)
        #expect(try await ids("/gmail/v1/users/me/messages?includeSpamTrash=true").count == 3)
        #expect(try await ids("/gmail/v1/users/me/messages?labelIds=TRASH") == [msgs[0].id])
    }

    @Test func sameSeedSameStepsSameIds() async throws {
        let (a, ma, _) = try await Self.seeded()
        let (b, mb, _) = try await Self.seeded()
        #expect(ma == mb)
        #expect(await a.currentHistoryId(user: Self.alice) == b.currentHistoryId(user: Self.alice))
        let other = FakeGmail(options: .init(seed: 43))
        await other.addUser(Self.alice)
        let x = try await other.insertMessage(
            user: Self.alice, raw: eml(subject: "Series A term sheet", messageID: "a@lumen"),
            internalDate: 1_709_658_000_000)
        #expect(x.id != ma[0].id)
    }
}
