import FakeGmail
import FakeGmailBridge
import Foundation
@_spi(Testing) import GmailCapture
import CaptureParsing
import TestSupport
import Testing

enum DBKind: String, CaseIterable, CustomTestStringConvertible {
    case inMemory, onDisk
    var testDescription: String { rawValue }

    func open() throws -> (CaptureDatabase, URL?) {
        switch self {
        case .inMemory: return (try CaptureDatabase(inMemory: nil), nil)
        case .onDisk:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(UUID().uuidString)")
            return (try CaptureDatabase(path: dir.appendingPathComponent("crm.db").path), dir)
        }
    }
}

func message(
    _ id: String?, from: String = "maya@lumenridge.example", to: [String] = ["alex@firm.example"], subject: String = "Deal",
    gmailId: String, thread: String, replyTo: String? = nil, labels: [String] = ["INBOX"]
) -> ParsedMessage {
    var m = ParsedMessage()
    m.messageId = id
    m.gmailId = gmailId
    m.threadId = thread
    m.labelIds = labels
    m.subject = subject
    m.from = .init(name: nil, address: from)
    m.to = to.map { .init(name: nil, address: $0) }
    m.inReplyTo = replyTo
    m.references = replyTo.map { [$0] } ?? []
    m.date = Date(timeIntervalSince1970: 1_709_658_000)
    m.internalDateMillis = 1_709_658_000_000
    m.textBody = "Hello"
    return m
}

@Suite struct MigrationTests {
    @Test(arguments: DBKind.allCases)
    func ledgerAppliesOnceAndRefusesChangedFiles(kind: DBKind) async throws {
        let (db, dir) = try kind.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let runner = try MigrationRunner.bundled()
        #expect(try db.applyMigrations(runner).isEmpty)  // already applied by the initialiser
        let names = try await db.appliedMigrations()
        #expect(
            names == [
                "0001_email_tables", "0002_crm_standalone", "0003_sync_recoveries", "0004_api_tokens", "0005_hardening",
                "0006_state_checks", "0007_visibility", "0008_references", "0009_search", "0010_push", "0011_web_sessions",
                "0012_message_id_index", "0013_relationship_index", "0014_search_side_file",
                "0015_attachments_by_email", "0016_search_index_owner", "0017_relationship_people",
                "0018_participants_by_address_and_email",
            ])
        var changed = runner.migrations
        changed[0].sql += "\n-- edited after release\n"
        #expect(throws: MigrationRunner.Failure.changedAfterApply(name: "0001_email_tables")) {
            try db.applyMigrations(MigrationRunner(migrations: changed))
        }
    }

    @Test func additiveOnAnExistingCRMAndDropLeavesItUntouched() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("crm.db").path
        // The CRM's own file: its tables created through a one-off migration, whose ledger is then dropped
        // so that the file holds the CRM's tables alone.
        let crm = MigrationRunner(migrations: [
            .init(
                name: "crm",
                sql: """
                    CREATE TABLE deals (id INTEGER PRIMARY KEY, name TEXT);
                    INSERT INTO deals (name) VALUES ('Series A');
                    CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, name TEXT, active INTEGER, admin INTEGER, extra TEXT);
                    INSERT INTO users VALUES ('u1', 'alex@firm.example', 'Alex', 1, 1, 'crm data');
                    """)
        ])
        let existing = try CaptureDatabase(path: path, migrations: crm)
        #expect(try CaptureDatabase.dropEmailTables(path: path) == [MigrationRunner.ledgerTable])
        #expect(try existing.emailTableNames().isEmpty)
        let db = try CaptureDatabase(path: path)
        let (deals, users) = (try db.crmTableRows("deals"), try db.crmTableRows("users"))
        #expect(deals.map { $0["name"] } == ["Series A"] && users.first(where: { $0["id"] == "u1" })?["extra"] == "crm data")
        let dropped = try CaptureDatabase.dropEmailTables(path: path)
        #expect(dropped.contains("emails") && dropped.contains("email_accounts") && dropped.contains("email_schema_migrations"))
        #expect(try db.emailTableNames().isEmpty && db.crmTableRows("deals").count == 1 && db.crmTableRows("users").count == 1)
        // And it can come back.
        #expect(
            try db.applyMigrations(MigrationRunner.bundled()) == [
                "0001_email_tables", "0002_crm_standalone", "0003_sync_recoveries", "0004_api_tokens", "0005_hardening",
                "0006_state_checks", "0007_visibility", "0008_references", "0009_search", "0010_push", "0011_web_sessions",
                "0012_message_id_index", "0013_relationship_index", "0014_search_side_file",
                "0015_attachments_by_email", "0016_search_index_owner", "0017_relationship_people",
                "0018_participants_by_address_and_email",
            ])
    }
}

