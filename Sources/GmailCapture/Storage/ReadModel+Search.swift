import CaptureParsing
import Foundation
import GRDB

/// One thread found by a search, built only from what the viewer may see.
public struct SearchResult: Codable, Sendable, Equatable {
    public var threadId: Int64
    /// The thread's subject as the viewer may see it (nil when only metadata is visible).
    public var subject: String?
    /// The date of its latest visible message.
    public var lastAt: String?
    /// The best-matching visible message, named as in thread objects' `messageIds`.
    public var matchedMessageId: String?
    /// Text around the match, each matched word between « and »; only from fields the viewer may see
    /// (empty when the match is on a field with no text to show, or the message is metadata only).
    public var snippet: String
    public var mailboxes: [String]
    public var investorIds: [String]

    enum CodingKeys: String, CodingKey { case threadId, subject, lastAt, matchedMessageId, snippet, mailboxes, investorIds }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(threadId, forKey: .threadId)
        try c.encode(subject, forKey: .subject)
        try c.encode(lastAt, forKey: .lastAt)
        try c.encode(matchedMessageId, forKey: .matchedMessageId)
        try c.encode(snippet, forKey: .snippet)
        try c.encode(mailboxes, forKey: .mailboxes)
        try c.encode(investorIds, forKey: .investorIds)
    }
}

/// A page of search results; `nextCursor` (opaque) fetches the next, nil on the last page.
public struct SearchPage: Codable, Sendable, Equatable {
    public var results: [SearchResult]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey { case results, nextCursor }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(results, forKey: .results)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

extension ReadModel {
    /// Searches captured mail as `viewer` (README "Search" has the query language). Visibility is
    /// applied inside the query: a message the viewer sees only at `metadata` level matches on its
    /// participants, dates, investors and holders, never on its subject, body, filenames or attachments;
    /// at `subject` level on the subject too, never the body. Exclusions likewise look only at what the
    /// viewer may see. Results are threads ordered by their best-matching visible message (by BM25 when
    /// the query has words, else newest first), each with a snippet from that message's visible fields.
    /// A snippet of another teammate's message at subject or full level is written to the access log.
    /// The index is first brought up to date with everything already stored (`SearchIndex`).
    public func search(
        _ text: String, for viewer: Viewer, limit: Int = 20, cursor: String? = nil, surface: ReadSurface
    ) async throws -> SearchPage {
        let query = try SearchQuery.parse(text)
        guard (1...100).contains(limit) else { throw SearchQueryError.badLimit(limit) }
        let stamp = Self.cursorStamp(text, viewer)
        let offset = try cursor.map { c throws(SearchQueryError) in try Self.decodeCursor(c, stamp: stamp) } ?? 0
        // Everything stored before the query is in the index before it answers.
        try await database.catchUpSearchIndex()
        let found = try await database.writer.read { db in
            try searchThreads(db, query, viewer: viewer, want: offset + limit + 1)
        }
        let page = Array(found.dropFirst(offset).prefix(limit))
        let results = try await database.writer.read { db in
            try page.map { try result(db, $0, query: query, viewer: viewer) }
        }
        try await logSnippetReads(page, viewer: viewer, surface: surface)
        return SearchPage(
            results: results,
            nextCursor: found.count > offset + limit ? Self.encodeCursor(offset + limit, stamp: stamp) : nil)
    }

    /// A thread's best-matching visible message.
    struct SearchHit: Sendable {
        var email: Int64
        var thread: Int64
        var level: SharingLevel
        var mine: Bool
    }

