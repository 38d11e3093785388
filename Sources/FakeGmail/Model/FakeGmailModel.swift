import Foundation
/// The whole fake Gmail as data: mailboxes, the virtual clock, the seeded id allocator, history
/// retention. Domain operations only; the wire layer renders, the routes parse.
struct FakeGmailModel: Sendable {
    var mailboxes: [String: Mailbox] = [:]
    var clock: VirtualClock
    var ids: IDAllocator
    var random: FakeRandom
    /// Keep at most this many history records per mailbox (nil: unlimited).
    var retentionRecords: Int?
    /// Drop history records older than this (virtual ms; nil: never).
    var retentionAgeMillis: Int64?
    /// Fetch counter folded into attachment ids, so ids rotate per messages.get as Gmail's do.
    var fetchSequence: UInt64 = 0

    init(seed: UInt64, clockStartMillis: Int64) {
        clock = VirtualClock(startMillis: clockStartMillis)
        ids = IDAllocator(seed: seed)
        random = FakeRandom(seed: seed ^ 0xA5A5_A5A5)
    }

    static func key(_ email: String) -> String { email.lowercased() }

    func mailbox(_ email: String) -> Mailbox? { mailboxes[Self.key(email)] }

    @discardableResult
    mutating func addUser(_ email: String) -> Bool {
        let k = Self.key(email)
        if mailboxes[k] != nil { return false }
        // History ids start at a per-user, seeded, realistic magnitude.
        mailboxes[k] = Mailbox(email: email, firstHistoryId: 1_000_000 + random.next() % 9_000_000)
        return true
    }

    struct Inserted: Sendable, Equatable {
        public var id: String
        public var threadId: String
        public var historyId: String
    }

    /// Delivers raw bytes to a mailbox. Without `internalDate` the message arrives "now"; an explicit
    /// date later than now moves the clock forward (new mail is never older than old mail).
    mutating func insert(_ email: String, raw: [UInt8], labelIds: [String], internalDate: Int64?) throws -> Inserted {
        let k = Self.key(email)
        guard mailboxes[k] != nil else { throw FakeGmailError.badRequest("no such mailbox: \(email)") }
        let date = internalDate ?? clock.nowMillis
        clock.atLeast(date)
        let id = ids.messageID(atMillis: date)
        let m = mailboxes[k]!.insert(raw: raw, id: id, labelIds: labelIds, internalDate: date, at: clock.nowMillis, random: &random)
        applyRetention(k)
        return Inserted(id: m.id.gmailHex, threadId: m.threadId.gmailHex, historyId: String(m.historyId))
    }

    mutating func delete(_ email: String, id: UInt64) -> Bool {
        let k = Self.key(email)
        guard mailboxes[k] != nil else { return false }
        let ok = mailboxes[k]!.delete(id: id, at: clock.nowMillis, random: &random)
        applyRetention(k)
        return ok
    }

    mutating func modify(_ email: String, id: UInt64, add: [String], remove: [String]) -> Bool {
        let k = Self.key(email)
        guard mailboxes[k] != nil else { return false }
        let ok = mailboxes[k]!.modify(id: id, add: add, remove: remove, at: clock.nowMillis, random: &random)
        applyRetention(k)
        return ok
    }

    mutating func expireHistory(_ email: String) -> Bool {
        let k = Self.key(email)
        guard mailboxes[k] != nil else { return false }
        mailboxes[k]!.expireAllHistory()
        return true
    }

    mutating func advance(millis: Int64) {
        clock.advance(millis: millis)
        for k in mailboxes.keys { applyRetention(k) }
    }

    mutating func applyRetention(_ k: String) {
        guard retentionRecords != nil || retentionAgeMillis != nil else { return }
        mailboxes[k]?.applyRetention(maxRecords: retentionRecords, maxAgeMillis: retentionAgeMillis, now: clock.nowMillis)
    }

    // MARK: - Queries

    /// Messages matching list filters, newest first.
    func list(_ mb: Mailbox, query: SearchQuery?, labelIds: [String], includeSpamTrash: Bool) -> [FakeMessage] {
        let wanted = labelIds.map { mb.labelId(forNameOrId: $0) ?? $0 }
        let spamTrashAllowed =
            includeSpamTrash || (query?.includesSpamTrash ?? false)
            || wanted.contains("SPAM") || wanted.contains("TRASH")
        return mb.ordered().filter { m in
            if !spamTrashAllowed && (m.labelIds.contains("SPAM") || m.labelIds.contains("TRASH")) { return false }
            if !wanted.allSatisfy({ m.labelIds.contains($0) }) { return false }
            if let q = query, !q.matches(m, labels: { mb.labelId(forNameOrId: $0) }) { return false }
            return true
        }
    }

    enum HistoryAnswer {
        case expired
        case records([HistoryRecord], hasMore: Bool)
    }

    /// History after `start` (exclusive), filtered, at most `limit` records after `after` (a page cursor).
    func history(
        _ mb: Mailbox, start: UInt64, types: Set<HistoryRecord.Kind>?, labelId: String?, after: UInt64?, limit: Int
    ) -> HistoryAnswer {
        if start < mb.validFrom { return .expired }
        let from = max(start, after ?? 0)
        var out: [HistoryRecord] = []
        var more = false
        for r in mb.history where r.id > from {
            if let t = types, !t.contains(r.kind) { continue }
            if let l = labelId, !(r.labelIds.contains(l) || r.changedLabelIds.contains(l)) { continue }
            if out.count == limit { more = true; break }
            out.append(r)
        }
        return .records(out, hasMore: more)
    }
}