@Suite struct QueryPlanTests {
    /// A message by its Message-ID (MCP get_message, the read model) is found through indexes, not a scan
    /// of every email.
    @Test func messagesByMessageIdUseTheIndexes() async throws {
        let (db, dir) = try DBKind.inMemory.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let plan = try await db.messageIdLookupPlan()
        #expect(plan.contains { $0.contains("USING INDEX emails_message_id") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN emails") }, "\(plan)")
    }

    /// The search indexer reads each email's participants and attachment filenames through indexes
    /// (without `email_attachments_email` every email scanned every attachment row).
    @Test func theSearchIndexersSourceUsesTheIndexes() async throws {
        let (db, dir) = try DBKind.inMemory.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let plan = try await db.searchSourcePlan()
        #expect(plan.contains { $0.contains("USING INDEX email_attachments_email") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") && !$0.contains("json_each") && !$0.contains("subquery") }, "\(plan)")
    }
}

extension QueryPlanTests {
    /// who-knows and suggestions read a few rows per party: display names newest first through the
    /// participants' (address, email) index (0018; before it, every row of the address was read and sorted),
    /// and the month a window starts in through the people's (party, at) index.
    @Test func relationshipReadsPerPartyUseTheIndexes() async throws {
        let (db, dir) = try DBKind.inMemory.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let (names, window) = try await db.relationshipReadPlans()
        #expect(names.contains { $0.contains("USING INDEX email_participants_address (address_canonical=?)") }, "\(names)")
        #expect(!names.contains { $0 == "USE TEMP B-TREE FOR ORDER BY" }, "\(names)")
        #expect(window.contains { $0.contains("USING INDEX email_rel_people_entries_at (party=? AND at>? AND at<?)") }, "\(window)")
    }
}

