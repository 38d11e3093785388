import MIMEKit
import Crypto
import Foundation
public import CaptureParsing

/// Canonical identity of an email across mailboxes.
public enum MessageIdentity {
    /// A usable Message-ID, normalised: brackets and whitespace removed, domain part lowercased.
    /// nil when missing or unusable (no `@`, spaces inside, absurd length).
    public static func normalizedMessageID(_ raw: String?) -> String? {
        if let raw, raw.utf8.allSatisfy({ $0 < 0x80 }) { return asciiNormalizedMessageID(raw) }
        return unicodeNormalizedMessageID(raw)
    }

    /// `normalizedMessageID` for ASCII input (nearly every Message-ID), on bytes: the same answer as the
    /// general form (for ASCII, whitespace is exactly HT, LF, VT, FF, CR and space, and a string holding
    /// CR LF holds whitespace and is refused either way), without Foundation's trimming, which was a sixth
    /// of a relationship report's time.
    static func asciiNormalizedMessageID(_ raw: String) -> String? {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        var bytes = Array(raw.utf8)[...]
        while let f = bytes.first, isSpace(f) { bytes.removeFirst() }
        while let l = bytes.last, isSpace(l) { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        if bytes.first == UInt8(ascii: "<") { bytes.removeFirst() }
        if bytes.last == UInt8(ascii: ">") { bytes.removeLast() }
        guard bytes.count <= 250, !bytes.contains(where: { isSpace($0) || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }),
            let at = bytes.lastIndex(of: UInt8(ascii: "@")), at != bytes.startIndex, bytes.index(after: at) != bytes.endIndex
        else { return nil }
        var out = Array(bytes[..<at])
        out.append(UInt8(ascii: "@"))
        for b in bytes[bytes.index(after: at)...] { out.append((0x41...0x5A).contains(b) ? b + 0x20 : b) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `normalizedMessageID` in general (any Unicode).
    static func unicodeNormalizedMessageID(_ raw: String?) -> String? {
        guard var s = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty else { return nil }
        if s.hasPrefix("<") { s.removeFirst() }
        if s.hasSuffix(">") { s.removeLast() }
        guard s.count <= 250, !s.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }),
            let at = s.lastIndex(of: "@"), at != s.startIndex, s.index(after: at) != s.endIndex
        else { return nil }
        return String(s[..<at]) + "@" + s[s.index(after: at)...].lowercased()
    }

    /// `s.split(whereSeparator: \.isWhitespace).joined(separator: " ")`, exactly (keys and fingerprints
    /// already stored depend on it), on UTF-8 bytes. Walking a long body by `Character` (grapheme
    /// breaking, index validation) was a third of a text-heavy backfill's CPU, so ASCII text is decided
    /// byte by byte and only the stretches around non-ASCII bytes are walked by `Character`:
    /// - Between two ASCII bytes there is always a grapheme boundary except inside CR LF, and CR and LF
    ///   are both whitespace, so splitting a CR LF pair changes nothing once whitespace is collapsed.
    /// - A non-ASCII scalar may join the ASCII character before it (a combining mark after a space) or
    ///   after it (a Prepend character before a letter), so each stretch of non-ASCII bytes is taken
    ///   together with one ASCII byte on each side, and stretches that meet through one ASCII byte are
    ///   taken together. Such a stretch starts and ends at grapheme boundaries of the whole string, so its
    ///   own characters are the whole string's.
    /// - A character is whitespace when its first scalar is (`Character.isWhitespace`); an ASCII byte is
    ///   whitespace exactly when it is HT, LF, VT, FF, CR or space.
    static func collapsingWhitespace(_ s: String) -> String {
        var s = s
        s.makeContiguousUTF8()
        return s.utf8.withContiguousStorageIfAvailable(collapsingWhitespace(utf8:))
            ?? s.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func collapsingWhitespace(utf8 b: UnsafeBufferPointer<UInt8>) -> String {
        // A value, not captured variables: closures capturing `out` would box it and check exclusivity
        // dynamically on every byte.
        struct Output {
            var bytes: [UInt8] = []
            var pendingSpace = false
            @inline(__always) mutating func whitespace() { pendingSpace = !bytes.isEmpty }
            @inline(__always) mutating func keep(_ x: UInt8) {
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                bytes.append(x)
            }
            mutating func keep(_ c: Character) {
                if pendingSpace { bytes.append(0x20) }
                pendingSpace = false
                bytes.append(contentsOf: c.utf8)
            }
        }
        var out = Output()
        out.bytes.reserveCapacity(b.count)
        let n = b.count
        var i = 0
        while i < n {
            let x = b[i]
            if x < 0x80 && (i + 1 == n || b[i + 1] < 0x80) {
                if x == 0x20 || (0x09...0x0D).contains(x) { out.whitespace() } else { out.keep(x) }
                i += 1
                continue
            }
            // A stretch with non-ASCII bytes: from this byte (ASCII or not) through the first ASCII byte
            // after the non-ASCII ones that is not followed by another non-ASCII byte.
            var end = i + 1
            while end < n {
                end += 1
                if b[end - 1] < 0x80 && (end == n || b[end] < 0x80) { break }
            }
            for c in String(decoding: UnsafeBufferPointer(rebasing: b[i..<end]), as: UTF8.self) {
                if c.isWhitespace { out.whitespace() } else { out.keep(c) }
            }
            i = end
        }
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// `mid:<Message-ID>`, or `hash:<sha256>` of the normalised date, sender, recipients, subject and
    /// the start of the text when the Message-ID is missing or unusable.
    public static func canonicalKey(_ m: ParsedMessage) -> String {
        if let id = normalizedMessageID(m.messageId) { return "mid:" + id }
        let from = m.from.flatMap { AddressNormalizer.canonical($0.address) } ?? ""
        let recipients = (m.to + m.cc).compactMap { AddressNormalizer.canonical($0.address) }.sorted().joined(separator: ",")
        let date = m.date.map { String(Int64($0.timeIntervalSince1970)) } ?? "nodate"
        let subject = collapsingWhitespace(m.subject ?? "")
        let text = String(collapsingWhitespace(m.textBody ?? "").prefix(1024))
        return "hash:" + sha256Hex(Data([date, from, recipients, subject, text].joined(separator: "\u{1F}").utf8))
    }

    /// What a message says, as a hash: the sender's canonical address, the Date header (as stored, ISO
    /// 8601 UTC), the whitespace-normalised subject and text body, and each attachment's part and size.
    /// A Message-ID is chosen by the sender, so it alone does not make two sightings one email: they
    /// must also agree on this. Computed from what storage keeps, so rows stored before fingerprints
    /// existed get theirs from their columns.
    public static func fingerprint(
        fromAddress: String?, sentAt: String?, subject: String?, textBody: String?,
        attachments: [(partId: String, size: Int)]
    ) -> String {
        func norm(_ s: String?) -> String { collapsingWhitespace(s ?? "") }
        let from = fromAddress.flatMap { AddressNormalizer.canonical($0) } ?? ""
        let parts = attachments.sorted { $0.partId < $1.partId }.map { "\($0.partId):\($0.size)" }.joined(separator: ",")
        return sha256Hex(Data([from, sentAt ?? "", norm(subject), norm(textBody), parts].map { $0 + "\u{1F}" }.joined().utf8))
    }
}

/// What the resolver needs of one sighting of a message.
public struct ThreadInput: Sendable, Equatable {
    public var canonicalKey: String
    public var mailbox: String
    public var gmailThreadId: String?
    public var messageId: String?
    public var inReplyTo: String?
    public var references: [String]

    public init(canonicalKey: String, mailbox: String, gmailThreadId: String?, messageId: String?, inReplyTo: String?, references: [String])
    {
        self.canonicalKey = canonicalKey
        self.mailbox = mailbox
        self.gmailThreadId = gmailThreadId
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
    }

    public init(_ m: ParsedMessage, mailbox: String) {
        self.init(
            canonicalKey: MessageIdentity.canonicalKey(m), mailbox: mailbox, gmailThreadId: m.threadId, messageId: m.messageId,
            inReplyTo: m.inReplyTo, references: m.references)
    }

    /// The keys this message joins: itself, its Message-ID and the ids it names (References capped to the
    /// first and the last `referenceCap - 1`), and its mailbox's Gmail thread. Two different emails that
    /// share a Message-ID land in one thread whichever is stored first (the partition does not depend on
    /// sync order); they stay two emails, and reading is decided per message, so this grants nothing.
    public func keys(referenceCap: Int = ThreadResolver.referenceCap) -> [String] {
        var k = ["msg:" + canonicalKey]
        if let id = MessageIdentity.normalizedMessageID(messageId) { k.append("rfc:" + id) }
        if let r = MessageIdentity.normalizedMessageID(inReplyTo) { k.append("rfc:" + r) }
        let refs = references.compactMap(MessageIdentity.normalizedMessageID)
        let capped = refs.count > referenceCap ? [refs[0]] + refs.suffix(referenceCap - 1) : refs
        k += capped.map { "rfc:" + $0 }
        if let t = gmailThreadId, !t.isEmpty { k.append("gmail:" + mailbox.lowercased() + ":" + t) }
        return k
    }
}

/// Threads as the union of (a) the same Gmail threadId within a mailbox and (b) Message-ID /
/// In-Reply-To / References links across all mailboxes. Union-find: the partition does not depend on
/// the order messages arrive in.
public struct ThreadResolver: Sendable {
    public static let referenceCap = 100

    var parent: [String: String] = [:]
    var messages: Set<String> = []

    public init() {}

    mutating func find(_ x: String) -> String {
        if parent[x] == nil { parent[x] = x; return x }
        var root = x
        while let p = parent[root], p != root { root = p }
        var cur = x
        while let p = parent[cur], p != root { parent[cur] = root; cur = p }
        return root
    }

    mutating func union(_ a: String, _ b: String) {
        let ra = find(a), rb = find(b)
        if ra == rb { return }
        // Deterministic representative: the smaller key wins.
        if ra < rb { parent[rb] = ra } else { parent[ra] = rb }
    }

    public mutating func add(_ input: ThreadInput) {
        let keys = input.keys()
        messages.insert(input.canonicalKey)
        for k in keys.dropFirst() { union(keys[0], k) }
        _ = find(keys[0])
    }

    /// Canonical message keys grouped by thread, each group sorted, groups sorted.
    public mutating func threads() -> [[String]] {
        var groups: [String: [String]] = [:]
        for m in messages { groups[find("msg:" + m), default: []].append(m) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
