import CaptureParsing
import Foundation
import GRDB

/// Investor relationship figures kept up to date as mail is stored, deleted and rematched, so the
/// investors report reads a few hundred rows instead of every message (issue #14).
///
/// - Triggers queue every message whose mailbox copies change (`email_rel_dirty`, migration 0013).
/// - `drain` derives each queued message's entries with `RelationshipCalculator.contributions` (the rules
///   the per-query path uses) and updates the per-(investor, scope) summaries and monthly sums: an added
///   entry in O(1); a removed or changed one recomputes only its (investor, scope). When the investors,
///   the teammates or the workspace domain change, everything is derived again.
/// - `investors` finishes the clock-dependent figures (30/90/365-day windows, strength) from the monthly
///   sums plus the entries of the month a window starts in, and recomputes from entries only the
///   investors that the viewer's hidden messages (teammates' private marks) touch.
struct RelationshipIndex {
    struct Party {
        var id: String
        var name: String
        var addresses: Set<String>
    }

    let teammates: Set<String>
    let investors: [Party]
    let workspaceDomain: String?
    let calculator: RelationshipCalculator

    static let metaKey = "relationship_index"
    static let batch = 2_000

    init(teammates: Set<String>, investors: [Investor], workspaceDomain: String?) {
        self.teammates = Set(teammates.map { $0.lowercased() })
        self.workspaceDomain = workspaceDomain
        self.investors = investors.compactMap { inv in
            let addresses = Set(
                inv.emails.compactMap { AddressNormalizer.canonical($0) }.filter { a in
                    workspaceDomain.map { !AddressNormalizer.isAt(a, domain: $0) } ?? true
                })
            return addresses.isEmpty ? nil : Party(id: inv.id, name: inv.name, addresses: addresses)
        }.sorted { $0.id < $1.id }
        // Only `contributions` is used, which does not depend on the clock.
        calculator = RelationshipCalculator(teammates: self.teammates, now: Date(timeIntervalSince1970: 0))
    }

    /// What the entries were derived for: a change means deriving everything again.
    var fingerprint: String {
        var parts = ["v1", workspaceDomain ?? "", teammates.sorted().joined(separator: ",")]
        for p in investors { parts.append(p.id + "=" + p.addresses.sorted().joined(separator: ",")) }
        return sha256Hex(Data(parts.joined(separator: "\n").utf8))
    }