    /// Up to `want` threads, in order, each with its best-matching visible message.
    ///
    /// One candidate stream per visibility level (the operator: full only), each ordered in SQL (BM25,
    /// or newest first) and read a page at a time; the streams are merged in that order, and each
    /// candidate counts only at the level it is visible at for this viewer (checked a batch at a time
    /// with the visibility rules). A level's stream is limited up front to mail some owner could show at
    /// that level (the viewer's own mailbox for full; owners whose sharing level, capped by the firm
    /// ceiling, or whose shared marks reach it; never the viewer's own mail below full), so candidates
    /// that could never count are not read at all. That prefilter only narrows: the visibility check decides.
    func searchThreads(_ db: Database, _ query: SearchQuery, viewer: Viewer, want: Int) throws -> [SearchHit] {
        var streams: [CandidateStream] = []
        if let me = viewer.email {
            let owners = try Self.potentialOwners(db, viewer: me, policy: policy)
            for level in [SharingLevel.full, .subject, .metadata] {
                guard let plan = query.plan(at: level) else { continue }
                let accounts = owners.accounts(reaching: level)
                guard !accounts.isEmpty else { continue }
                let (sql, arguments) = Self.candidateSQL(
                    plan, ranked: query.ranked, holders: accounts, notHeldBy: level == .full ? nil : owners.viewerAccount)
                streams.append(CandidateStream(level: level, sql: sql, arguments: arguments))
            }
        } else if let plan = query.plan(at: .full) {
            let (sql, arguments) = Self.candidateSQL(plan, ranked: query.ranked, holders: nil, notHeldBy: nil)
            streams.append(CandidateStream(level: .full, sql: sql, arguments: arguments))
        }
        let ranked = query.ranked
        func before(_ a: Candidate, _ b: Candidate) -> Bool {
            ranked ? (a.score, b.id) < (b.score, a.id) : (a.time, a.id) > (b.time, b.id)
        }
        var known: [Int64: (level: Int, mine: Bool)] = [:]
        var seenThreads = Set<Int64>()
        var hits: [SearchHit] = []
        while hits.count < want {
            // The next batch of candidates in merged order.
            var batch: [Candidate] = []
            while batch.count < 128 {
                for i in streams.indices where streams[i].buffer.isEmpty { try streams[i].refill(db) }
                guard
                    let best = streams.indices.filter({ !streams[$0].buffer.isEmpty }).min(by: {
                        before(streams[$0].head, streams[$1].head)
                    })
                else { break }
                batch.append(streams[best].pop())
            }
            if batch.isEmpty { break }
            if let me = viewer.email {
                let unknown = Set(batch.map(\.id)).filter { known[$0] == nil }
                if !unknown.isEmpty {
                    let ids = Self.jsonArray(unknown)
                    for row in try Row.fetchAll(
                        db, sql: Self.visibleSQL(.ids) + " SELECT email_id, lvl, mine FROM visible",
                        arguments: StatementArguments(arguments(me, ids: ids)))
                    {
                        known[row[0]] = (row[1], row[2])
                    }
                }
            }
            for c in batch {
                let seen = viewer == .operator ? (level: 3, mine: true) : known[c.id] ?? (0, false)
                guard seen.level == c.level.rank, !seenThreads.contains(c.thread) else { continue }
                seenThreads.insert(c.thread)
                hits.append(SearchHit(email: c.id, thread: c.thread, level: c.level, mine: seen.mine))
                if hits.count == want { break }
            }
        }
        return hits
    }

    struct Candidate {
        var id: Int64
        var thread: Int64
        var score: Double
        var time: String
        var level: SharingLevel
    }

    /// One level's candidates, read from SQL a page at a time (pages double).
    struct CandidateStream {
        let level: SharingLevel
        let sql: String
        let arguments: StatementArguments
        var buffer: [Candidate] = []
        var offset = 0
        var pageSize = 200
        var exhausted = false

        init(level: SharingLevel, sql: String, arguments: StatementArguments) {
            self.level = level
            self.sql = sql
            self.arguments = arguments
        }

        var head: Candidate { buffer[buffer.count - 1] }
        mutating func pop() -> Candidate { buffer.removeLast() }

        mutating func refill(_ db: Database) throws {
            guard !exhausted else { return }
            var args = arguments
            args += [pageSize, offset]
            let rows = try Row.fetchAll(db, sql: sql + " LIMIT ? OFFSET ?", arguments: args)
            // Kept reversed, so the best is last and popped in O(1).
            var threads: [Int64: Int64] = [:]
            if rows.contains(where: { $0[1] == nil }) {
                let ids = ReadModel.jsonArray(rows.map { $0[0] as Int64 })
                for r in try Row.fetchAll(
                    db, sql: "SELECT id, thread_id FROM emails WHERE id IN (SELECT value FROM json_each(?))", arguments: [ids])
                {
                    threads[r[0]] = r[1]
                }
            }
            buffer = rows.reversed().map {
                let id: Int64 = $0[0]
                return Candidate(id: id, thread: $0[1] ?? threads[id] ?? 0, score: $0[2] ?? 0, time: $0[3] ?? "", level: level)
            }
            offset += rows.count
            exhausted = rows.count < pageSize
            pageSize *= 2
        }
    }

    /// Whose mail could reach each level for a viewer, before the per-message rules (marks, internal
    /// mail, the most generous owner) decide.
    struct PotentialOwners {
        var viewerAccount: Int64?
        /// Each account's highest possible level for the viewer.
        var reach: [Int64: SharingLevel]

        func accounts(reaching level: SharingLevel) -> [Int64] {
            reach.filter { $0.value >= level }.map(\.key).sorted()
        }
    }