@Suite struct StoreTests {
    @Test(arguments: DBKind.allCases)
    func oneEmailTwoSightingsAndOneThread(kind: DBKind) async throws {
        let (db, dir) = try kind.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: "u1")
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: "u2")
        let m1 = message("first@lumen.example", to: ["alex@firm.example", "sam@firm.example"], gmailId: "a1", thread: "ta")
        let a = try await db.store(m1, account: alex, links: [])
        let b = try await db.store(
            message("first@lumen.example", to: ["alex@firm.example", "sam@firm.example"], gmailId: "s1", thread: "ts"),
            account: sam, links: [])
        #expect(a.newEmail && !b.newEmail && a.emailId == b.emailId && a.threadId == b.threadId)
        // Re-storing the same sighting is idempotent.
        _ = try await db.store(m1, account: alex, links: [])
        let counts = try await db.counts()
        #expect(counts.emails == 1 && counts.sightings == 2 && counts.threads == 1)
    }

    /// Partner B on the first half, partner A on the second: one thread, in either order; a message
    /// bridging two existing threads merges them.
    @Test(arguments: [false, true])
    func conversationAcrossTeammatesIsOneThread(bobFirst: Bool) async throws {
        let (db, _) = try DBKind.inMemory.open()
        let alice = try await db.upsertAccount(email: "alice@firm.example", userId: "u1")
        let bob = try await db.upsertAccount(email: "bob@firm.example", userId: "u2")
        let bobs = [message("c1@x", gmailId: "b1", thread: "tb"), message("c2@x", gmailId: "b2", thread: "tb", replyTo: "c1@x")]
        let alices = [
            message("c3@x", gmailId: "a3", thread: "ta", replyTo: "c2@x"), message("c4@x", gmailId: "a4", thread: "ta", replyTo: "c3@x"),
        ]
        if bobFirst {
            for m in bobs { _ = try await db.store(m, account: bob, links: []) }
            for m in alices.reversed() { _ = try await db.store(m, account: alice, links: []) }
        } else {
            for m in alices.reversed() { _ = try await db.store(m, account: alice, links: []) }
            for m in bobs.reversed() { _ = try await db.store(m, account: bob, links: []) }
        }
        #expect(try await db.threadPartition() == [["mid:c1@x", "mid:c2@x", "mid:c3@x", "mid:c4@x"]])
        #expect(try await db.counts().threads == 1)
    }

    @Test func parallelSyncsOfTheSameMailProduceOneCanonicalMessageEach() async throws {
        let (db, dir) = try DBKind.onDisk.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: "u1")
        let sam = try await db.upsertAccount(email: "sam@firm.example", userId: "u2")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (account, prefix) in [(alex, "a"), (sam, "s")] {
                group.addTask {
                    for i in 0..<60 {
                        _ = try await db.store(
                            message(
                                "m\(i)@lumen.example", to: ["alex@firm.example", "sam@firm.example"],
                                gmailId: "\(prefix)\(i)", thread: "\(prefix)t\(i % 7)"), account: account, links: [])
                    }
                }
            }
            try await group.waitForAll()
        }
        let c = try await db.counts()
        #expect(c.emails == 60 && c.sightings == 120)
    }

    @Test func investorLinksKeepTheirRuleAndRematchRelinks() async throws {
        let (db, _) = try DBKind.inMemory.open()
        let directory = CRMDirectory(database: db)
        _ = try await directory.importInvestors(
            [Investor(id: "inv-1", name: "Lumenridge", emails: ["maya@lumenridge.example"], domains: [])],
            workspaceDomain: "firm.example")
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: "u1")
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: "firm.example")
        let m = message("x@lumen", from: "maya@lumenridge.example", cc: [], gmailId: "g1", thread: "t1")
        let other = message("y@quill", from: "ir@quillstone.example", cc: [], gmailId: "g2", thread: "t2")
        for msg in [m, other] {
            _ = try await db.store(msg, account: alex, links: index.links(for: [msg.from!.address] + msg.to.map(\.address)))
        }
        let before = try await db.investorLinks()
        #expect(before.count == 1 && before[0].rule == .exact && before[0].confidence == 1.0)
        _ = try await directory.importInvestors(
            [Investor(id: "inv-2", name: "Quillstone", emails: [], domains: ["quillstone.example"])],
            workspaceDomain: "firm.example")
        let r = try await directory.rematch(workspaceDomain: "firm.example")
        #expect(r.links == 2)
        let after = try await db.investorLinks().map { "\($0.investorId):\($0.rule.rawValue)" }.sorted()
        #expect(after == ["inv-1:exact", "inv-2:domain"])
    }

    @Test func investorImportIsAllOrNothingWithEveryProblemNamed() async throws {
        let (db, _) = try DBKind.inMemory.open()
        let directory = CRMDirectory(database: db)
        let csv = Data("id,name,emails,domains\ninv-1,Good,a@good.example,good.example\n,No id,bad,\ninv-1,Dup,,dup.example\n".utf8)
        let rows = try CRMDirectory.parseInvestorFile(csv, filename: "x.csv")
        do {
            _ = try await directory.importInvestors(rows, workspaceDomain: nil)
            Issue.record("expected a refusal")
        } catch let f as CRMDirectory.Failure {
            let text = f.description
            #expect(
                text.contains("row 2: field \"id\": missing") && text.contains("\"bad\" is not an email address")
                    && text.contains("duplicate id inv-1"))
        }
        #expect(try await directory.investors().isEmpty)
        let json = Data(#"[{"id": "inv-9", "name": "Nine", "emails": ["n@nine.example"], "domains": ["nine.example"]}]"#.utf8)
        let r1 = try await directory.importInvestors(try CRMDirectory.parseInvestorFile(json, filename: "x.json"), workspaceDomain: nil)
        let r2 = try await directory.importInvestors(try CRMDirectory.parseInvestorFile(json, filename: "x.json"), workspaceDomain: nil)
        #expect(r1.inserted == 1 && r2.updated == 1 && r2.inserted == 0)
        #expect(
            try await directory.investors() == [Investor(id: "inv-9", name: "Nine", emails: ["n@nine.example"], domains: ["nine.example"])])
        let u1 = try await directory.addUser(email: "alex@firm.example", name: "Alex", admin: true)
        let u2 = try await directory.addUser(email: "ALEX@firm.example", name: nil, admin: true)
        #expect(u1.id == u2.id && u2.name == "Alex")
    }
}

func message(_ id: String?, from: String, cc: [String], gmailId: String, thread: String) -> ParsedMessage {
    message(id, from: from, to: ["alex@firm.example"], gmailId: gmailId, thread: thread)
}