    // MARK: - Months

    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// year × 12 + month − 1 (UTC).
    static func month(_ at: Double) -> Int {
        let c = calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: at))
        return c.year! * 12 + c.month! - 1
    }

    /// The first instant of a month index (Unix seconds).
    static func monthStart(_ month: Int) -> Double {
        let year = month >= 0 ? month / 12 : (month - 11) / 12
        let m = month - year * 12 + 1
        return calendar.date(from: DateComponents(year: year, month: m, day: 1))!.timeIntervalSince1970
    }

    // MARK: - Maintenance

    struct Key: Hashable {
        var investor: String
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

    /// Derives the entries of every queued message; returns how many messages it looked at.
    @discardableResult
    func drain(_ db: Database) throws -> Int {
        let fp = fingerprint
        if try String.fetchOne(db, sql: "SELECT value FROM email_meta WHERE key = ?", arguments: [Self.metaKey]) != fp {
            try db.execute(sql: "DELETE FROM email_rel_entries")
            try db.execute(sql: "DELETE FROM email_rel_summary")
            try db.execute(sql: "DELETE FROM email_rel_months")
            try db.execute(sql: "INSERT OR IGNORE INTO email_rel_dirty (email_id) SELECT id FROM emails")
            try db.execute(
                sql: "INSERT INTO email_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [Self.metaKey, fp])
        }
        var byAddress: [String: [Int]] = [:]
        for (i, p) in investors.enumerated() { for a in p.addresses { byAddress[a, default: []].append(i) } }
        var total = 0
        while true {
            let ids = try Int64.fetchAll(db, sql: "SELECT email_id FROM email_rel_dirty ORDER BY email_id LIMIT \(Self.batch)")
            guard !ids.isEmpty else { break }
            total += ids.count
            let messages = try Self.messages(db, upTo: ids.last!)
            var recompute = Set<Key>()
            for id in ids {
                var old: [Key: Entry] = [:]
                for r in try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT investor_id, scope, thread_id, at, dir, weight, credited FROM email_rel_entries WHERE email_id = ?"),
                    arguments: [id])
                {
                    old[Key(investor: r[0], scope: r[1])] = Entry(thread: r[2], at: r[3], dir: r[4], weight: r[5], credited: r[6])
                }
                var new: [Key: Entry] = [:]
                if let m = messages[id] {
                    var seen = Set<Int>()
                    for a in [m.from].compactMap({ $0 }) + m.to + m.cc {
                        for i in byAddress[a] ?? [] where seen.insert(i).inserted {
                            let p = investors[i]
                            for c in calculator.contributions(party: { p.addresses.contains($0) }, message: m) {
                                new[Key(investor: p.id, scope: c.teammate ?? "")] = Entry(
                                    thread: m.threadId, at: m.at.timeIntervalSince1970, dir: c.direction.rawValue, weight: c.weight,
                                    credited: c.credited)
                            }
                        }
                    }
                }
                for (k, _) in old where new[k] == nil {
                    try db.execute(
                        sql: "DELETE FROM email_rel_entries WHERE investor_id = ? AND scope = ? AND email_id = ?",
                        arguments: [k.investor, k.scope, id])
                    recompute.insert(k)
                }
                for (k, n) in new {
                    if let o = old[k] {
                        if o == n { continue }
                        try db.execute(
                            sql: """
                                UPDATE email_rel_entries SET thread_id = ?, at = ?, dir = ?, weight = ?, credited = ?
                                WHERE investor_id = ? AND scope = ? AND email_id = ?
                                """, arguments: [n.thread, n.at, n.dir, n.weight, n.credited, k.investor, k.scope, id])
                        if o.sameFacts(n) {
                            // Only the credited teammate changed (another mailbox now holds it).
                            try db.execute(
                                sql: "UPDATE email_rel_summary SET last_by = ? WHERE investor_id = ? AND scope = ? AND last_email = ?",
                                arguments: [n.credited, k.investor, k.scope, id])
                        } else {
                            recompute.insert(k)
                        }
                    } else {
                        let threadNew =
                            try Bool.fetchOne(
                                db.cachedStatement(
                                    sql: "SELECT 1 FROM email_rel_entries WHERE investor_id = ? AND scope = ? AND thread_id = ? LIMIT 1"),
                                arguments: [k.investor, k.scope, n.thread]) != true
                        try db.cachedStatement(
                            sql: """
                                INSERT INTO email_rel_entries (investor_id, scope, email_id, thread_id, at, dir, weight, credited)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                                """
                        ).execute(arguments: [k.investor, k.scope, id, n.thread, n.at, n.dir, n.weight, n.credited])
                        if !recompute.contains(k) { try add(db, k, id, n, threadNew: threadNew) }
                    }
                }
            }
            for k in recompute { try self.recompute(db, k) }
            try db.execute(sql: "DELETE FROM email_rel_dirty WHERE email_id <= ?", arguments: [ids.last!])
        }
        return total
    }

    /// One added entry: O(1) updates of its summary and month.
    func add(_ db: Database, _ k: Key, _ id: Int64, _ n: Entry, threadNew: Bool) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO email_rel_summary (investor_id, scope, first_at, last_at, last_email, last_by, last_in, last_out, n, n_in, n_out, threads)
                VALUES (:inv, :scope, :at, :at, :id, :by, :lin, :lout, 1, :nin, :nout, :thr)
                ON CONFLICT(investor_id, scope) DO UPDATE SET
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
                    n = n + 1, n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out, threads = threads + excluded.threads
                """
        ).execute(
            arguments: [
                "inv": k.investor, "scope": k.scope, "at": n.at, "id": id, "by": n.credited, "lin": n.dir == 1 ? n.at : nil,
                "lout": n.dir == 2 ? n.at : nil, "nin": n.dir == 1 ? 1 : 0, "nout": n.dir == 2 ? 1 : 0, "thr": threadNew ? 1 : 0,
            ])
        try db.cachedStatement(
            sql: """
                INSERT INTO email_rel_months (investor_id, scope, month, n_in, n_out, w_in, w_out, w_cc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(investor_id, scope, month) DO UPDATE SET n_in = n_in + excluded.n_in, n_out = n_out + excluded.n_out,
                    w_in = w_in + excluded.w_in, w_out = w_out + excluded.w_out, w_cc = w_cc + excluded.w_cc
                """
        ).execute(
            arguments: [
                k.investor, k.scope, Self.month(n.at), n.dir == 1 ? 1 : 0, n.dir == 2 ? 1 : 0, n.dir == 1 ? n.weight : 0,
                n.dir == 2 ? n.weight : 0, n.dir == 0 ? n.weight : 0,
            ])
    }

    /// An (investor, scope) whose entries lost or changed one: its summary and months from its entries.
    func recompute(_ db: Database, _ k: Key) throws {
        try db.execute(sql: "DELETE FROM email_rel_summary WHERE investor_id = ? AND scope = ?", arguments: [k.investor, k.scope])
        try db.execute(sql: "DELETE FROM email_rel_months WHERE investor_id = ? AND scope = ?", arguments: [k.investor, k.scope])
        let rows = try Row.fetchAll(
            db, sql: "SELECT email_id, thread_id, at, dir, weight, credited FROM email_rel_entries WHERE investor_id = ? AND scope = ?",
            arguments: [k.investor, k.scope])
        var seenThreads = Set<Int64>()
        for r in rows {
            let n = Entry(thread: r[1], at: r[2], dir: r[3], weight: r[4], credited: r[5])
            try add(db, k, r[0], n, threadNew: seenThreads.insert(n.thread).inserted)
        }
    }

    /// The queued messages (ids up to `last`) as the relationship figures see them (`ReadModel.interactionMessages`);
    /// absent when no mailbox holds it any more (or it is gone).
    static func messages(_ db: Database, upTo last: Int64) throws -> [Int64: InteractionMessage] {
        let queued = "SELECT email_id FROM email_rel_dirty WHERE email_id <= \(last)"
        let list = try ReadModel.interactionMessages(db, only: queued, keep: { _ in true }).messages
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }

    // MARK: - Reading

    /// Sums of one (investor, scope) over a window.
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
    }

    /// The figures `RelationshipCalculator` computes for one (investor, scope), from its summary and its
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

    /// Team and per-teammate figures of every investor with an interaction `hidden` leaves visible (or
    /// only `only`), as of `now`.
    func figures(
        _ db: Database, now: Date, hidden: Set<Int64>, only: String?
    ) throws -> [String: (
        team: RelationshipFigures, byTeammate: [String: RelationshipFigures]
    )] {
        let day = 86_400.0
        let cuts = [30.0, 90.0, 365.0].map { now.timeIntervalSince1970 - $0 * day }
        var touched = Set<String>()
        if !hidden.isEmpty {
            let list = String(data: try JSONEncoder().encode(Array(hidden)), encoding: .utf8)!
            touched = Set(
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT investor_id FROM email_rel_entries WHERE email_id IN (SELECT value FROM json_each(?))",
                    arguments: [list]))
        }
        var summaries: [Key: Summary] = [:]
        for r in try Row.fetchAll(
            db,
            sql: """
                SELECT investor_id, scope, first_at, last_at, last_email, last_by, last_in, last_out, n, n_in, n_out, threads
                FROM email_rel_summary WHERE (:only IS NULL OR investor_id = :only)
                """, arguments: ["only": only])
        {
            let k = Key(investor: r[0], scope: r[1])
            guard !touched.contains(k.investor) else { continue }
            summaries[k] = Summary(
                first: r[2], last: r[3], lastEmail: r[4], lastBy: r[5], lastIn: r[6], lastOut: r[7], n: r[8], nIn: r[9], nOut: r[10],
                threads: r[11])
        }
        var windows: [[Key: Window]] = [[:], [:], [:]]
        for (w, cut) in cuts.enumerated() {
            let m = Self.month(cut)
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT investor_id, scope, SUM(n_in), SUM(n_out), SUM(w_in), SUM(w_out), SUM(w_cc) FROM email_rel_months
                    WHERE month > :m AND (:only IS NULL OR investor_id = :only) GROUP BY investor_id, scope
                    """, arguments: ["m": m, "only": only])
            {
                windows[w][Key(investor: r[0], scope: r[1])] = Window(nIn: r[2], nOut: r[3], wIn: r[4], wOut: r[5], wCc: r[6])
            }
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT investor_id, scope, dir, weight FROM email_rel_entries
                    WHERE at >= :cut AND at < :end AND (:only IS NULL OR investor_id = :only)
                    """, arguments: ["cut": cut, "end": Self.monthStart(m + 1), "only": only])
            {
                windows[w][Key(investor: r[0], scope: r[1]), default: Window()].add(dir: r[2], weight: r[3])
            }
        }
        var out: [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] = [:]
        for (k, s) in summaries where k.scope.isEmpty && s.n > 0 {
            out[k.investor] = (
                Self.figures(s, w30: windows[0][k] ?? Window(), w90: windows[1][k] ?? Window(), w365: windows[2][k] ?? Window(), now: now),
                [:]
            )
        }
        for (k, s) in summaries where !k.scope.isEmpty && s.n > 0 {
            guard out[k.investor] != nil else { continue }
            out[k.investor]!.byTeammate[k.scope] = Self.figures(
                s, w30: windows[0][k] ?? Window(), w90: windows[1][k] ?? Window(), w365: windows[2][k] ?? Window(), now: now)
        }
        // Investors the viewer's hidden messages touch: from their entries, without those messages.
        for investor in touched where only == nil || only == investor {
            var perScope: [String: [(id: Int64, e: Entry)]] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT scope, email_id, thread_id, at, dir, weight, credited FROM email_rel_entries WHERE investor_id = ?",
                arguments: [investor])
            {
                let id: Int64 = r[1]
                guard !hidden.contains(id) else { continue }
                perScope[r[0], default: []].append((id, Entry(thread: r[2], at: r[3], dir: r[4], weight: r[5], credited: r[6])))
            }
            var byScope: [String: RelationshipFigures] = [:]
            for (scope, entries) in perScope where !entries.isEmpty {
                var s = Summary(
                    first: .infinity, last: -.infinity, lastEmail: Int64.min, lastBy: nil, lastIn: nil, lastOut: nil, n: 0, nIn: 0, nOut: 0,
                    threads: Set(entries.map(\.e.thread)).count)
                var ws = [Window(), Window(), Window()]
                for (id, e) in entries {
                    s.first = min(s.first, e.at)
                    if e.at > s.last || (e.at == s.last && id > s.lastEmail) { (s.last, s.lastEmail, s.lastBy) = (e.at, id, e.credited) }
                    s.n += 1
                    if e.dir == 1 { s.nIn += 1; s.lastIn = max(s.lastIn ?? e.at, e.at) }
                    if e.dir == 2 { s.nOut += 1; s.lastOut = max(s.lastOut ?? e.at, e.at) }
                    for (w, cut) in cuts.enumerated() where e.at >= cut { ws[w].add(dir: e.dir, weight: e.weight) }
                }
                byScope[scope] = Self.figures(s, w30: ws[0], w90: ws[1], w365: ws[2], now: now)
            }
            if let team = byScope.removeValue(forKey: "") { out[investor] = (team, byScope) }
        }
        return out
    }

    /// An investor's visible interactions (its team entries), newest first (ties: the later thread, then
    /// the later message), with the teammates whose mailboxes hold each.
    func timeline(
        _ db: Database, investor: String, hidden: Set<Int64>, limit: Int, offset: Int
    ) throws
        -> [RelationshipReports.TimelineItem]
    {
        let list = String(decoding: try JSONEncoder().encode(hidden.sorted()), as: UTF8.self)
        return try Row.fetchAll(
            db,
            sql: """
                SELECT r.email_id, r.thread_id, r.at, r.dir, e.message_id,
                    (SELECT group_concat(t.scope, char(31)) FROM email_rel_entries t
                     WHERE t.investor_id = r.investor_id AND t.email_id = r.email_id AND t.scope <> '') AS holders
                FROM email_rel_entries r JOIN emails e ON e.id = r.email_id
                WHERE r.investor_id = :inv AND r.scope = '' AND r.email_id NOT IN (SELECT value FROM json_each(:hidden))
                ORDER BY r.at DESC, r.thread_id DESC, r.email_id DESC LIMIT :limit OFFSET :offset
                """, arguments: ["inv": investor, "hidden": list, "limit": limit, "offset": offset]
        ).map { r in
            let holders = (r["holders"] as String?).map { $0.split(separator: "\u{1F}").map(String.init).sorted() } ?? []
            let dir: Int = r["dir"]
            return RelationshipReports.TimelineItem(
                threadId: r["thread_id"], messageId: MessageIdentity.normalizedMessageID(r["message_id"]),
                at: CaptureDatabase.isoString(Date(timeIntervalSince1970: r["at"])),
                direction: dir == 1 ? "inbound" : dir == 2 ? "outbound" : "copied",
                teammates: holders)
        }
    }

    /// The messages hidden from `viewer` (teammates' private marks on a thread, an address or a domain,
    /// where the viewer's own mailbox does not hold the message); internal mail has no investor entries.
    static func hidden(_ db: Database, viewer: String) throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT s.email_id FROM email_privacy_marks m
                    JOIN email_accounts a ON a.email = m.teammate COLLATE NOCASE
                    JOIN email_sightings s ON s.account_id = a.id AND s.deleted_at IS NULL
                    JOIN emails e ON e.id = s.email_id
                    WHERE m.mode = 'private'
                      AND ((m.kind = 'thread' AND CAST(e.thread_id AS TEXT) = m.value)
                        OR (m.kind = 'address' AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = e.id AND p.address_canonical = m.value))
                        OR (m.kind = 'domain' AND EXISTS (SELECT 1 FROM email_participants p WHERE p.email_id = e.id
                            AND substr(COALESCE(p.address_canonical, ''), -length(m.value) - 1) IN ('@' || m.value, '.' || m.value))))
                      AND NOT EXISTS (SELECT 1 FROM email_sightings v JOIN email_accounts va ON va.id = v.account_id
                                      WHERE v.email_id = e.id AND v.deleted_at IS NULL AND va.email = :viewer COLLATE NOCASE)
                    """, arguments: ["viewer": viewer]))
    }
}

extension CaptureDatabase {
    /// Derives the relationship entries of every message stored, changed or deleted since the last time
    /// (each sync run ends with it; reports do it too before reading). Returns how many messages it looked at.
    @discardableResult
    public func refreshRelationshipIndex(investors: [Investor], workspaceDomain: String?) async throws -> Int {
        let teammates = Set(try await accounts().map { $0.email.lowercased() })
        let index = RelationshipIndex(teammates: teammates, investors: investors, workspaceDomain: workspaceDomain)
        return try await writer.write { db in try index.drain(db) }
    }
}
