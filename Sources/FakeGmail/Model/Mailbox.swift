import Foundation
/// One history record: a single change to a single message.
struct HistoryRecord: Sendable {
    enum Kind: String, Sendable { case messageAdded, messageDeleted, labelAdded, labelRemoved }
    let id: UInt64
    let kind: Kind
    let messageId: UInt64
    let threadId: UInt64
    /// The message's labels after the change (empty for deletions).
    let labelIds: [String]
    /// The labels added or removed (label records only).
    let changedLabelIds: [String]
    /// Virtual time of the change, for age-based retention.
    let atMillis: Int64
    /// The labels a deleted message had (not rendered; the push notifier's label filter reads them).
    var labelsBeforeDeletion: [String] = []
}

/// One user's mailbox: messages, labels, threads and the history log. A value type with domain
/// rules only; no HTTP, no clock reads (times are passed in).
struct Mailbox: Sendable {
    let email: String
    var messages: [UInt64: FakeMessage] = [:]
    /// Message ids newest first (internalDate, then id), kept sorted on insert and delete so a list
    /// call never sorts the mailbox.
    var newestFirst: [OrderKey] = []
    var labels: [String: FakeLabel] = SystemLabels.make()
    var nextUserLabel = 1
    /// thread id -> message ids (delivery order)
    var threads: [UInt64: [UInt64]] = [:]
    /// RFC Message-ID -> Gmail message id, for threading by In-Reply-To/References.
    var byRFCMessageID: [String: UInt64] = [:]
    var history: [HistoryRecord] = []
    var currentHistoryId: UInt64
    /// A startHistoryId below this is too old: history.list answers 404.
    var validFrom: UInt64

    init(email: String, firstHistoryId: UInt64) {
        self.email = email
        currentHistoryId = firstHistoryId
        validFrom = firstHistoryId
    }

    mutating func nextHistoryId(_ random: inout FakeRandom) -> UInt64 {
        // Increasing but not contiguous, as Gmail's are.
        currentHistoryId += 1 + random.next() % 7
        return currentHistoryId
    }

    /// Delivers a message: threads it, labels it, logs messageAdded.
    mutating func insert(
        raw: [UInt8], id: UInt64, labelIds: [String], internalDate: Int64, at now: Int64, random: inout FakeRandom
    ) -> FakeMessage {
        let index = FakeMessage.index(raw)
        var threadId = id
        for ref in index.references.reversed() {
            if let parent = byRFCMessageID[ref], let p = messages[parent] { threadId = p.threadId; break }
        }
        for l in labelIds where labels[l] == nil { ensureUserLabel(named: l) }
        let resolved = labelIds.map { labelId(forNameOrId: $0) ?? $0 }
        let hid = nextHistoryId(&random)
        var labelsInOrder: [String] = []
        for l in resolved where !labelsInOrder.contains(l) { labelsInOrder.append(l) }
        let m = FakeMessage(
            id: id, threadId: threadId, labelIds: labelsInOrder, internalDate: internalDate, raw: raw,
            historyId: hid, index: index)
        if let old = messages[id] { removeOrder(OrderKey(date: old.internalDate, id: id)) }
        messages[id] = m
        let key = OrderKey(date: internalDate, id: id)
        newestFirst.insert(key, at: orderSlot(key))
        threads[threadId, default: []].append(id)
        if let rfc = index.rfc822MessageID, byRFCMessageID[rfc] == nil { byRFCMessageID[rfc] = id }
        history.append(
            HistoryRecord(
                id: hid, kind: .messageAdded, messageId: id, threadId: threadId,
                labelIds: labelsInOrder, changedLabelIds: [], atMillis: now))
        return m
    }

    /// Permanently deletes a message; logs messageDeleted. Returns false when it does not exist.
    mutating func delete(id: UInt64, at now: Int64, random: inout FakeRandom) -> Bool {
        guard let m = messages.removeValue(forKey: id) else { return false }
        removeOrder(OrderKey(date: m.internalDate, id: id))
        threads[m.threadId]?.removeAll { $0 == id }
        if threads[m.threadId]?.isEmpty == true { threads[m.threadId] = nil }
        if let rfc = m.index.rfc822MessageID, byRFCMessageID[rfc] == id { byRFCMessageID[rfc] = nil }
        let hid = nextHistoryId(&random)
        history.append(
            HistoryRecord(
                id: hid, kind: .messageDeleted, messageId: id, threadId: m.threadId,
                labelIds: [], changedLabelIds: [], atMillis: now, labelsBeforeDeletion: m.labelIds))
        return true
    }