    static func potentialOwners(_ db: Database, viewer: String, policy: VisibilityPolicy) throws -> PotentialOwners {
        var levels: [String: SharingLevel] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT teammate, level FROM email_sharing_levels") {
            if let l = SharingLevel(rawValue: row[1]) { levels[(row[0] as String).lowercased()] = l }
        }
        let shared = Set(
            try String.fetchAll(db, sql: "SELECT DISTINCT lower(teammate) FROM email_privacy_marks WHERE mode = 'shared'"))
        var out = PotentialOwners(viewerAccount: nil, reach: [:])
        for row in try Row.fetchAll(db, sql: "SELECT id, email FROM email_accounts") {
            let id: Int64 = row[0]
            let email = (row[1] as String).lowercased()
            if email == viewer.lowercased() { out.viewerAccount = id }
            // The most this owner's mail can show: the policy's own rule for a message only they hold,
            // with a shared mark assumed wherever they have one (marks can only raise it, to the ceiling).
            out.reach[id] =
                policy.visibility(
                    viewer: .teammate(viewer), owners: [email], isInternal: false, level: { levels[$0] },
                    mark: { shared.contains($0) ? .shared : nil }) ?? .metadata
        }
        return out
    }

    /// The candidates of one level: id, thread, BM25 score (or 0), time. Every value is bound.
    /// The candidates of one level, best first: id, thread (NULL when the emails table was not needed;
    /// filled in per page), BM25 score (or 0), time. With words and no date condition the full-text
    /// table is read alone (joining every match to `emails` costs more than the ranking). Every value is bound.
    static func candidateSQL(
        _ plan: SearchQuery.Plan, ranked: Bool, holders: [Int64]?, notHeldBy: Int64?
    ) -> (String, StatementArguments) {
        // Without words, investor, teammate and attachment conditions are `id IN (subquery)`, so SQLite
        // drives from them (an investor's links, a teammate's mailbox) instead of testing every email.
        // With words the full-text match must drive (a rowid list driving it re-runs the match per row),
        // so they are per-row tests; so is the holders prefilter (as a list it would hold nearly every sighting).
        var arguments = StatementArguments()
        var conditions: [String] = []
        let time =
            "COALESCE(e.sent_at, (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', MIN(g.internal_date) / 1000.0, 'unixepoch') FROM email_sightings g WHERE g.email_id = e.id))"
        let needsEmails =
            !ranked
            || plan.filters.contains {
                switch $0.filter {
                case .after, .before: return true
                default: return false
                }
            }
        var sql: String
        let key: String
        if let match = plan.match {
            let score = ranked ? "bm25(email_search, \(plan.weights.map { String($0) }.joined(separator: ", ")))" : "0"
            if needsEmails {
                key = "e.id"
                sql = "SELECT e.id, e.thread_id, \(score), \(time) FROM email_search JOIN emails e ON e.id = email_search.rowid"
            } else {
                key = "email_search.rowid"
                sql = "SELECT email_search.rowid, NULL, \(score), '' FROM email_search"
            }
            conditions.append("email_search MATCH ?")
            arguments += [match]
        } else {
            key = "e.id"
            sql = "SELECT e.id, e.thread_id, 0, \(time) FROM emails e"
            conditions.append("EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = e.id AND g.deleted_at IS NULL)")
        }
        if let holders {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM email_sightings h WHERE h.email_id = \(key) AND h.deleted_at IS NULL
                    AND h.account_id IN (SELECT value FROM json_each(?)))
                """)
            arguments += [Self.jsonArray(holders)]
        }
        if let notHeldBy {
            conditions.append(
                "NOT EXISTS (SELECT 1 FROM email_sightings h WHERE h.email_id = \(key) AND h.deleted_at IS NULL AND h.account_id = ?)")
            arguments += [notHeldBy]
        }
        if let exclude = plan.exclude {
            conditions.append("\(key) NOT IN (SELECT rowid FROM email_search WHERE email_search MATCH ?)")
            arguments += [exclude]
        }
        for part in plan.filters {
            let not = part.negated ? "NOT " : ""
            switch part.filter {
            case .investor(let id):
                conditions.append(
                    plan.match == nil
                        ? "\(key) \(not)IN (SELECT l.email_id FROM email_investor_links l WHERE l.investor_id = ?)"
                        : "\(not)EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = \(key) AND l.investor_id = ?)")
                arguments += [id]
            case .domain(let d):
                conditions.append(
                    """
                    \(not)EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = \(key) AND p.role IN ('from', 'to', 'cc')
                        AND substr(COALESCE(p.address_canonical, ''), -length(?) - 1) IN ('@' || ?, '.' || ?))
                    """)
                arguments += [d, d, d]
            case .teammate(let address):
                conditions.append(
                    """
                    \(plan.match == nil ? "\(key) \(not)IN (SELECT g.email_id" : "\(not)EXISTS (SELECT 1") FROM email_sightings g
                        JOIN email_accounts a ON a.id = g.account_id
                        WHERE \(plan.match == nil ? "" : "g.email_id = \(key) AND ")g.deleted_at IS NULL AND a.email = ? COLLATE NOCASE)
                    """)
                arguments += [address]
            case .after(let day):
                conditions.append("\(time) >= ?")
                arguments += [day]
            case .before(let day):
                conditions.append("\(time) < ?")
                arguments += [day]
            case .hasAttachment:
                conditions.append(
                    plan.match == nil
                        ? "\(key) \(not)IN (SELECT t.email_id FROM email_attachments t WHERE t.inline = 0)"
                        : "\(not)EXISTS (SELECT 1 FROM email_attachments t WHERE t.email_id = \(key) AND t.inline = 0)")
            }
        }
        sql += " WHERE " + conditions.joined(separator: " AND ")
        sql += ranked ? " ORDER BY 3 ASC, 1 DESC" : " ORDER BY 4 DESC, 1 DESC"
        return (sql, arguments)
    }

    /// A hit as the viewer may see it.
    func result(_ db: Database, _ hit: SearchHit, query: SearchQuery, viewer: Viewer) throws -> SearchResult {
        let summary: CaptureDatabase.ThreadSummary
        if viewer == .operator {
            let row = try Row.fetchOne(db, sql: "SELECT * FROM email_threads WHERE id = ?", arguments: [hit.thread])!
            summary = try CaptureDatabase.summary(db, row)
        } else {
            summary = try Self.summary(db, threadId: hit.thread, visible: levels(db, viewer, thread: hit.thread))
        }
        return SearchResult(
            threadId: hit.thread, subject: summary.subject, lastAt: summary.lastAt,
            matchedMessageId: try Self.listedId(db, emailId: hit.email),
            snippet: try snippet(db, hit, query: query), mailboxes: summary.mailboxes, investorIds: summary.investorIds)
    }

    /// The text around the match in the first visible field that has it (body, subject, filenames, sender,
    /// recipients in that order); without a match to show, the start of what the level shows.
    func snippet(_ db: Database, _ hit: SearchHit, query: SearchQuery) throws -> String {
        let visible = SearchQuery.Field.visible(at: hit.level)
        let order: [SearchQuery.Field] = [.body, .subject, .filenames, .sender, .recipients].filter { visible.contains($0) }
        if let expression = query.plan(at: hit.level)?.highlight {
            for field in order {
                if let s = try String.fetchOne(
                    db,
                    sql:
                        "SELECT snippet(email_search, \(field.column), '«', '»', '…', 24) FROM email_search WHERE email_search MATCH ? AND rowid = ?",
                    arguments: [expression, hit.email]), s.contains("«")
                {
                    return Self.oneLine(s)
                }
            }
        }
        switch hit.level {
        case .full:
            let row = try Row.fetchOne(db, sql: "SELECT snippet, text_body FROM emails WHERE id = ?", arguments: [hit.email])
            let text = (row?["snippet"] as String?) ?? (row?["text_body"] as String?) ?? ""
            return Self.oneLine(String(text.prefix(200)))
        case .subject:
            return Self.oneLine(try String.fetchOne(db, sql: "SELECT subject FROM emails WHERE id = ?", arguments: [hit.email]) ?? "")
        case .metadata:
            return ""
        }
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Snippets of other teammates' messages shown at subject or full level are reads: one access-log
    /// entry per owner, with the surface.
    func logSnippetReads(_ hits: [SearchHit], viewer: Viewer, surface: ReadSurface) async throws {
        guard let me = viewer.email else { return }
        let shown = hits.filter { !$0.mine && $0.level >= .subject }
        guard !shown.isEmpty else { return }
        let now = CaptureDatabase.isoString(clock.now())
        try await database.writer.write { db in
            for hit in shown {
                let owners = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT a.email FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id
                        WHERE s.email_id = ? AND s.deleted_at IS NULL ORDER BY a.email
                        """, arguments: [hit.email])
                try Self.logRead(
                    db, viewer: me, owners: owners, emailId: hit.email, messageId: try Self.listedId(db, emailId: hit.email),
                    level: hit.level, surface: surface, at: now)
            }
        }
    }

    // MARK: - Cursors

    /// Ties a cursor to its query and viewer, so a cursor from another query is refused, not misread.
    static func cursorStamp(_ text: String, _ viewer: Viewer) -> String {
        String(sha256Hex(Data((text + "\u{0}" + (viewer.email?.lowercased() ?? "")).utf8)).prefix(12))
    }

    static func encodeCursor(_ offset: Int, stamp: String) -> String {
        Data("s1:\(offset):\(stamp)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String, stamp: String) throws(SearchQueryError) -> Int {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8) else { throw .badCursor }
        let parts = text.split(separator: ":")
        guard parts.count == 3, parts[0] == "s1", let offset = Int(parts[1]), offset >= 0, offset <= 100_000, parts[2] == stamp
        else { throw .badCursor }
        return offset
    }
}