@Suite struct CRMMappingTests {
    @Test func anExistingCRMsOwnTableNamesAreUsed() async throws {
        let (db, _) = try DBKind.inMemory.open()
        try db.applyMigrations(
            MigrationRunner(migrations: [
                .init(
                    name: "crm_people",
                    sql: """
                        CREATE TABLE people (pid TEXT PRIMARY KEY, mail TEXT, full_name TEXT, is_active INTEGER, is_admin INTEGER);
                        INSERT INTO people VALUES ('p1', 'kim@firm.example', 'Kim', 1, 0);
                        """)
            ]))
        let schema = try JSONDecoder().decode(
            CRMSchema.self,
            from: Data(
                #"{"usersTable": "people", "userID": "pid", "userEmail": "mail", "userName": "full_name", "userActive": "is_active", "userAdmin": "is_admin"}"#
                    .utf8))
        #expect(schema.investorsTable == "investors")  // defaults kept
        let directory = CRMDirectory(database: db, schema: schema)
        #expect(try await directory.users().map(\.email) == ["kim@firm.example"])
        var evil = CRMSchema()
        evil.usersTable = "users; DROP TABLE emails"
        await #expect(throws: CRMDirectory.Failure.self) { try await CRMDirectory(database: db, schema: evil).users() }
    }

    @Test func sealedRefreshTokensLiveInTheDatabase() async throws {
        let (db, _) = try DBKind.inMemory.open()
        let box = try SecretBox(key: Data(repeating: 5, count: 32))
        try await db.saveSealedRefreshToken(try box.seal("1//token", for: "alex@firm.example"), for: "alex@firm.example")
        let sealed = try #require(await db.sealedRefreshToken(for: "ALEX@firm.example"))
        #expect(try box.open(sealed, for: "ALEX@firm.example") == "1//token")
        let raw = try await db.storedRefreshTokens()
        #expect(raw.count == 1 && raw.allSatisfy { !$0.contains("1//token") })
    }
}

@Suite struct BatchStoreTests {
    /// The backfill stores a chunk in one transaction: the result must be exactly what storing the same
    /// messages one at a time gives (duplicates inside the chunk, a reply bridging two threads).
    @Test func aBatchStoresExactlyWhatSingleStoresStore() async throws {
        let msgs = [
            message("c1@x", gmailId: "g1", thread: "t1"), message("c2@x", gmailId: "g2", thread: "t2"),
            message("c3@x", gmailId: "g3", thread: "t3", replyTo: "c1@x"), message("c1@x", gmailId: "g1", thread: "t1"),
            message("c4@x", gmailId: "g4", thread: "t3", replyTo: "c2@x"), message(nil, gmailId: "g5", thread: "t5"),
        ]
        let (one, _) = try DBKind.inMemory.open()
        let (batched, _) = try DBKind.inMemory.open()
        let a1 = try await one.upsertAccount(email: "alex@firm.example", userId: nil)
        let a2 = try await batched.upsertAccount(email: "alex@firm.example", userId: nil)
        var singles: [CaptureDatabase.Stored] = []
        for m in msgs { singles.append(try await one.store(m, account: a1, links: [])) }
        let stored = try await batched.store(batch: msgs.map { ($0, []) }, account: a2)
        #expect(stored.map(\.newEmail) == singles.map(\.newEmail))
        #expect(stored.map(\.newEmail) == [true, true, true, false, true, true])
        #expect(try await batched.threadPartition() == one.threadPartition())
        let (c1, c2) = (try await one.counts(), try await batched.counts())
        #expect(c1.emails == c2.emails && c1.sightings == c2.sightings && c1.threads == c2.threads)
        #expect(c2.emails == 5 && c2.threads == 2)
    }

    /// One message the database refuses fails the chunk's transaction; the others are then stored
    /// one by one and the refusal is still reported.
    @Test func oneRefusedMessageDoesNotHoldBackTheRest() async throws {
        let (db, dir) = try DBKind.onDisk.open()
        defer { dir.map { try? FileManager.default.removeItem(at: $0) } }
        let alex = try await db.upsertAccount(email: "alex@firm.example", userId: nil)
        try await db.simulateRefusedSighting(gmailId: "poison")
        let batch = [
            message("ok1@x", gmailId: "ok1", thread: "t1"), message("bad@x", gmailId: "poison", thread: "t2"),
            message("ok2@x", gmailId: "ok2", thread: "t3"),
        ]
        let refusal = await #expect(throws: (any Error).self) { try await db.store(batch: batch.map { ($0, []) }, account: alex) }
        #expect(refusal.map { "\($0)".contains("refused") } == true, "the database's refusal is what is thrown")
        let gmailIds = try await db.sightings().map(\.gmailId)
        #expect(gmailIds == ["ok1", "ok2"])
        #expect(try await db.counts().emails == 2)
    }
}