    /// Adds and removes labels; logs one labelAdded and/or one labelRemoved record for real changes.
    mutating func modify(id: UInt64, add: [String], remove: [String], at now: Int64, random: inout FakeRandom) -> Bool {
        guard var m = messages[id] else { return false }
        for l in add where labelId(forNameOrId: l) == nil { ensureUserLabel(named: l) }
        let addIds = add.compactMap { labelId(forNameOrId: $0) }.filter { !m.labelIds.contains($0) }
        let removeIds = remove.compactMap { labelId(forNameOrId: $0) }.filter { m.labelIds.contains($0) && !addIds.contains($0) }
        if !addIds.isEmpty {
            m.labelIds += addIds
            let hid = nextHistoryId(&random)
            m.historyId = hid
            history.append(
                HistoryRecord(
                    id: hid, kind: .labelAdded, messageId: id, threadId: m.threadId,
                    labelIds: m.labelIds, changedLabelIds: addIds, atMillis: now))
        }
        if !removeIds.isEmpty {
            m.labelIds.removeAll { removeIds.contains($0) }
            let hid = nextHistoryId(&random)
            m.historyId = hid
            history.append(
                HistoryRecord(
                    id: hid, kind: .labelRemoved, messageId: id, threadId: m.threadId,
                    labelIds: m.labelIds, changedLabelIds: removeIds, atMillis: now))
        }
        messages[id] = m
        return true
    }

    /// Every startHistoryId older than the current one now gives 404.
    mutating func expireAllHistory() {
        validFrom = currentHistoryId
        history.removeAll()
    }

    /// Keeps at most `count` records and none older than `maxAgeMillis` (virtual time).
    mutating func applyRetention(maxRecords: Int?, maxAgeMillis: Int64?, now: Int64) {
        var dropThrough: UInt64?
        if let n = maxRecords, history.count > n {
            dropThrough = history[history.count - n - 1].id
        }
        if let age = maxAgeMillis, let lastOld = history.last(where: { now - $0.atMillis > age }) {
            dropThrough = max(dropThrough ?? 0, lastOld.id)
        }
        if let d = dropThrough {
            history.removeAll { $0.id <= d }
            validFrom = max(validFrom, d)
        }
    }

    func labelId(forNameOrId s: String) -> String? {
        if labels[s] != nil { return s }
        if let l = labels.values.first(where: { $0.name.caseInsensitiveCompare(s) == .orderedSame }) { return l.id }
        if labels[s.uppercased()] != nil && SystemLabels.all.contains(s.uppercased()) { return s.uppercased() }
        return nil
    }

    @discardableResult
    mutating func ensureUserLabel(named name: String) -> String {
        if let id = labelId(forNameOrId: name) { return id }
        let id = "Label_\(nextUserLabel)"
        nextUserLabel += 1
        labels[id] = FakeLabel(id: id, name: name, type: "user", messageListVisibility: "show", labelListVisibility: "labelShow")
        return id
    }

    /// Messages newest first (internalDate, then id).
    func ordered() -> [FakeMessage] {
        newestFirst.compactMap { messages[$0.id] }
    }

    /// A position in the newest-first order: `a < b` when `a` lists before `b`.
    struct OrderKey: Comparable, Sendable {
        var date: Int64
        var id: UInt64
        static func < (a: OrderKey, b: OrderKey) -> Bool { (a.date, a.id) > (b.date, b.id) }
    }

    /// First index whose key does not list before `key` (binary search).
    func orderSlot(_ key: OrderKey) -> Int {
        var lo = 0, hi = newestFirst.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if newestFirst[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    mutating func removeOrder(_ key: OrderKey) {
        let i = orderSlot(key)
        if i < newestFirst.count && newestFirst[i] == key { newestFirst.remove(at: i) }
    }
}
