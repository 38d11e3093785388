import CaptureParsing
import Foundation
@_spi(Testing) import GmailCapture
import Testing

// Issue 15, search: the query language (pure), then the index and the read model on a small firm stored
// into a real SQLite database: visibility applied inside the query (metadata matches participants only,
// subject the subject too, never the body), snippets from visible fields only, exclusions that cannot
// probe hidden text, the index kept in sync on store, delete, re-sighting and rematch, the migration
// building it for an existing store, pagination, cursors and the access log.

@Suite("Search query language")
struct SearchQueryTests {
    typealias Q = SearchQuery

    @Test func wordsPhrasesPrefixesAndOperators() throws {
        let q = try Q.parse(#"allocation "series a" pipe* from:ana@harborline.vc to:bob subject:update filename:"term sheet" -draft"#)
        #expect(q.texts.map(\.text) == ["allocation", "series a", "pipe", "ana@harborline.vc", "bob", "update", "term sheet", "draft"])
        #expect(q.texts[2].prefix)
        #expect(q.texts[3].fields == [.sender] && q.texts[4].fields == [.recipients])
        #expect(q.texts[5].fields == [.subject] && q.texts[6].fields == [.filenames])
        #expect(q.texts[7].negated && q.texts[7].fields == nil)
        #expect(q.ranked)
    }

    @Test func filters() throws {
        let q = try Q.parse(
            "investor:inv-7 domain:@Harborline.VC teammate:Kim@Firm.example after:2026/3/1 before:2026-04-01 has:attachment -domain:spam.example"
        )
        #expect(
            q.filters.map(\.filter) == [
                .investor("inv-7"), .domain("harborline.vc"), .teammate("kim@firm.example"), .after("2026-03-01"), .before("2026-04-01"),
                .hasAttachment, .domain("spam.example"),
            ])
        #expect(q.filters.map(\.negated) == [false, false, false, false, false, false, true])
        // The domain's words narrow the candidates; they do not rank (ordered by date).
        #expect(q.texts.map(\.text) == ["harborline.vc"] && !q.ranked)
    }

    @Test func errorsAreClear() {
        #expect(throws: SearchQueryError.unknownOperator("label")) { try Q.parse("label:inbox allocation") }
        #expect(throws: SearchQueryError.unknownOperator("re")) { try Q.parse("re: allocation") }
        #expect(throws: SearchQueryError.unterminatedQuote) { try Q.parse(#"say "hello"#) }
        #expect(throws: SearchQueryError.empty) { try Q.parse("   ") }
        #expect(throws: SearchQueryError.empty) { try Q.parse("!! --") }
        #expect(throws: SearchQueryError.onlyExclusions) { try Q.parse("-draft") }
        #expect(throws: SearchQueryError.badValue(operator: "after", value: "2026-02-30", expected: "a date as YYYY-MM-DD")) {
            try Q.parse("after:2026-02-30")
        }
        #expect(throws: SearchQueryError.badValue(operator: "has", value: "pdf", expected: "has:attachment")) { try Q.parse("has:pdf") }
        #expect(throws: SearchQueryError.badValue(operator: "domain", value: "nodot", expected: "a domain such as example.com")) {
            try Q.parse("domain:nodot")
        }
        #expect(throws: SearchQueryError.badValue(operator: "teammate", value: "kim", expected: "a teammate's email address")) {
            try Q.parse("teammate:kim")
        }
        #expect(throws: SearchQueryError.badValue(operator: "from", value: "", expected: "a value after from:")) { try Q.parse("from: x") }
        #expect(SearchQueryError.unknownOperator("label").description.contains("from:"))
    }

    @Test func colonsThatAreNotOperatorsAreWords() throws {
        #expect(try Q.parse("10:30 call").texts.map(\.text) == ["10:30", "call"])
        #expect(try Q.parse(#""re: funding""#).texts.map(\.text) == ["re: funding"])
    }

    @Test func queryTextIsNeverFTSSyntax() throws {
        let q = try Q.parse(#"NEAR(a b) "x""y" col:"#.replacingOccurrences(of: " col:", with: ""))
        let plan = try #require(q.plan(at: .full))
        #expect(plan.match == #""NEAR(a" AND "b)" AND "x""# + #" AND "y""#)
    }

    @Test func plansFollowTheVisibleFields() throws {
        let q = try Q.parse("allocation from:ana -draft")
        #expect(q.plan(at: .full)?.match == #""allocation" AND {sender} : "ana""#)
        #expect(q.plan(at: .full)?.exclude == #""draft""#)
        #expect(q.plan(at: .subject)?.match == #"{subject sender recipients} : "allocation" AND {sender} : "ana""#)
        #expect(q.plan(at: .subject)?.exclude == #"{subject sender recipients} : "draft""#)
        #expect(q.plan(at: .metadata)?.match == #"{sender recipients} : "allocation" AND {sender} : "ana""#)
        #expect(q.plan(at: .metadata)?.weights == [0, 0, 4, 2, 0])
        // A positive part on a field the level hides: nothing at that level can match.
        #expect(try Q.parse("subject:update").plan(at: .metadata) == nil)
        #expect(try Q.parse("filename:deck").plan(at: .subject) == nil)
        #expect(try Q.parse("has:attachment").plan(at: .subject) == nil)
        // An exclusion on a hidden field is not checked there.
        #expect(try Q.parse("from:ana -subject:draft").plan(at: .metadata)?.exclude == nil)
    }
}

