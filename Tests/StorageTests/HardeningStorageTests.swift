import FakeGmail
import FakeGmailBridge
import Foundation
@_spi(Testing) import GmailCapture
import CaptureParsing
import TestSupport
import Testing

func fileMode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
}

@Suite struct FileModeTests {
    /// Under the process's usual umask (022) SQLite would create 0644 files; ours are 0600.
    @Test func databaseFilesAreCreatedPrivate() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("modes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("crm.db").path
        let db = try CaptureDatabase(path: path)
        _ = try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        try await db.catchUpSearchIndex()
        // The full-text index's own file too (SearchIndex): it holds a copy of every subject and body.
        for suffix in ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"] {
            #expect(FileManager.default.fileExists(atPath: path + suffix), "\(suffix)")
            #expect(fileMode(path + suffix) == 0o600, "crm.db\(suffix) is \(String(fileMode(path + suffix) ?? -1, radix: 8))")
        }
    }

    @Test func attachmentDirectoriesArePrivate() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("att-modes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("store")
        let store = AttachmentStore(root: root)
        let sha = try store.put(Array("hello".utf8))
        var dirs = [root.path, root.appendingPathComponent("tmp").path]
        var cur = store.url(sha256: sha).deletingLastPathComponent()
        while cur.path != root.path { dirs.append(cur.path); cur = cur.deletingLastPathComponent() }
        #expect(dirs.count == 4)
        for d in dirs { #expect(fileMode(d) == 0o700, "\(d) is \(String(fileMode(d) ?? -1, radix: 8))") }
        #expect(fileMode(store.url(sha256: sha).path) == 0o600)
    }
}

