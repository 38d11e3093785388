import CaptureParsing
import Foundation
import GRDB

/// Relationship figures kept up to date as mail is stored, deleted and rematched, so reports read a few
/// hundred rows instead of every message (issue #14). Two ledgers (`RelationshipLedger`) of the same
/// shape, fed from one queue:
///
/// - **investors** (migration 0013): per CRM investor (its own addresses), for the investors report, going
///   cold and timelines;
/// - **people** (migration 0017): per external address and per domain (every suffix of an external host
///   with at least two labels, so a domain includes its subdomains), for who-knows and contact suggestions.
///
/// Triggers queue every message whose mailbox copies change (`email_rel_dirty`). `drain` derives each
/// queued message's entries with `RelationshipCalculator.contributions` (the rules the per-query path
/// uses) and updates the per-(party, scope) summaries and monthly sums: an added entry in O(1); a removed
/// or changed one recomputes only its (party, scope). When what a ledger was derived for changes (the
/// investors, the teammates, the workspace domain), that ledger is derived again from every message.
/// Reading (`RelationshipLedger.figures`) finishes the clock-dependent figures (30/90/365-day windows,
/// strength) from the monthly sums plus the entries of the month a window starts in, and recomputes from
/// entries only the parties that the viewer's hidden messages (teammates' private marks) touch.
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
    static let peopleMetaKey = "relationship_people"
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

    /// What the investors' entries were derived for: a change means deriving them again.
    var fingerprint: String {
        var parts = ["v1", workspaceDomain ?? "", teammates.sorted().joined(separator: ",")]
        for p in investors { parts.append(p.id + "=" + p.addresses.sorted().joined(separator: ",")) }
        return sha256Hex(Data(parts.joined(separator: "\n").utf8))
    }

    /// What the people's entries were derived for (not the investors: suggestions leave investors out
    /// when they read).
    var peopleFingerprint: String {
        sha256Hex(Data(["p1", workspaceDomain ?? "", teammates.sorted().joined(separator: ",")].joined(separator: "\n").utf8))
    }

    /// Whether an address is outside the firm (not on the workspace domain or one of its subdomains).
    func external(_ address: String) -> Bool {
        workspaceDomain.map { !AddressNormalizer.isAt(address, domain: $0) } ?? true
    }

    // MARK: - Months

    // Months are counted in the proleptic Gregorian calendar in UTC, by arithmetic (Howard Hinnant's
    // civil-from-days): the drain buckets every entry, and Foundation's calendar cost microseconds each.

    /// year × 12 + month − 1 (UTC).
    static func month(_ at: Double) -> Int {
        let days = Int(max(-1e13, min(1e13, at / 86_400)).rounded(.down))
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return y * 12 + m - 1
    }

    /// The first instant of a month index (Unix seconds).
    static func monthStart(_ month: Int) -> Double {
        let year = month >= 0 ? month / 12 : (month - 11) / 12
        let m = month - year * 12 + 1
        let y = m <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Double(era * 146_097 + doe - 719_468) * 86_400
    }

    // MARK: - Parties of a message

    /// A message's external people: its sender and To/Cc addresses that are neither teammates nor on the
    /// workspace domain, in header order, once each.
    func people(of m: InteractionMessage) -> [String] {
        var seen = Set<String>()
        return ([m.from].compactMap { $0 } + m.to + m.cc).filter {
            $0.utf8.contains(UInt8(ascii: "@")) && !calculator.isTeammate($0) && external($0) && seen.insert($0).inserted
        }
    }

    /// The domains an address counts for: its host and every suffix of it with at least two labels
    /// (`b@eu.fund.example`: `eu.fund.example`, `fund.example`), exactly the domains `AddressNormalizer.isAt`
    /// places it under.
    static func domains(of address: String) -> [String] {
        guard let at = address.lastIndex(of: "@") else { return [] }
        let host = address[address.index(after: at)...]
        var out: [String] = []
        if host.utf8.contains(UInt8(ascii: ".")) { out.append(String(host)) }
        var i = host.startIndex
        while let dot = host[i...].firstIndex(of: ".") {
            let rest = host[host.index(after: dot)...]
            if rest.utf8.contains(UInt8(ascii: ".")) { out.append(String(rest)) }
            i = host.index(after: dot)
        }
        return out
    }

    /// The host of an address with its labels reversed (`b@eu.fund.example`: `example.fund.eu`), the key a
    /// domain's people are read by.
    static func reversedHost(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].split(separator: ".", omittingEmptySubsequences: false).reversed().joined(
            separator: ".")
    }

    /// A message's entries in the people ledger: one party per external address and per domain of those.
    func peopleEntries(_ m: InteractionMessage) -> [RelationshipLedger.Key: RelationshipLedger.Entry] {
        var out: [RelationshipLedger.Key: RelationshipLedger.Entry] = [:]
        let addresses = people(of: m)
        guard !addresses.isEmpty else { return out }
        var parties = addresses
        var seen = Set(addresses)
        for a in addresses { for d in Self.domains(of: a) where seen.insert(d).inserted { parties.append(d) } }
        let predicates: [(String) -> Bool] = parties.map { p in
            p.utf8.contains(UInt8(ascii: "@")) ? { $0 == p } : { AddressNormalizer.isAt($0, domain: p) && self.external($0) }
        }
        for (p, c) in zip(parties, calculator.contributions(parties: predicates, message: m)) { Self.add(&out, p, c, of: m) }
        return out
    }

    /// A party's contributions from one message as ledger entries, one per scope.
    static func add(
        _ out: inout [RelationshipLedger.Key: RelationshipLedger.Entry], _ party: String,
        _ contributions: [RelationshipCalculator.Contribution], of m: InteractionMessage
    ) {
        for c in contributions {
            out[RelationshipLedger.Key(party: party, scope: c.teammate ?? "")] = RelationshipLedger.Entry(
                thread: m.threadId, at: m.at.timeIntervalSince1970, dir: c.direction.rawValue, weight: c.weight, credited: c.credited)
        }
    }

    /// A message's entries in the investors ledger: one party per investor whose addresses it names.
    func investorEntries(
        _ m: InteractionMessage, byAddress: [String: [Int]]
    ) -> [RelationshipLedger.Key: RelationshipLedger.Entry] {
        var out: [RelationshipLedger.Key: RelationshipLedger.Entry] = [:]
        var seen = Set<Int>()
        for a in [m.from].compactMap({ $0 }) + m.to + m.cc {
            for i in byAddress[a] ?? [] where seen.insert(i).inserted {
                let p = investors[i]
                Self.add(&out, p.id, calculator.contributions(party: { p.addresses.contains($0) }, message: m), of: m)
            }
        }
        return out
    }

    // MARK: - Maintenance

    /// Derives the entries of every queued message in both ledgers; returns how many messages it looked at.
    @discardableResult
    func drain(_ db: Database) throws -> Int {
        func current(_ key: String) throws -> String? {
            try String.fetchOne(db, sql: "SELECT value FROM email_meta WHERE key = ?", arguments: [key])
        }
        func record(_ key: String, _ value: String) throws {
            try db.execute(
                sql: "INSERT INTO email_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
        let fp = fingerprint, peopleFp = peopleFingerprint
        if try current(Self.metaKey) != fp {
            try RelationshipLedger.investors.reset(db)
            try db.execute(sql: "INSERT OR IGNORE INTO email_rel_dirty (email_id) SELECT id FROM emails")
            try record(Self.metaKey, fp)
        }
        if try current(Self.peopleMetaKey) != peopleFp {
            try RelationshipLedger.people.reset(db)
            try db.execute(sql: "DELETE FROM email_rel_people_hosts")
            try db.execute(sql: "INSERT OR IGNORE INTO email_rel_dirty (email_id) SELECT id FROM emails")
            try record(Self.peopleMetaKey, peopleFp)
        }
        // Every report drains first; with nothing queued that is one read.
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM email_rel_dirty)") == true else { return 0 }
        // A larger page cache while deriving: the entries' indexes take inserts all over (by party, by
        // time), which SQLite's default 2 MB cache turns into a read and a write per page touched. 16 MB:
        // 64 MB added about 48 MB to a sync's peak RSS (183-199 against 141-147 MiB on 3,000 realistic
        // messages) and was no faster, there or for `rematch` at 104,598 emails (17-21 s against 19-21 s).
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2_000
        try db.execute(sql: "PRAGMA cache_size = -16384")
        defer { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)") }
        var byAddress: [String: [Int]] = [:]
        for (i, p) in investors.enumerated() { for a in p.addresses { byAddress[a, default: []].append(i) } }
        var hosts = Set<String>()
        var total = 0
        while true {
            let ids = try Int64.fetchAll(db, sql: "SELECT email_id FROM email_rel_dirty ORDER BY email_id LIMIT \(Self.batch)")
            guard !ids.isEmpty else { break }
            total += ids.count
            let messages = try Self.messages(db, upTo: ids.last!)
            let oldInvestors = try RelationshipLedger.investors.entries(db, of: ids)
            let oldPeople = try RelationshipLedger.people.entries(db, of: ids)
            var investorBatch = RelationshipLedger.Batch()
            var peopleBatch = RelationshipLedger.Batch()
            for id in ids {
                let m = messages[id]
                try RelationshipLedger.investors.apply(
                    db, id, old: oldInvestors[id] ?? [:], new: m.map { investorEntries($0, byAddress: byAddress) } ?? [:],
                    into: &investorBatch)
                let people = m.map(peopleEntries) ?? [:]
                try RelationshipLedger.people.apply(db, id, old: oldPeople[id] ?? [:], new: people, into: &peopleBatch)
                for k in people.keys where k.scope.isEmpty && k.party.utf8.contains(UInt8(ascii: "@")) && hosts.insert(k.party).inserted {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO email_rel_people_hosts (address, rhost) VALUES (?, ?)")
                        .execute(arguments: [k.party, Self.reversedHost(k.party)])
                }
            }
            try RelationshipLedger.investors.flush(db, investorBatch)
            try RelationshipLedger.people.flush(db, peopleBatch)
            try db.execute(sql: "DELETE FROM email_rel_dirty WHERE email_id <= ?", arguments: [ids.last!])
        }
        return total
    }

    /// The queued messages (ids up to `last`) as the relationship figures see them (`ReadModel.interactionMessages`);
    /// absent when no mailbox holds it any more (or it is gone).
    static func messages(_ db: Database, upTo last: Int64) throws -> [Int64: InteractionMessage] {
        let queued = "SELECT email_id FROM email_rel_dirty WHERE email_id <= \(last)"
        let list = try ReadModel.interactionMessages(db, only: queued, keep: { _ in true }).messages
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }

    // MARK: - Reading

    /// Team and per-teammate figures of every investor with an interaction `hidden` leaves visible (or
    /// only `only`), as of `now`.
    func figures(
        _ db: Database, now: Date, hidden: Set<Int64>, only: String?
    ) throws -> [String: (team: RelationshipFigures, byTeammate: [String: RelationshipFigures])] {
        try RelationshipLedger.investors.figures(db, now: now, hidden: hidden, parties: only.map { [$0] })
    }

    /// One investor's reply-time medians per scope ('' for the team): `RelationshipLedger.replyMedians`.
    func replyMedians(_ db: Database, investor: String, hidden: Set<Int64>) throws -> [String: (theirs: Double?, ours: Double?)] {
        try RelationshipLedger.investors.replyMedians(db, party: investor, hidden: hidden)
    }

    /// The external addresses at `domain` or one of its subdomains that have people entries.
    static func addresses(_ db: Database, at domain: String) throws -> [String] {
        let r = domain.split(separator: ".", omittingEmptySubsequences: false).reversed().joined(separator: ".")
        return try String.fetchAll(
            db, sql: "SELECT address FROM email_rel_people_hosts WHERE rhost = ? OR (rhost >= ? AND rhost < ?) ORDER BY address",
            arguments: [r, r + ".", r + "/"])
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

    /// Derives every message's relationship entries again, in both ledgers (what `rematch` does after it
    /// relinks, and `bench backfill --rederive-relationships` times). Returns how many messages it looked at.
    @discardableResult
    public func rebuildRelationshipIndex(investors: [Investor], workspaceDomain: String?) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM email_meta WHERE key IN (?, ?)", arguments: [RelationshipIndex.metaKey, RelationshipIndex.peopleMetaKey])
        }
        return try await refreshRelationshipIndex(investors: investors, workspaceDomain: workspaceDomain)
    }
}