/// 2026-03-01T00:00:00Z.
private let now = Date(timeIntervalSince1970: 1_772_323_200)
private let day: TimeInterval = 86_400
private let alex = "alex@firm.example"
private let bob = "bob@firm.example"
private let kim = "kim@firm.example"
private let ana = "ana@harborline.vc"
private let harborline = Investor(id: "inv-h", name: "Harborline", emails: [ana], domains: ["harborline.vc"])

/// alex (admin), bob and kim, with mailboxes; Harborline in the CRM.
private struct SearchFirm {
    static let workspace = "firm.example"
    let db: CaptureDatabase
    let directory: CRMDirectory
    let accounts: [String: CaptureDatabase.Account]

    static func make(path: String? = nil, migrations: MigrationRunner? = nil, searchBatch: Int = 500) async throws -> SearchFirm {
        let db =
            try path.map { try CaptureDatabase(path: $0, migrations: migrations, searchBatch: searchBatch) }
            ?? CaptureDatabase(inMemory: migrations)
        let directory = CRMDirectory(database: db)
        var accounts: [String: CaptureDatabase.Account] = [:]
        for t in [alex, bob, kim] {
            if try await directory.users().contains(where: { $0.email == t }) == false {
                try await directory.addUser(email: t, name: String(t.prefix { $0 != "@" }).capitalized, admin: t == alex)
            }
            accounts[t] = try await db.upsertAccount(email: t, userId: nil)
        }
        if try await directory.investors().isEmpty { _ = try await directory.importInvestors([harborline], workspaceDomain: workspace) }
        return SearchFirm(db: db, directory: directory, accounts: accounts)
    }

    @discardableResult
    func deliver(
        _ id: String, from: String, to: [String], cc: [String] = [], subject: String, body: String, daysAgo: Double,
        files: [String] = [], thread: String? = nil, in mailboxes: [String], fromName: String? = nil
    ) async throws -> Int64 {
        let index = InvestorIndex(investors: try await directory.investors(), workspaceDomain: Self.workspace)
        var threadId: Int64 = 0
        for mailbox in mailboxes {
            var m = ParsedMessage()
            m.messageId = id
            m.gmailId = "\(mailbox.prefix { $0 != "@" })-\(id)"
            m.threadId = "t-\(thread ?? id)"
            m.labelIds = mailbox == from ? ["SENT"] : ["INBOX"]
            m.subject = subject
            m.textBody = body
            m.snippet = String(body.prefix(100))
            m.from = .init(name: fromName, address: from)
            m.to = to.map { .init(name: nil, address: $0) }
            m.cc = cc.map { .init(name: nil, address: $0) }
            m.date = now.addingTimeInterval(-daysAgo * day)
            m.internalDateMillis = Int64(m.date!.timeIntervalSince1970 * 1000)
            m.attachments = files.enumerated().map { n, f in
                ParsedAttachment(
                    partId: "\(n + 1)", filename: f, mimeType: "application/pdf", size: 1000, contentId: nil, inline: false,
                    attachmentId: "att-\(n)", sha256: nil)
            }
            threadId = try await db.store(m, account: accounts[mailbox]!, links: index.links(for: [from] + to + cc)).threadId
        }
        return threadId
    }

    func gmailId(_ id: String, _ mailbox: String) -> String { "\(mailbox.prefix { $0 != "@" })-\(id)" }

