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
    public func search(
        _ text: String, for viewer: Viewer, limit: Int = 20, cursor: String? = nil, surface: ReadSurface
    ) async throws -> SearchPage {
        let query = try SearchQuery.parse(text)
        guard (1...100).contains(limit) else { throw SearchQueryError.badLimit(limit) }
        let stamp = Self.cursorStamp(text, viewer)
        let offset = try cursor.map { c throws(SearchQueryError) in try Self.decodeCursor(c, stamp: stamp) } ?? 0
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
    func searchThreads(_ db: Database, _ query: SearchQuery, viewer: Viewer, want: Int) throws -> [SearchHit] {
        struct Candidate { var id: Int64; var thread: Int64; var score: Double; var time: String; var level: SharingLevel }
        let levels: [SharingLevel] = viewer == .operator ? [.full] : [.full, .subject, .metadata]
        var candidates: [Candidate] = []
        for level in levels {
            guard let plan = query.plan(at: level) else { continue }
            let (sql, arguments) = Self.candidateSQL(plan, ranked: query.ranked)
            for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                candidates.append(Candidate(id: row[0], thread: row[1], score: row[2] ?? 0, time: row[3] ?? "", level: level))
            }
        }
        if query.ranked {
            candidates.sort { ($0.score, $1.id) < ($1.score, $0.id) }
        } else {
            candidates.sort { ($0.time, $0.id) > ($1.time, $1.id) }
        }
        // Walk in order, learning each candidate's level for this viewer a chunk at a time; a candidate
        // counts only at the level it is visible at (its row at another level matched other fields).
        var known: [Int64: (level: Int, mine: Bool)] = [:]
        var seenThreads = Set<Int64>()
        var hits: [SearchHit] = []
        var chunk = 256
        var next = 0
        while next < candidates.count, hits.count < want {
            let end = min(candidates.count, next + chunk)
            if let me = viewer.email {
                let unknown = Set(candidates[next..<end].map(\.id)).filter { known[$0] == nil }
                if !unknown.isEmpty {
                    let ids = "[" + unknown.map(String.init).joined(separator: ",") + "]"
                    for row in try Row.fetchAll(
                        db, sql: Self.visibleSQL + " SELECT email_id, lvl, mine FROM visible",
                        arguments: StatementArguments(arguments(me, ids: ids)))
                    {
                        known[row[0]] = (row[1], row[2])
                    }
                }
            }
            for c in candidates[next..<end] {
                let seen = viewer == .operator ? (level: 3, mine: true) : known[c.id] ?? (0, false)
                guard seen.level == c.level.rank, !seenThreads.contains(c.thread) else { continue }
                seenThreads.insert(c.thread)
                hits.append(SearchHit(email: c.id, thread: c.thread, level: c.level, mine: seen.mine))
                if hits.count == want { break }
            }
            next = end
            chunk *= 4
        }
        return hits
    }

    /// The candidates of one level: id, thread, BM25 score (or 0), time. Every value is bound.
    static func candidateSQL(_ plan: SearchQuery.Plan, ranked: Bool) -> (String, StatementArguments) {
        var arguments = StatementArguments()
        var conditions: [String] = []
        let time =
            "COALESCE(e.sent_at, (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', MIN(g.internal_date) / 1000.0, 'unixepoch') FROM email_sightings g WHERE g.email_id = e.id))"
        var sql: String
        if let match = plan.match {
            let score = ranked ? "bm25(email_search, \(plan.weights.map { String($0) }.joined(separator: ", ")))" : "0"
            sql = "SELECT e.id, e.thread_id, \(score), \(time) FROM email_search JOIN emails e ON e.id = email_search.rowid"
            conditions.append("email_search MATCH ?")
            arguments += [match]
        } else {
            sql = "SELECT e.id, e.thread_id, 0, \(time) FROM emails e"
            conditions.append("EXISTS (SELECT 1 FROM email_sightings g WHERE g.email_id = e.id AND g.deleted_at IS NULL)")
        }
        if let exclude = plan.exclude {
            conditions.append("e.id NOT IN (SELECT rowid FROM email_search WHERE email_search MATCH ?)")
            arguments += [exclude]
        }
        for (filter, negated) in plan.filters {
            let not = negated ? "NOT " : ""
            switch filter {
            case .investor(let id):
                conditions.append("\(not)EXISTS (SELECT 1 FROM email_investor_links l WHERE l.email_id = e.id AND l.investor_id = ?)")
                arguments += [id]
            case .domain(let d):
                conditions.append(
                    """
                    \(not)EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = e.id AND p.role IN ('from', 'to', 'cc')
                        AND substr(COALESCE(p.address_canonical, ''), -length(?) - 1) IN ('@' || ?, '.' || ?))
                    """)
                arguments += [d, d, d]
            case .teammate(let address):
                conditions.append(
                    """
                    \(not)EXISTS (SELECT 1 FROM email_sightings g JOIN email_accounts a ON a.id = g.account_id
                        WHERE g.email_id = e.id AND g.deleted_at IS NULL AND a.email = ? COLLATE NOCASE)
                    """)
                arguments += [address]
            case .after(let day):
                conditions.append("\(time) >= ?")
                arguments += [day]
            case .before(let day):
                conditions.append("\(time) < ?")
                arguments += [day]
            case .hasAttachment:
                conditions.append("\(not)EXISTS (SELECT 1 FROM email_attachments t WHERE t.email_id = e.id AND t.inline = 0)")
            }
        }
        sql += " WHERE " + conditions.joined(separator: " AND ")
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
        let mid = try String.fetchOne(
            db, sql: "SELECT COALESCE(message_id, canonical_key) FROM emails WHERE id = ?", arguments: [hit.email])
        return SearchResult(
            threadId: hit.thread, subject: summary.subject, lastAt: summary.lastAt,
            matchedMessageId: mid.map { $0.hasPrefix("<") && $0.hasSuffix(">") ? String($0.dropFirst().dropLast()) : $0 },
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
                let mid =
                    try String.fetchOne(
                        db, sql: "SELECT COALESCE(message_id, canonical_key) FROM emails WHERE id = ?", arguments: [hit.email]) ?? ""
                let listed = mid.hasPrefix("<") && mid.hasSuffix(">") ? String(mid.dropFirst().dropLast()) : mid
                for owner in try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT a.email FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id
                        WHERE s.email_id = ? AND s.deleted_at IS NULL ORDER BY a.email
                        """, arguments: [hit.email])
                {
                    try db.execute(
                        sql:
                            "INSERT INTO email_access_log (viewer, owner, email_id, message_id, level, surface, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        arguments: [me, owner, hit.email, listed, hit.level.rawValue, surface.rawValue, now])
                }
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
