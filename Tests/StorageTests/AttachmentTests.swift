import FakeGmail
import FakeGmailBridge
import Foundation
@_spi(Testing) import GmailCapture
import CaptureParsing
import TestSupport
import Testing

@Suite struct AttachmentStoreTests {
    @Test func contentAddressedDedupedVerified() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("att-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = AttachmentStore(root: root)
        let bytes = Array("%PDF-1.4 term sheet".utf8)
        let sha = try store.put(bytes, expectedSize: bytes.count)
        #expect(store.url(sha256: sha).path.hasSuffix("\(sha.prefix(2))/\(sha.dropFirst(2).prefix(2))/\(sha)"))
        #expect(try store.put(bytes) == sha)  // second copy: same file
        let again = try store.store(bytes)
        #expect(again.sha256 == sha && !again.fresh)
        #expect(try store.store(Array("new".utf8)).fresh)
        #expect(try store.get(sha256: sha) == bytes)
        #expect(throws: AttachmentStore.Failure.sizeMismatch(expected: 3, actual: bytes.count)) { try store.put(bytes, expectedSize: 3) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)
        #expect(leftovers.isEmpty)  // temp files are renamed into place or removed
        // A filename never reaches the path: only hex.
        let names = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { !$0.hasPrefix("tmp") }
        #expect(names.allSatisfy { $0.allSatisfy { $0.isHexDigit || $0 == "/" } })
    }
}

@Suite struct AttachmentDownloaderTests {
    static func eml(_ id: String, to: String, pdf: [UInt8], name: String) -> [UInt8] {
        let b64 = Data(pdf).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return Array(
            """
            From: Maya <maya@lumenridge.example>\r
            To: \(to)\r
            Subject: Deck\r
            Message-ID: <\(id)>\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain\r
            \r
            See attached.\r
            --b\r
            Content-Type: application/pdf; name="\(name)"\r
            Content-Disposition: attachment; filename="\(name)"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(b64)\r
            --b--\r

            """.utf8)
    }

    /// The Gmail client the runtime builds against `fake`, storing attachments under `root`.
    static func client(_ fake: FakeGmail, _ db: CaptureDatabase, _ root: URL) async throws -> GmailClient {
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.apiBaseURL = "http://fake.test"
        config.rateUnitsPerSecond = 10_000
        config.attachmentDirectory = root.path
        return try #require(
            try CaptureRuntime.build(config, database: db, transport: transport, tokens: tokens, clock: clock).gmail?.client)
    }

    @Test func sameContentFromTwoMailboxesIsStoredOnceAndLimitsApply() async throws {
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("att-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let pdf = Array(repeating: UInt8(0x42), count: 4_000)
        let big = Array(repeating: UInt8(0x43), count: 2 * 1024 * 1024 + 1)
        var stored: [(String, String)] = []
        for user in ["alex@firm.example", "sam@firm.example"] {
            await fake.addUser(user)
            stored.append(
                (user, try await fake.insertMessage(user: user, raw: Self.eml("deck@lumen", to: user, pdf: pdf, name: "deck.pdf")).id))
        }
        stored.append(
            (
                "alex@firm.example",
                try await fake.insertMessage(
                    user: "alex@firm.example", raw: Self.eml("big@lumen", to: "alex@firm.example", pdf: big, name: "big.pdf")
                ).id
            ))
        let (db, _) = try DBKind.inMemory.open()
        let client = try await Self.client(fake, db, root)
        for (user, id) in stored {
            let account = try await db.upsertAccount(email: user, userId: nil)
            let m = try MessageParser().parse(gmail: try await client.getMessage(mailbox: user, id: id))
            _ = try await db.store(m, account: account, links: [])
        }
        // Make one id stale: the first attachments.get for it answers 404, the downloader refetches the message.
        try await fake.addFault(FaultRule(method: "messages.attachments.get", user: "sam@firm.example", status: 404, count: 1))
        let downloader = AttachmentDownloader(
            database: db, store: AttachmentStore(root: root), client: client, concurrency: 2, maxMegabytes: 2)
        let report = try await downloader.run()
        // Two downloads of the same bytes (they may race: either may find the other's file already there).
        #expect(report.stored + report.deduplicated == 2 && report.skipped == 1 && report.failed == 0)
        let rows = try await db.attachments()
        #expect(rows.map(\.state) == [.stored, .stored, .skipped])
        #expect(rows[0].sha256 == AttachmentStore.hex(pdf) && rows[1].sha256 == AttachmentStore.hex(pdf))
        #expect(try await db.summary().blobs == 1)
        #expect(try AttachmentStore(root: root).get(sha256: AttachmentStore.hex(pdf)) == pdf)
        #expect(await fake.stats().requests["gmail.users.messages.get"] == 4)  // three ingests + one refetch
    }

    /// Downloads go on while the writer is busy: outcomes are recorded in batches by a task of their
    /// own (before, each outcome was recorded before the next download started, so a long write such as
    /// the relationship drain held every download back).
    @Test func downloadsGoOnWhileTheWriterIsHeld() async throws {
        let user = "alex@firm.example"
        let fake = FakeGmail(options: .init(quota: .off, baseURL: "http://fake.test"))
        await fake.addUser(user)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("att-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var ids: [String] = []
        for i in 0..<12 {
            let pdf = Array("%PDF-1.4 deck \(i) ".utf8) + Array(repeating: UInt8(0x30 + i), count: 3_000)
            ids.append(try await fake.insertMessage(user: user, raw: Self.eml("deck\(i)@lumen", to: user, pdf: pdf, name: "d\(i).pdf")).id)
        }
        // A file in WAL mode, so reads (the downloader's job list, the checks below) go on beside the held writer.
        let (db, dir) = try DBKind.onDisk.open()
        defer { if let dir { try? FileManager.default.removeItem(at: dir) } }
        let client = try await Self.client(fake, db, root)
        let account = try await db.upsertAccount(email: user, userId: nil)
        for id in ids {
            _ = try await db.store(
                try MessageParser().parse(gmail: try await client.getMessage(mailbox: user, id: id)), account: account, links: [])
        }
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let hold = Task { try await db.holdWriter(started: started, release: release) }
        await withCheckedContinuation { c in
            DispatchQueue.global().async {
                started.wait(); c.resume()
            }
        }
        let downloader = AttachmentDownloader(
            database: db, store: AttachmentStore(root: root), client: client, concurrency: 2, maxMegabytes: 2)
        let run = Task { try await downloader.run() }
        // Every attachment is fetched while the writer is still held (bounded wait: 30 s).
        var fetched = 0
        for _ in 0..<3_000 {
            fetched = await fake.stats().requests["gmail.users.messages.attachments.get"] ?? 0
            if fetched == ids.count { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let states = try await db.attachments().map(\.state)
        release.signal()
        #expect(fetched == ids.count, "only \(fetched) of \(ids.count) attachments fetched while the writer was held")
        #expect(states == Array(repeating: .pending, count: ids.count))
        try await hold.value
        let report = try await run.value
        #expect(report.stored == ids.count && report.failed == 0)
        #expect(try await db.attachments().map(\.state) == Array(repeating: .stored, count: ids.count))
    }
}
