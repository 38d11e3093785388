import CaptureParsing
import Foundation
import GRDB

/// One set of maintained relationship tables (`RelationshipIndex`): entries per (party, scope, message),
/// summaries per (party, scope), sums per (party, scope, month). Scope '' is the team as a whole, else a
/// teammate's mailbox (lowercased). The investors' ledger keys parties by investor id; the people's by
/// external address or domain. Table and column names are constants of this type, never input.
struct RelationshipLedger: Sendable {
    let entries: String
    let summary: String
    let months: String
    let party: String

    /// The statements the drain runs per entry, built once (a drain runs them hundreds of thousands of times).
    let deleteSQL: String, updateSQL: String, lastBySQL: String, threadSQL: String, insertSQL: String

    /// The month a window starts in is read through an index on `at` (investors: across all of them) or on
    /// (party, at) (people: a report reads a few parties); SQLite picks it from the same statement.
    init(entries: String, summary: String, months: String, party: String) {
        self.entries = entries
        self.summary = summary
        self.months = months
        self.party = party
        deleteSQL = "DELETE FROM \(entries) WHERE \(party) = ? AND scope = ? AND email_id = ?"
        updateSQL =
            "UPDATE \(entries) SET thread_id = ?, at = ?, dir = ?, weight = ?, credited = ? WHERE \(party) = ? AND scope = ? AND email_id = ?"
        lastBySQL = "UPDATE \(summary) SET last_by = ? WHERE \(party) = ? AND scope = ? AND last_email = ?"
        threadSQL = "SELECT 1 FROM \(entries) WHERE \(party) = ? AND scope = ? AND thread_id = ? LIMIT 1"
        insertSQL =
            "INSERT INTO \(entries) (\(party), scope, email_id, thread_id, at, dir, weight, credited) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    }

    static let investors = RelationshipLedger(
        entries: "email_rel_entries", summary: "email_rel_summary", months: "email_rel_months", party: "investor_id")
    static let people = RelationshipLedger(
        entries: "email_rel_people_entries", summary: "email_rel_people_summary", months: "email_rel_people_months", party: "party")

    struct Key: Hashable {
        var party: String
        var scope: String
    }

    struct Entry: Equatable {
        var thread: Int64
        var at: Double
        var dir: Int
        var weight: Double
        var credited: String?
        func sameFacts(_ o: Entry) -> Bool { thread == o.thread && at == o.at && dir == o.dir && weight == o.weight }
    }

    func reset(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM \(entries)")
        try db.execute(sql: "DELETE FROM \(summary)")
        try db.execute(sql: "DELETE FROM \(months)")
    }

    // MARK: - Maintenance

    /// What one drain batch changes: the (party, scope)s to recompute from their entries, and the summed
    /// effect of the entries it added to every other (party, scope) and month, written once per key at
    /// the end of the batch (a busy domain gains hundreds of entries in one batch).
    struct Batch {
        var recompute = Set<Key>()
        var summaries: [Key: Summary] = [:]
        var months: [MonthKey: Window] = [:]
        /// (party, scope, thread)s this batch has added an entry to (no need to ask the table again).
        var threads = Set<ThreadKey>()
    }

    struct ThreadKey: Hashable {
        var key: Key
        var thread: Int64
    }

    struct MonthKey: Hashable {
        var key: Key
        var month: Int
    }

    /// The entries the messages `ids` have now, by message (one read per batch).
    func entries(_ db: Database, of ids: [Int64]) throws -> [Int64: [Key: Entry]] {
        var out: [Int64: [Key: Entry]] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT email_id, \(party), scope, thread_id, at, dir, weight, credited FROM \(entries)
                WHERE email_id IN (SELECT value FROM json_each(?))
                """, arguments: [ReadModel.jsonArray(ids)])
        {
            out[r[0], default: [:]][Key(party: r[1], scope: r[2])] = Entry(thread: r[3], at: r[4], dir: r[5], weight: r[6], credited: r[7])
        }
        return out
    }

    /// Replaces one message's entries (`old`) with `new`: added entries are summed into the batch;
    /// (party, scope)s that lost or changed an entry are marked for recomputing.
    func apply(_ db: Database, _ id: Int64, old: [Key: Entry], new: [Key: Entry], into batch: inout Batch) throws {
        for (k, _) in old where new[k] == nil {
            try db.cachedStatement(sql: deleteSQL).execute(
                arguments: [k.party, k.scope, id])
            batch.recompute.insert(k)
        }
        for (k, n) in new {
            if let o = old[k] {
                if o == n { continue }
                try db.cachedStatement(sql: updateSQL).execute(arguments: [
                    n.thread, n.at, n.dir, n.weight, n.credited, k.party, k.scope, id,
                ])
                if o.sameFacts(n) {
                    // Only the credited teammate changed (another mailbox now holds it). The summary row
                    // already counts this message (it was derived in an earlier batch).
                    try db.cachedStatement(sql: lastBySQL)
                        .execute(arguments: [n.credited, k.party, k.scope, id])
                } else {
                    batch.recompute.insert(k)
                }
            } else {
                let threadNew =
                    try batch.threads.insert(ThreadKey(key: k, thread: n.thread)).inserted
                    && Bool.fetchOne(
                        db.cachedStatement(sql: threadSQL),
                        arguments: [k.party, k.scope, n.thread]) != true
                try db.cachedStatement(sql: insertSQL).execute(arguments: [
                    k.party, k.scope, id, n.thread, n.at, n.dir, n.weight, n.credited,
                ])
                guard !batch.recompute.contains(k) else { continue }
                batch.summaries[k, default: Summary.empty].add(id, n, threadNew: threadNew)
                batch.months[MonthKey(key: k, month: RelationshipIndex.month(n.at)), default: Window()].add(dir: n.dir, weight: n.weight)
            }
        }
    }

    /// Writes a batch: the summed additions of every (party, scope) not being recomputed, then the
    /// recomputed ones from their entries.
    func flush(_ db: Database, _ batch: Batch) throws {
        for (k, d) in batch.summaries where !batch.recompute.contains(k) {
            try db.cachedStatement(
                sql: """
                    INSERT INTO \(summary) (\(party), scope, first_at, last_at, last_email, last_by, last_in, last_out, n, n_in, n_out, threads)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(\(party), scope) DO UPDATE SET
                        first_at = MIN(first_at, excluded.first_at),
                        last_by = CASE WHEN excluded.last_at > last_at OR (excluded.last_at = last_at AND excluded.last_email > last_email)
                                       THEN excluded.last_by ELSE last_by END,
                        last_email = CASE WHEN excluded.last_at > last_at OR (excluded.last_at = last_at AND excluded.last_email > last_email)
                                          THEN excluded.last_email ELSE last_email END,
                        last_at = MAX(last_at, excluded.last_at),
                        last_in = CASE WHEN excluded.last_in IS NULL THEN last_in WHEN last_in IS NULL THEN excluded.last_in
                                       ELSE MAX(last_in, excluded.last_in) END,
                        last_out = CASE WHEN excluded.last_out IS NULL THEN last_out WHEN last_out IS NULL THEN excluded.last_out
                                        ELSE MAX(last_out, excluded.last_out) END,
                        n = n + excluded.n, n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out, threads = threads + excluded.threads
                    """
            ).execute(
                arguments: [k.party, k.scope, d.first, d.last, d.lastEmail, d.lastBy, d.lastIn, d.lastOut, d.n, d.nIn, d.nOut, d.threads])
        }
        for (mk, w) in batch.months where !batch.recompute.contains(mk.key) {
            try db.cachedStatement(
                sql: """
                    INSERT INTO \(months) (\(party), scope, month, n_in, n_out, w_in, w_out, w_cc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(\(party), scope, month) DO UPDATE SET n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out,
                        w_in = w_in + excluded.w_in, w_out = w_out + excluded.w_out, w_cc = w_cc + excluded.w_cc
                    """
            ).execute(arguments: [mk.key.party, mk.key.scope, mk.month, w.nIn, w.nOut, w.wIn, w.wOut, w.wCc])
        }
        for k in batch.recompute { try recompute(db, k) }
    }

    /// A (party, scope) whose entries lost or changed one: its summary and months from its entries,
    /// summed in memory and written once (a busy domain has thousands of entries).
    func recompute(_ db: Database, _ k: Key) throws {
        try db.execute(sql: "DELETE FROM \(summary) WHERE \(party) = ? AND scope = ?", arguments: [k.party, k.scope])
        try db.execute(sql: "DELETE FROM \(months) WHERE \(party) = ? AND scope = ?", arguments: [k.party, k.scope])
        let rows = try Row.fetchAll(
            db, sql: "SELECT email_id, thread_id, at, dir, weight, credited FROM \(entries) WHERE \(party) = ? AND scope = ?",
            arguments: [k.party, k.scope])
        guard !rows.isEmpty else { return }
        let s = Self.summarise(
            rows.map { r in (id: r[0] as Int64, e: Entry(thread: r[1], at: r[2], dir: r[3], weight: r[4], credited: r[5])) })
        try db.execute(
            sql: """
                INSERT INTO \(summary) (\(party), scope, first_at, last_at, last_email, last_by, last_in, last_out, n, n_in, n_out, threads)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [k.party, k.scope, s.first, s.last, s.lastEmail, s.lastBy, s.lastIn, s.lastOut, s.n, s.nIn, s.nOut, s.threads])
        var byMonth: [Int: Window] = [:]
        for r in rows {
            let at: Double = r[2]
            byMonth[RelationshipIndex.month(at), default: Window()].add(dir: r[3], weight: r[4])
        }
        for (month, w) in byMonth {
            try db.cachedStatement(
                sql: "INSERT INTO \(months) (\(party), scope, month, n_in, n_out, w_in, w_out, w_cc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [k.party, k.scope, month, w.nIn, w.nOut, w.wIn, w.wOut, w.wCc])
        }
    }

    // MARK: - Reading

    /// One party's reply-time medians per scope ('' for the team), from its entries (both sides) and
    /// their emails' Message-ID, In-Reply-To and References, leaving out `hidden`: what
    /// `RelationshipCalculator` computes for the same messages (its `replyMedians`, in the same order).
    /// Read per party, so only single-party reads (one investor, who-knows) show them.
    func replyMedians(_ db: Database, party p: String, hidden: Set<Int64>) throws -> [String: (theirs: Double?, ours: Double?)] {
        // Only inbound and outbound entries take part in replies; each email is read once for all its scopes.
        var perScope: [String: [(message: InteractionMessage, inbound: Bool?)]] = [:]
        var messages: [Int64: InteractionMessage] = [:]
        let decoder = JSONDecoder()
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT r.scope, r.email_id, r.at, r.dir, e.message_id, e.in_reply_to, e.reference_ids
                FROM \(entries) r JOIN emails e ON e.id = r.email_id
                WHERE r.\(party) = ? AND r.dir <> 0 ORDER BY r.email_id
                """, arguments: [p])
        {
            let id: Int64 = r[1]
            guard !hidden.contains(id) else { continue }
            let m: InteractionMessage
            if let known = messages[id] {
                m = known
            } else {
                let refs = (r[6] as String?).flatMap { try? decoder.decode([String].self, from: Data($0.utf8)) } ?? []
                m = InteractionMessage(
                    id: id, threadId: 0, at: Date(timeIntervalSince1970: r[2]), messageId: MessageIdentity.normalizedMessageID(r[4]),
                    inReplyTo: MessageIdentity.normalizedMessageID(r[5]), references: refs, from: nil, holders: [])
                messages[id] = m
            }
            let dir: Int = r[3]
            perScope[r[0], default: []].append((m, dir == 1))
        }
        return perScope.mapValues { RelationshipCalculator.replyMedians($0) }
    }

    /// Sums of one (party, scope) over a window.
    struct Window {
        var nIn = 0, nOut = 0
        var wIn = 0.0, wOut = 0.0, wCc = 0.0
        mutating func add(dir: Int, weight: Double) {
            switch dir {
            case 1: nIn += 1; wIn += weight
            case 2: nOut += 1; wOut += weight
            default: wCc += weight
            }
        }
    }

    struct Summary {
        var first: Double, last: Double, lastEmail: Int64, lastBy: String?, lastIn: Double?, lastOut: Double?
        var n: Int, nIn: Int, nOut: Int, threads: Int

        static let empty = Summary(
            first: .infinity, last: -.infinity, lastEmail: Int64.min, lastBy: nil, lastIn: nil, lastOut: nil, n: 0, nIn: 0, nOut: 0,
            threads: 0)

        /// One more entry (the latest contact: the later time, then the higher id).
        mutating func add(_ id: Int64, _ e: Entry, threadNew: Bool) {
            first = min(first, e.at)
            if e.at > last || (e.at == last && id > lastEmail) { (last, lastEmail, lastBy) = (e.at, id, e.credited) }
            n += 1
            if e.dir == 1 { nIn += 1; lastIn = max(lastIn ?? e.at, e.at) }
            if e.dir == 2 { nOut += 1; lastOut = max(lastOut ?? e.at, e.at) }
            if threadNew { threads += 1 }
        }
    }

    /// The summary of a (party, scope) from its entries.
    static func summarise(_ entries: [(id: Int64, e: Entry)]) -> Summary {
        var s = Summary.empty
        var threads = Set<Int64>()
        for (id, e) in entries { s.add(id, e, threadNew: threads.insert(e.thread).inserted) }
        return s
    }

    /// The figures `RelationshipCalculator` computes for one (party, scope), from its summary and its
    /// three windows (medians of reply times are not kept: nil).
    static func figures(_ s: Summary, w30: Window, w90: Window, w365: Window, now: Date) -> RelationshipFigures {
        var f = RelationshipFigures()
        f.firstContactAt = Date(timeIntervalSince1970: s.first)
        f.lastContactAt = Date(timeIntervalSince1970: s.last)
        f.lastInboundAt = s.lastIn.map { Date(timeIntervalSince1970: $0) }
        f.lastOutboundAt = s.lastOut.map { Date(timeIntervalSince1970: $0) }
        f.messagesIn = s.nIn
        f.messagesOut = s.nOut
        f.messagesIn30 = w30.nIn
        f.messagesOut30 = w30.nOut
        f.messagesIn90 = w90.nIn
        f.messagesOut90 = w90.nOut
        f.messagesIn365 = w365.nIn
        f.messagesOut365 = w365.nOut
        f.interactions = s.n
        f.threads = s.threads
        let days = now.timeIntervalSince(Date(timeIntervalSince1970: s.last)) / 86_400
        f.strength = RelationshipCalculator.strength(
            daysSinceLastContact: days, weightedInbound: w365.wIn, weightedOutbound: w365.wOut, weightedCopied: w365.wCc)
        f.grade = RelationshipCalculator.grade(f.strength)
        f.lastContactBy = s.lastBy
        return f
    }

    /// The entries of the month a window starts in (from :cut to :end), with the party and scope conditions.
    func windowEntriesSQL(_ conditions: String) -> String {
        "SELECT \(party), scope, dir, weight FROM \(entries) WHERE at >= :cut AND at < :end\(conditions)"
    }

    /// The condition on a list of parties (bound as :parties).
    func partiesClause() -> String { " AND \(party) IN (SELECT value FROM json_each(:parties))" }

    /// Team and per-teammate figures (only the team's with `teamOnly`) of every party — or of `parties` —
    /// with an interaction `hidden` leaves visible, as of `now`.
    func figures(
        _ db: Database, now: Date, hidden: Set<Int64>, parties: [String]?, teamOnly: Bool = false
    ) throws -> [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] {
        if let parties, parties.isEmpty { return [:] }
        let day = 86_400.0
        let cuts = [30.0, 90.0, 365.0].map { now.timeIntervalSince1970 - $0 * day }
        let partyList = parties.map { ReadModel.jsonArray($0) }
        // Conditions on the party and the scope (constants; the party list is bound as :parties).
        let partyClause = partyList == nil ? "" : partiesClause()
        let scopeClause = teamOnly ? " AND scope = ''" : ""
        var touched = Set<String>()
        if !hidden.isEmpty {
            touched = Set(
                try String.fetchAll(
                    db,
                    sql: "SELECT DISTINCT \(party) FROM \(entries) WHERE email_id IN (SELECT value FROM json_each(:hidden))\(partyClause)",
                    arguments: StatementArguments(["hidden": ReadModel.jsonArray(hidden), "parties": partyList])))
        }
        var summaries: [Key: Summary] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT \(party), scope, first_at, last_at, last_email, last_by, last_in, last_out, n, n_in, n_out, threads
                FROM \(summary) WHERE 1\(partyClause)\(scopeClause)
                """, arguments: StatementArguments(["parties": partyList]))
        {
            let k = Key(party: r[0], scope: r[1])
            guard !touched.contains(k.party) else { continue }
            summaries[k] = Summary(
                first: r[2], last: r[3], lastEmail: r[4], lastBy: r[5], lastIn: r[6], lastOut: r[7], n: r[8], nIn: r[9], nOut: r[10],
                threads: r[11])
        }
        var windows: [[Key: Window]] = [[:], [:], [:]]
        for (w, cut) in cuts.enumerated() {
            let m = RelationshipIndex.month(cut)
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT \(party), scope, SUM(n_in), SUM(n_out), SUM(w_in), SUM(w_out), SUM(w_cc) FROM \(months)
                    WHERE month > :m\(partyClause)\(scopeClause) GROUP BY \(party), scope
                    """, arguments: StatementArguments(["m": m, "parties": partyList]))
            {
                windows[w][Key(party: r[0], scope: r[1])] = Window(nIn: r[2], nOut: r[3], wIn: r[4], wOut: r[5], wCc: r[6])
            }
            for r in try Row.fetchAll(
                db, sql: windowEntriesSQL(partyClause + scopeClause),
                arguments: StatementArguments(["cut": cut, "end": RelationshipIndex.monthStart(m + 1), "parties": partyList]))
            {
                windows[w][Key(party: r[0], scope: r[1]), default: Window()].add(dir: r[2], weight: r[3])
            }
        }
        var out: [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] = [:]
        for (k, s) in summaries where k.scope.isEmpty && s.n > 0 {
            out[k.party] = (
                Self.figures(s, w30: windows[0][k] ?? Window(), w90: windows[1][k] ?? Window(), w365: windows[2][k] ?? Window(), now: now),
                [:]
            )
        }
        for (k, s) in summaries where !k.scope.isEmpty && s.n > 0 {
            guard out[k.party] != nil else { continue }
            out[k.party]!.byTeammate[k.scope] = Self.figures(
                s, w30: windows[0][k] ?? Window(), w90: windows[1][k] ?? Window(), w365: windows[2][k] ?? Window(), now: now)
        }
        // Parties the viewer's hidden messages touch: from their entries, without those messages.
        for p in touched {
            var perScope: [String: [(id: Int64, e: Entry)]] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT scope, email_id, thread_id, at, dir, weight, credited FROM \(entries) WHERE \(party) = ?\(scopeClause)",
                arguments: [p])
            {
                let id: Int64 = r[1]
                guard !hidden.contains(id) else { continue }
                perScope[r[0], default: []].append((id, Entry(thread: r[2], at: r[3], dir: r[4], weight: r[5], credited: r[6])))
            }
            var byScope: [String: RelationshipFigures] = [:]
            for (scope, list) in perScope where !list.isEmpty {
                var ws = [Window(), Window(), Window()]
                for (_, e) in list { for (w, cut) in cuts.enumerated() where e.at >= cut { ws[w].add(dir: e.dir, weight: e.weight) } }
                byScope[scope] = Self.figures(Self.summarise(list), w30: ws[0], w90: ws[1], w365: ws[2], now: now)
            }
            if let team = byScope.removeValue(forKey: "") { out[p] = (team, byScope) }
        }
        return out
    }
}