@Suite struct IdentityFingerprintTests {
    /// Rows stored before fingerprints existed get theirs from their columns: the same email from another
    /// mailbox still merges, a different one with the same Message-ID does not.
    @Test func rowsFromBeforeFingerprintsStillMergeAndStillRefuseImpostors() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: nil)
        var m = message("old@lumen", to: ["alex@firm.example", "sam@firm.example"], gmailId: "g1", thread: "t1")
        m.attachments = [
            ParsedAttachment(
                partId: "1", filename: "deck.pdf", mimeType: "application/pdf", size: 10, contentId: nil, inline: false,
                attachmentId: "x", sha256: nil)
        ]
        let first = try await db.store(m, account: alex, links: [])
        try await db.simulateRowsFromBeforeFingerprints()
        m.gmailId = "g2"
        let second = try await db.store(m, account: sam, links: [])
        #expect(second.emailId == first.emailId && !second.newEmail)
        var impostor = m
        impostor.gmailId = "g3"
        impostor.textBody = "Wire the money here."
        let third = try await db.store(impostor, account: sam, links: [])
        #expect(third.emailId != first.emailId && third.newEmail)
        let problems = try await db.emails().first { $0.id == third.emailId }?.problems
        #expect(problems?.contains { $0.contains("already used by a different captured message") } == true)
        // Its attachment rows belong to its own email, never to the genuine one.
        let owners = Set(try await db.attachments().filter { $0.sightingId == third.sightingId }.map(\.emailId))
        #expect(owners == [third.emailId])
        // Each part of the fingerprint matters.
        let base = MessageIdentity.fingerprint(
            fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "S", textBody: "B",
            attachments: [("1", 10)])
        #expect(
            base
                == MessageIdentity.fingerprint(
                    fromAddress: "A@x.example", sentAt: "2024-03-05T10:00:00Z", subject: " S ", textBody: "B\n",
                    attachments: [("1", 10)]))
        for other in [
            MessageIdentity.fingerprint(
                fromAddress: "b@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "S", textBody: "B", attachments: [("1", 10)]),
            MessageIdentity.fingerprint(
                fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:01Z", subject: "S", textBody: "B", attachments: [("1", 10)]),
            MessageIdentity.fingerprint(
                fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "T", textBody: "B", attachments: [("1", 10)]),
            MessageIdentity.fingerprint(
                fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "S", textBody: "C", attachments: [("1", 10)]),
            MessageIdentity.fingerprint(
                fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "S", textBody: "B", attachments: [("1", 11)]),
            MessageIdentity.fingerprint(
                fromAddress: "a@x.example", sentAt: "2024-03-05T10:00:00Z", subject: "S", textBody: "B", attachments: []),
        ] { #expect(other != base) }
    }
}

@Suite struct SecurityStoreTests {
    @Test func oauthStatesAreSingleUseBoundAndExpiring() async throws {
        let db = try CaptureDatabase(inMemory: nil)
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        try await db.recordOAuthState(nonce: "n1", userId: "u1", mailbox: "a@firm.example", expires: now.addingTimeInterval(600))
        #expect(try await db.consumeOAuthState(nonce: "n1", userId: "u2", at: now) == false)  // another user
        #expect(try await db.consumeOAuthState(nonce: "n1", userId: "u1", at: now.addingTimeInterval(601)) == false)  // expired
        #expect(try await db.consumeOAuthState(nonce: "n1", userId: "u1", at: now))
        #expect(try await db.consumeOAuthState(nonce: "n1", userId: "u1", at: now) == false)  // used
        #expect(try await db.consumeOAuthState(nonce: "never", userId: "u1", at: now) == false)
    }

    /// A refresh token sealed before v2 (raw key, no mailbox binding) still works and is written back as v2.
    @Test func aV1RefreshTokenIsResealedOnUse() async throws {
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        await fake.addUser("sam@firm.example")
        await fake.registerOAuthClient(id: "crm", secret: "s")
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let db = try CaptureDatabase(inMemory: nil)
        let key = Data(repeating: 6, count: 32)
        let oauth = try OAuthTokenProvider(
            client: .init(
                id: "crm", secret: "s", redirectURI: "https://crm.example/cb", authURL: "http://fake.test/o/oauth2/v2/auth",
                tokenURL: "http://fake.test/token"),
            secretKey: key, store: db, apiBaseURL: "http://fake.test", transport: transport, clock: clock)
        let url = try await oauth.startConsent(userId: "u1", mailbox: "sam@firm.example")
        let items = URLComponents(
            string: try await transport.send(TransportRequest(method: "GET", url: url, operation: "oauth2.auth")).header("Location")!)!
            .queryItems!
        try await oauth.completeConsent(
            code: items.first { $0.name == "code" }!.value!, state: items.first { $0.name == "state" }!.value!,
            mailbox: "sam@firm.example")
        let box = try SecretBox(key: key)
        let refresh = try box.open(try #require(await db.sealedRefreshToken(for: "sam@firm.example")), for: "sam@firm.example")
        // Rewrite the row as a pre-v2 release would have stored it.
        try await db.saveSealedRefreshToken(try box.sealLegacyV1(refresh), for: "sam@firm.example")
        #expect(try await db.sealedRefreshToken(for: "sam@firm.example")?.hasPrefix("v1:") == true)
        #expect(!(try await oauth.accessToken(for: "sam@firm.example", forceRefresh: true)).isEmpty)
        let resealed = try #require(await db.sealedRefreshToken(for: "sam@firm.example"))
        let reopened = try box.open(resealed, for: "sam@firm.example")
        #expect(resealed.hasPrefix("v2:") && reopened == refresh)
        // Copied onto another mailbox's row, it does not open.
        try await db.saveSealedRefreshToken(resealed, for: "kim@firm.example")
        await #expect(throws: GmailAPIError.self) { try await oauth.accessToken(for: "kim@firm.example", forceRefresh: true) }
    }
}

@Suite struct AttachmentsInSyncTests {
    /// Before: only `demo` ran the downloader; a real-mode sync left every attachment pending forever.
    @Test func eachMailboxSyncDownloadsItsAttachmentsAndCountsThem() async throws {
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sync-att-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        await fake.addUser("alex@firm.example")
        let pdf = Array("%PDF-1.7 sync test".utf8)
        _ = try await fake.insertMessage(
            user: "alex@firm.example", raw: AttachmentDownloaderTests.eml("a1@lumen", to: "alex@firm.example", pdf: pdf, name: "a.pdf"))
        _ = try await fake.insertMessage(
            user: "alex@firm.example",
            raw: AttachmentDownloaderTests.eml("a2@lumen", to: "alex@firm.example", pdf: Array("other".utf8), name: "b.pdf"))
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let db = try CaptureDatabase(inMemory: nil)
        try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.apiBaseURL = "http://fake.test"
        config.rateUnitsPerSecond = 10_000
        config.retryMax = 0
        config.attachmentDirectory = root.path
        config.attachmentConcurrency = 2
        let runtime = try CaptureRuntime.build(config, database: db, transport: transport, tokens: tokens, clock: clock)
        let engine = try #require(runtime.gmail?.engine)
        // One download fails with a 500 the first time: counted as failed, owed, retried by the next sync.
        try await fake.addFault(FaultRule(method: "messages.attachments.get", status: 500, count: 1))
        let first = await engine.sync(mailbox: "alex@firm.example")
        #expect(first.counts.attachmentsStored == 1 && first.counts.attachmentsFailed == 1, "\(first)")
        var status = try #require(try await db.status().first)
        #expect(status.attachmentsPending == 1)
        #expect(status.lastRun?.counts["attachmentsStored"] == 1 && status.lastRun?.counts["attachmentsFailed"] == 1)
        let second = await engine.sync(mailbox: "alex@firm.example")
        #expect(second.counts.attachmentsStored == 1 && second.counts.attachmentsFailed == 0, "\(second)")
        status = try #require(try await db.status().first)
        #expect(status.attachmentsPending == 0)
        let json = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
        #expect(json.contains("\"attachmentsPending\":0"))
        #expect(try AttachmentStore(root: root).get(sha256: AttachmentStore.hex(pdf)) == pdf)
        // A third sync has nothing owed and calls attachments.get no more.
        let gets = await fake.stats().requests["gmail.users.messages.attachments.get"]
        _ = await engine.sync(mailbox: "alex@firm.example")
        #expect(await fake.stats().requests["gmail.users.messages.attachments.get"] == gets)
    }
}