    func readModel(bob level: SharingLevel? = nil, default def: SharingLevel = .metadata) async throws -> ReadModel {
        let rm = ReadModel(
            database: db, policy: VisibilityPolicy(defaultLevel: def, workspaceDomain: Self.workspace),
            clock: FixedClock(date: now))
        if let level { try await rm.setSharingLevel(level, for: bob) }
        return rm
    }

    /// Bob's Harborline thread (an attachment), kim's Quillstone update, alex's note from a Harborline
    /// subdomain, an impostor domain, and internal mail between bob and kim.
    func seed() async throws -> (harborline: Int64, quill: Int64, dinner: Int64, impostor: Int64, internal: Int64) {
        let h = try await deliver(
            "h1@harborline.vc", from: ana, to: [bob], subject: "Series A allocation", body: "We can take 2M of the allocation.",
            daysAgo: 20, files: ["Term Sheet v3.pdf"], thread: "H", in: [bob], fromName: "Ana Ruiz")
        try await deliver(
            "h2@firm.example", from: bob, to: [ana], subject: "Re: Series A allocation", body: "Confirming the allocation, thanks.",
            daysAgo: 19, thread: "H", in: [bob])
        let q = try await deliver(
            "q1@quillstone.com", from: "carl@quillstone.com", to: [kim], subject: "Quarterly update",
            body: "Numbers attached; allocation pending.", daysAgo: 5, in: [kim])
        let d = try await deliver(
            "d1@mail.harborline.vc", from: "dee@mail.harborline.vc", to: [alex], subject: "Dinner", body: "See you Thursday.",
            daysAgo: 3, in: [alex])
        let i = try await deliver(
            "x1@harborline.vc.evil.example", from: "eve@harborline.vc.evil.example", to: [alex], subject: "Invoice",
            body: "Pay now.", daysAgo: 2, in: [alex])
        let n = try await deliver(
            "n1@firm.example", from: bob, to: [kim], subject: "allocation internal", body: "Between us: allocation notes.",
            daysAgo: 1, in: [bob, kim])
        return (h, q, d, i, n)
    }
}

/// A clock that always says `date`.
private struct FixedClock: CaptureClock {
    var date: Date
    func now() -> Date { date }
    func sleep(for duration: Duration) async throws {}
}

private func threads(_ page: SearchPage) -> [Int64] { page.results.map(\.threadId) }

