import Foundation

/// One scripted fault on Gmail's push notifications (`users.watch`), applied when the notifier emits a
/// notification. Matching as `FaultRule`: every set criterion must hold; `count` expires the rule.
///
/// - `drop`: the notification is never published.
/// - `delay`: it is published `delayMs` later on the virtual clock (default 5,000).
/// - `duplicate`: it is published twice (two Pub/Sub messages).
/// - `reorder`: it is held back and published right after the mailbox's next notification.
/// - `stale`: it carries `historyId` (default: the historyId the watch began at), older than the
///   mailbox's current one.
public struct NotificationFault: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case drop, delay, duplicate, reorder, stale
    }

    public var kind: Kind
    /// Mailbox address the notification is for.
    public var user: String?
    /// Fire only on the nth matching notification (1-based).
    public var nth: Int?
    /// Fire with this probability, drawn from the fake's seeded generator.
    public var probability: Double?
    /// Fire at most this many times.
    public var count: Int?
    public var delayMs: Int?
    public var historyId: String?

    public init(
        kind: Kind, user: String? = nil, nth: Int? = nil, probability: Double? = nil, count: Int? = nil, delayMs: Int? = nil,
        historyId: String? = nil
    ) {
        self.kind = kind
        self.user = user
        self.nth = nth
        self.probability = probability
        self.count = count
        self.delayMs = delayMs
        self.historyId = historyId
    }
}

/// What `users.watch` registered for one mailbox, and where the notifier stands in its history log.
struct GmailWatch: Sendable {
    enum Behavior: String, Sendable { case include, exclude }

    var email: String
    var topic: String
    var labelIds: [String]
    var behavior: Behavior
    var startHistoryId: UInt64
    var expirationMillis: Int64
    /// History records up to this id have been looked at.
    var scannedThrough: UInt64
    /// A change that passes the label filter has not been notified yet.
    var pending = false

    /// Whether a change is one this watch notifies about: every change without labelIds; with them,
    /// `include` wants a change touching one of the labels, `exclude` one touching none of them.
    func notifies(_ r: HistoryRecord) -> Bool {
        guard !labelIds.isEmpty else { return true }
        let touched = Set(r.labelIds + r.changedLabelIds + r.labelsBeforeDeletion)
        let hit = labelIds.contains { touched.contains($0) }
        return behavior == .include ? hit : !hit
    }
}

/// A notification Gmail publishes: `{"emailAddress", "historyId"}` to the watch's topic.
struct GmailNotification: Sendable, Equatable {
    var topic: String
    var email: String
    var historyId: UInt64
}

/// Gmail's side of push, as a value: the watches, the 1-per-second-per-mailbox cap with coalescing,
/// the label filters, expiry, and the scripted notification faults. `step` is called after every
/// mailbox change and clock move and returns what to publish now; the fake publishes it.
struct PushNotifier: Sendable {
    struct Fired: Sendable {
        var fault: NotificationFault
        var matched = 0
        var fired = 0
    }

    var watches: [String: GmailWatch] = [:]
    /// At most one notification per mailbox per this many virtual milliseconds (Gmail: 1 per second).
    var intervalMillis: Int64 = 1000
    /// When each mailbox was last notified (kept across re-watches, as Gmail's cap is per user).
    var lastNotifiedMillis: [String: Int64] = [:]
    var faults: [Fired] = []
    /// Delayed notifications in transit: due time, sequence (stable order), notification.
    var inTransit: [(due: Int64, seq: Int, notification: GmailNotification)] = []
    /// Notifications held back by `reorder`, per mailbox.
    var heldBack: [String: [GmailNotification]] = [:]
    /// Every notification published, oldest first.
    var published: [PublishedNotification] = []
    private var seq = 0

    static let defaultLifetimeMillis: Int64 = 7 * 24 * 3600 * 1000

    /// What to publish now: in-transit notifications that have arrived, then for each watched mailbox a
    /// notification if a matching change is pending and the mailbox's second has passed. Watches past
    /// their expiration lapse silently first.
    mutating func step(now: Int64, mailbox: (String) -> Mailbox?, random: inout FakeRandom) -> [GmailNotification] {
        var out: [GmailNotification] = []
        if !inTransit.isEmpty {
            let arrived = inTransit.filter { $0.due <= now }.sorted { ($0.due, $0.seq) < ($1.due, $1.seq) }
            inTransit.removeAll { $0.due <= now }
            out += arrived.map(\.notification)
        }
        for key in watches.keys.sorted() {
            guard var w = watches[key] else { continue }
            if now >= w.expirationMillis {
                watches[key] = nil
                continue
            }
            guard let mb = mailbox(key) else { continue }
            if mb.currentHistoryId > w.scannedThrough {
                let fresh = Self.records(in: mb, after: w.scannedThrough)
                // Records already trimmed by retention cannot be filtered: notify, as a change happened.
                w.pending = w.pending || fresh.isEmpty || fresh.contains(where: w.notifies)
                w.scannedThrough = mb.currentHistoryId
            }
            if w.pending, lastNotifiedMillis[key].map({ now - $0 >= intervalMillis }) ?? true {
                w.pending = false
                lastNotifiedMillis[key] = now
                out += emit(
                    GmailNotification(topic: w.topic, email: mb.email, historyId: mb.currentHistoryId), watch: w, now: now, random: &random)
            }
            watches[key] = w
        }
        return out
    }

    /// The history records after `id` (the log is in increasing id order: binary search).
    static func records(in mb: Mailbox, after id: UInt64) -> ArraySlice<HistoryRecord> {
        var lo = 0, hi = mb.history.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if mb.history[mid].id <= id { lo = mid + 1 } else { hi = mid }
        }
        return mb.history[lo...]
    }

    /// A notification through the fault rules: what is published now (possibly nothing, or twice, or
    /// with notifications held back behind it).
    mutating func emit(_ n: GmailNotification, watch w: GmailWatch, now: Int64, random: inout FakeRandom) -> [GmailNotification] {
        let key = FakeGmailModel.key(n.email)
        var outgoing: [GmailNotification] = []
        switch pick(key, random: &random) {
        case nil: outgoing = [n]
        case .drop?: outgoing = []
        case .duplicate?: outgoing = [n, n]
        case .delay(let ms)?:
            seq += 1
            inTransit.append((due: now + ms, seq: seq, notification: n))
        case .reorder?:
            heldBack[key, default: []].append(n)
        case .stale(let id)?:
            var s = n
            s.historyId = id ?? min(w.startHistoryId, n.historyId &- 1)
            outgoing = [s]
        }
        if !outgoing.isEmpty, let held = heldBack.removeValue(forKey: key) { outgoing += held }
        return outgoing
    }

    enum Effect: Equatable {
        case drop, duplicate, reorder
        case delay(Int64)
        case stale(UInt64?)
    }

    mutating func pick(_ key: String, random: inout FakeRandom) -> Effect? {
        for i in faults.indices {
            let f = faults[i].fault
            if let c = f.count, faults[i].fired >= c { continue }
            if let u = f.user, FakeGmailModel.key(u) != key { continue }
            faults[i].matched += 1
            if let n = f.nth, faults[i].matched != n { continue }
            if let p = f.probability {
                let draw = Double(random.next() >> 11) / Double(1 << 53)
                if draw >= p { continue }
            }
            faults[i].fired += 1
            switch f.kind {
            case .drop: return .drop
            case .duplicate: return .duplicate
            case .reorder: return .reorder
            case .delay: return .delay(Int64(f.delayMs ?? 5000))
            case .stale: return .stale(f.historyId.flatMap { UInt64($0) })
            }
        }
        return nil
    }
}