@Suite("Search over captured mail")
struct SearchStoreTests {
    @Test func operatorFindsEverythingRankedWithHighlights() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()
        let page = try await rm.search("allocation", for: .operator, surface: .cli)
        #expect(Set(threads(page)) == [t.harborline, t.quill, t.internal])
        let h = try #require(page.results.first { $0.threadId == t.harborline })
        #expect(h.subject == "Series A allocation")
        #expect(h.snippet.contains("«allocation»"))
        #expect(h.mailboxes == [bob] && h.investorIds == ["inv-h"])
        #expect(["h1@harborline.vc", "h2@firm.example"].contains(h.matchedMessageId ?? ""))
        #expect(page.nextCursor == nil)
        // The subject weighs most: the internal thread (word in subject and body twice) and Harborline's
        // (subject and body) rank above Quillstone's (body only).
        #expect(threads(page).last == t.quill)
    }

    @Test func metadataLevelMatchesParticipantsOnly() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()  // bob shares metadata (the firm default)
        // kim sees her own Quillstone mail in full; bob's Harborline thread only as metadata, so its
        // subject and body do not match; internal mail she holds herself.
        #expect(Set(threads(try await rm.search("allocation", for: .teammate(kim), surface: .cli))) == [t.quill, t.internal])
        // Participants match at metadata level, and nothing else of the message is shown.
        // (alex's Harborline-subdomain dinner and the look-alike invoice too: their participants' words.)
        let page = try await rm.search("harborline", for: .teammate(kim), surface: .cli)
        #expect(Set(threads(page)) == [t.harborline, t.dinner, t.impostor])
        let r = try #require(page.results.first { $0.threadId == t.harborline })
        #expect(r.subject == nil)
        #expect(!r.snippet.contains("Series") && !r.snippet.contains("2M") && !r.snippet.contains("Confirming"))
        #expect(r.snippet.contains("«harborline»") || r.snippet.isEmpty)
        // Operators that name content find nothing of bob's.
        #expect(try await rm.search("subject:series", for: .teammate(kim), surface: .cli).results.isEmpty)
        #expect(try await rm.search("filename:term", for: .teammate(kim), surface: .cli).results.isEmpty)
        #expect(try await rm.search("from:ana has:attachment", for: .teammate(kim), surface: .cli).results.isEmpty)
        // The investor link and dates are metadata.
        #expect(Set(threads(try await rm.search("investor:inv-h", for: .teammate(kim), surface: .cli))) == [t.harborline, t.dinner])
    }

    @Test func subjectLevelMatchesTheSubjectNeverTheBody() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel(bob: .subject)
        let page = try await rm.search("allocation", for: .teammate(kim), surface: .cli)
        #expect(Set(threads(page)) == [t.harborline, t.quill, t.internal])
        let h = try #require(page.results.first { $0.threadId == t.harborline })
        #expect(h.subject == "Series A allocation")
        #expect(h.snippet.contains("«allocation»") && !h.snippet.contains("2M") && !h.snippet.contains("Confirming"))
        // Body-only words of bob's mail do not match...
        #expect(try await rm.search("2M", for: .teammate(kim), surface: .cli).results.isEmpty)
        #expect(try await rm.search("filename:term", for: .teammate(kim), surface: .cli).results.isEmpty)
        // ...and cannot be probed by exclusion: "-2M" looks only at what kim may see.
        #expect(threads(try await rm.search("series -2M -confirming", for: .teammate(kim), surface: .cli)) == [t.harborline])
        // In full, the same exclusion applies to the body.
        let full = try await f.readModel(bob: .full)
        #expect(try await full.search("series -2M -confirming", for: .teammate(kim), surface: .cli).results.isEmpty)
        #expect(threads(try await full.search("filename:term", for: .teammate(kim), surface: .cli)) == [t.harborline])
        let snippet = try await full.search("\"term sheet\"", for: .teammate(kim), surface: .cli).results.first?.snippet
        #expect(snippet == "«Term Sheet» v3.pdf")
    }

    @Test func aSharedMarkOpensTheBodyToSearch() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()  // bob at the metadata default
        #expect(try await rm.search("2M", for: .teammate(kim), surface: .cli).results.isEmpty)
        // bob shares the thread: it is shown in full, so its body matches and its snippet shows.
        #expect(try await rm.markThread(t.harborline, owner: bob, mode: .shared))
        let page = try await rm.search("2M", for: .teammate(kim), surface: .cli)
        #expect(threads(page) == [t.harborline])
        #expect(page.results.first?.snippet.contains("«2M»") == true)
    }

    @Test func internalAndPrivateMailStayHidden() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel(bob: .full)
        // alex holds none of the internal thread: internal mail is never shown to others.
        #expect(!threads(try await rm.search("allocation", for: .teammate(alex), surface: .cli)).contains(t.internal))
        #expect(threads(try await rm.search("allocation", for: .teammate(alex), surface: .cli)).contains(t.harborline))
        _ = try await rm.markThread(t.harborline, owner: bob, mode: .private)
        #expect(try await rm.search("allocation", for: .teammate(alex), surface: .cli).results.isEmpty)
        // alex's own dinner note (a Harborline subdomain) is all that is left of the investor for him.
        #expect(threads(try await rm.search("investor:inv-h", for: .teammate(alex), surface: .cli)) == [t.dinner])
    }

    @Test func operatorsAndFilters() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()
        func ids(_ q: String) async throws -> Set<Int64> { Set(threads(try await rm.search(q, for: .operator, surface: .cli))) }
        // Subdomains count; a look-alike domain whose words contain the domain's does not.
        #expect(try await ids("domain:harborline.vc") == [t.harborline, t.dinner])
        #expect(try await ids("domain:harborline.vc -domain:mail.harborline.vc") == [t.harborline])
        #expect(try await ids("from:ana") == [t.harborline])
        #expect(try await ids("from:\"Ana Ruiz\"") == [t.harborline])
        #expect(try await ids("to:ana@harborline.vc") == [t.harborline])
        #expect(try await ids("teammate:kim@firm.example") == [t.quill, t.internal])
        #expect(try await ids("teammate:kim@firm.example -teammate:bob@firm.example") == [t.quill])
        #expect(try await ids("after:2026-02-24") == [t.quill, t.dinner, t.impostor, t.internal])
        #expect(try await ids("before:2026-02-24") == [t.harborline])
        #expect(try await ids("after:2026-02-26 before:2026-02-27") == [t.dinner])
        #expect(try await ids("has:attachment") == [t.harborline])
        #expect(try await ids("-has:attachment teammate:alex@firm.example") == [t.dinner, t.impostor])
        #expect(try await ids("allocation -internal") == [t.harborline, t.quill])
        #expect(try await ids("alloc*") == [t.harborline, t.quill, t.internal])
        #expect(try await ids("subject:\"quarterly update\"") == [t.quill])
        #expect(try await ids("investor:inv-h") == [t.harborline, t.dinner])
        // Without words, newest first.
        #expect(threads(try await rm.search("teammate:alex@firm.example", for: .operator, surface: .cli)) == [t.impostor, t.dinner])
    }

    @Test func deletedMailLeavesTheIndexAndComesBackWhenSeenAgain() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()
        #expect(try await f.db.markDeleted(accountId: f.accounts[kim]!.id, gmailIds: [f.gmailId("q1@quillstone.com", kim)], at: now) == 1)
        #expect(try await rm.search("quarterly", for: .operator, surface: .cli).results.isEmpty)
        #expect(try await rm.search("teammate:kim@firm.example", for: .operator, surface: .cli).results.map(\.threadId) == [t.internal])
        // Deleted in one of two mailboxes: still held by the other, still found.
        #expect(try await f.db.markDeleted(accountId: f.accounts[kim]!.id, gmailIds: [f.gmailId("n1@firm.example", kim)], at: now) == 1)
        #expect(threads(try await rm.search("notes", for: .operator, surface: .cli)) == [t.internal])
        // Seen again (restored from the trash): back in the index.
        try await f.deliver(
            "q1@quillstone.com", from: "carl@quillstone.com", to: [kim], subject: "Quarterly update",
            body: "Numbers attached; allocation pending.", daysAgo: 5, in: [kim])
        #expect(threads(try await rm.search("quarterly", for: .operator, surface: .cli)) == [t.quill])
        // The index holds exactly what its source gives (no token left behind by the deletions), one
        // document per email some mailbox holds.
        #expect(try await f.db.checkSearchIndex() == 6)
    }

    @Test func rematchIsSeenByInvestorSearch() async throws {
        let f = try await SearchFirm.make()
        let t = try await f.seed()
        let rm = try await f.readModel()
        #expect(try await rm.search("investor:inv-q", for: .operator, surface: .cli).results.isEmpty)
        _ = try await f.directory.importInvestors(
            [harborline, Investor(id: "inv-q", name: "Quillstone", emails: [], domains: ["quillstone.com"])],
            workspaceDomain: SearchFirm.workspace)
        _ = try await f.directory.rematch(workspaceDomain: SearchFirm.workspace)
        #expect(threads(try await rm.search("investor:inv-q", for: .operator, surface: .cli)) == [t.quill])
        #expect(try await rm.search("quarterly", for: .operator, surface: .cli).results.first?.investorIds == ["inv-q"])
    }

    @Test func paginationCoversEveryThreadOnce() async throws {
        let f = try await SearchFirm.make()
        var expected = Set<Int64>()
        for n in 0..<23 {
            expected.insert(
                try await f.deliver(
                    "p\(n)@lp.example", from: "lp\(n)@lp.example", to: [kim], subject: "Pipeline \(n)",
                    body: String(repeating: "pipeline ", count: n % 5 + 1), daysAgo: Double(n), in: [kim]))
        }
        let rm = try await f.readModel()
        for query in ["pipeline", "teammate:kim@firm.example"] {
            var seen: [Int64] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await rm.search(query, for: .teammate(kim), limit: 5, cursor: cursor, surface: .cli)
                seen += threads(page)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil
            #expect(pages == 5, "\(query)")
            #expect(seen.count == 23 && Set(seen) == expected, "\(query)")
        }
        let first = try await rm.search("pipeline", for: .teammate(kim), limit: 5, surface: .cli)
        await #expect(throws: SearchQueryError.badCursor) {
            try await rm.search("quarterly", for: .teammate(kim), limit: 5, cursor: first.nextCursor, surface: .cli)
        }
        await #expect(throws: SearchQueryError.badCursor) {
            try await rm.search("pipeline", for: .teammate(alex), limit: 5, cursor: first.nextCursor, surface: .cli)
        }
        await #expect(throws: SearchQueryError.badCursor) {
            try await rm.search("pipeline", for: .teammate(kim), cursor: "not-a-cursor", surface: .cli)
        }
        await #expect(throws: SearchQueryError.badLimit(0)) { try await rm.search("pipeline", for: .operator, limit: 0, surface: .cli) }
    }

    @Test func snippetsOfOthersMailAreLoggedReads() async throws {
        let f = try await SearchFirm.make()
        _ = try await f.seed()
        let rm = try await f.readModel(bob: .subject)
        _ = try await rm.search("allocation", for: .teammate(kim), surface: .mcp)
        let log = try await rm.accessLog(viewer: kim)
        // bob's Harborline message shown at subject level: logged; kim's own mail and the internal
        // thread (which she holds) are not.
        #expect(log.count == 1)
        #expect(log.first?.owner == bob && log.first?.surface == .mcp && log.first?.level == .subject)
        // Metadata-only results are not reads of content.
        let meta = try await f.readModel(bob: .metadata)
        _ = try await meta.search("harborline", for: .teammate(alex), surface: .api)
        #expect(try await meta.accessLog(viewer: alex).isEmpty)
    }

    @Test func theMigrationIndexesAnExistingStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("search-migration-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("crm.db").path
        let before = MigrationRunner(migrations: try MigrationRunner.bundled().migrations.filter { $0.name < "0009" })
        do {
            let f = try await SearchFirm.make(path: path, migrations: before)
            _ = try await f.seed()
            #expect(
                try await f.db.markDeleted(accountId: f.accounts[kim]!.id, gmailIds: [f.gmailId("q1@quillstone.com", kim)], at: now) == 1)
        }
        let f = try await SearchFirm.make(path: path)
        let rm = try await f.readModel()
        let found = try await rm.search("allocation", for: .operator, surface: .cli)
        #expect(found.results.count == 2)  // Harborline and the internal thread; Quillstone was deleted first
        #expect(try await rm.search("filename:term", for: .operator, surface: .cli).results.count == 1)
        #expect(try await f.db.checkSearchIndex() == 5)
        // The email tables, the index and its view drop cleanly.
        let dropped = try CaptureDatabase.dropEmailTables(path: path)
        #expect(dropped.contains("email_search") && dropped.contains("emails"))
    }
}

// The index lives in its own SQLite file, written by its own connection from a queue the store path
// fills (SearchIndex): storing never waits for it, search catches it up before answering, and the file is
// derived data that is rebuilt (resumably, in steps) when it is missing or belongs to another store.
@Suite("Search index in its own file")
struct SearchIndexFileTests {
    private func tempPath(_ name: String) -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        return (dir, dir.appendingPathComponent("crm.db").path)
    }

    @Test func storingNeverWaitsForTheIndexAndSearchCatchesUp() async throws {
        let (dir, path) = tempPath("search-lock")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try await SearchFirm.make(path: path, searchBatch: 2)
        let t = try await f.seed()
        let rm = try await f.readModel()
        #expect(try await f.db.checkSearchIndex() == 6)
        // Another connection holds the index file's write lock: mail is still stored at once (with the
        // index inside the store transaction, each store would wait out the 10 s busy timeout and fail).
        let lock = try CaptureDatabase.lockSearchIndexFile(databasePath: path)
        let started = Date()
        for n in 0..<5 {
            try await f.deliver(
                "late\(n)@harborline.vc", from: ana, to: [bob], subject: "Allocation follow-up \(n)", body: "Wire details \(n).",
                daysAgo: 1, thread: "L", in: [bob])
        }
        #expect(Date().timeIntervalSince(started) < 5)
        lock.release()
        // Search drains the queue first: everything stored before the query is found.
        let found = try await rm.search("wire", for: .operator, surface: .cli)
        #expect(found.results.count == 1 && found.results.first?.threadId != t.harborline)
        #expect(try await f.db.checkSearchIndex() == 11)
        // Applied queue rows are deleted by the next store: the queue does not grow with the mailbox.
        try await f.deliver("last@harborline.vc", from: ana, to: [bob], subject: "Last", body: "Done.", daysAgo: 0, in: [bob])
        #expect(try await f.db.searchQueueLength() <= 1)
    }

    @Test func aMissingOrForeignIndexFileIsRebuiltInSteps() async throws {
        let (dir, path) = tempPath("search-rebuild")
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = path + "-search"
        var before: [Int64] = []
        do {
            let f = try await SearchFirm.make(path: path, searchBatch: 2)
            _ = try await f.seed()
            before = threads(try await f.readModel().search("allocation", for: .operator, surface: .cli))
            #expect(before.count == 3)
            #expect(try await f.db.checkSearchIndex() == 6)
            try await f.db.closeFiles()
        }
        // Copied away (with its WAL) for the foreign-file case below, then removed.
        let (otherDir, otherPath) = tempPath("search-foreign")
        defer { try? FileManager.default.removeItem(at: otherDir) }
        try FileManager.default.createDirectory(at: otherDir, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: index + suffix) {
            try FileManager.default.copyItem(atPath: index + suffix, toPath: otherPath + "-search" + suffix)
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        // Reopened without its index file: rebuilt from every email, two at a time, same answers.
        do {
            let f = try await SearchFirm.make(path: path, searchBatch: 2)
            #expect(threads(try await f.readModel().search("allocation", for: .operator, surface: .cli)) == before)
            #expect(try await f.db.checkSearchIndex() == 6)
        }
        // Another store's index file next to a new, empty capture file: it has applied more of a queue
        // than this file has ever written, so it is emptied and rebuilt (nothing of the other store leaks).
        let other = try await SearchFirm.make(path: otherPath, searchBatch: 2)
        #expect(try await other.readModel().search("allocation", for: .operator, surface: .cli).results.isEmpty)
        #expect(try await other.db.checkSearchIndex() == 0)
        try await other.deliver("o1@harborline.vc", from: ana, to: [bob], subject: "Allocation", body: "New store.", daysAgo: 1, in: [bob])
        #expect(try await other.readModel().search("allocation", for: .operator, surface: .cli).results.count == 1)
        #expect(try await other.db.checkSearchIndex() == 1)
    }

    /// The database deleted and started again beside its old index file: the new queue may already be
    /// past the old index's position when the index is first read, so only the database's own id
    /// (migration 0016) tells the index is not its own.
    @Test func anIndexFileOfAnEarlierDatabaseAtThePathIsRebuilt() async throws {
        let (dir, path) = tempPath("search-restart")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let f = try await SearchFirm.make(path: path)
            try await f.deliver("old@harborline.vc", from: ana, to: [bob], subject: "Allocation", body: "Old store.", daysAgo: 2, in: [bob])
            #expect(try await f.db.checkSearchIndex() == 1)  // queue position 1
            try await f.db.closeFiles()
        }
        // The index file is kept aside while a new database at the path fills its queue well past 1.
        let index = path + "-search"
        try FileManager.default.moveItem(atPath: index, toPath: index + ".kept")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        do {
            let f = try await SearchFirm.make(path: path)
            for n in 0..<4 {
                try await f.deliver(
                    "new\(n)@quillstone.com", from: "carl@quillstone.com", to: [kim], subject: "Quarterly \(n)", body: "New store.",
                    daysAgo: 1, in: [kim])
            }
            try await f.db.closeFiles()
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        try FileManager.default.moveItem(atPath: index + ".kept", toPath: index)
        let f = try await SearchFirm.make(path: path)
        #expect(try await f.readModel().search("allocation", for: .operator, surface: .cli).results.isEmpty)
        #expect(try await f.db.checkSearchIndex() == 4)
    }

    @Test func concurrentStoresDeletionsAndDrainsEndInAgreement() async throws {
        let (dir, path) = tempPath("search-concurrent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try await SearchFirm.make(path: path, searchBatch: 3)
        _ = try await f.seed()
        // Two mailboxes storing at once (each store nudges the background drain), deletions in between.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for mailbox in [bob, kim] {
                group.addTask {
                    for n in 0..<30 {
                        try await f.deliver(
                            "c\(n)@harborline.vc", from: ana, to: [bob, kim], subject: "Round \(n)", body: "Body \(n) allocation.",
                            daysAgo: Double(n), thread: "C\(n)", in: [mailbox])
                        if n % 7 == 3 {
                            _ = try await f.db.markDeleted(
                                accountId: f.accounts[mailbox]!.id, gmailIds: [f.gmailId("c\(n - 1)@harborline.vc", mailbox)], at: now)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // c2, c9, c16, c23 were deleted in both mailboxes: out of the index; the other 26 and the seed's 6 in.
        #expect(try await f.db.checkSearchIndex() == 32)
        #expect(try await f.readModel().search("round", for: .operator, limit: 100, surface: .cli).results.count == 26)
    }
}
