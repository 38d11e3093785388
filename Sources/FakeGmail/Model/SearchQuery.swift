import Foundation

/// Gmail search (`q`) as the fake understands it: `from:`, `to:`, `cc:`, `bcc:`, `subject:`, `after:`,
/// `before:`, `older_than:`, `newer_than:`, `label:`, `in:`, `is:`, `has:attachment`, `rfc822msgid:`,
/// `-` negation, bare words and "quoted phrases". Anything else is rejected (400), never ignored.
struct SearchQuery: Sendable {
    enum Term: Sendable {
        case field(String, String)  // from/to/cc/bcc/subject: substring, case-insensitive
        case after(Int64), before(Int64)  // epoch ms
        case label(String)
        case inFolder(String)
        case isFlag(String)
        case hasAttachment
        case rfc822msgid(String)
        case word(String)
    }

    var terms: [(negated: Bool, term: Term)] = []
    /// `in:anywhere` (or a spam/trash term) lifts the default SPAM/TRASH exclusion.
    var includesSpamTrash = false

    struct ParseError: Error { var message: String }

    static func parse(_ q: String, now: Int64) throws -> SearchQuery {
        var result = SearchQuery()
        for raw in tokenize(q) {
            var token = raw
            var negated = false
            if token.hasPrefix("-") && token.count > 1 { negated = true; token.removeFirst() }
            if token == "OR" || token.hasPrefix("(") || token.hasPrefix("{") || token == "AND" || token.hasPrefix("AROUND") {
                throw ParseError(message: "Invalid search query: unsupported operator \"\(raw)\"")
            }
            guard let colon = token.firstIndex(of: ":"), !token.hasPrefix("\"") else {
                result.terms.append((negated, .word(unquote(token).lowercased())))
                continue
            }
            let op = token[..<colon].lowercased()
            let value = unquote(String(token[token.index(after: colon)...]))
            if value.isEmpty { throw ParseError(message: "Invalid search query: empty value for \(op):") }
            switch op {
            case "from", "to", "cc", "bcc", "subject":
                result.terms.append((negated, .field(op, value.lowercased())))
            case "after", "before", "newer", "older":
                guard let ms = parseDate(value) else { throw ParseError(message: "Invalid search query: bad date \"\(value)\"") }
                result.terms.append((negated, op == "after" || op == "newer" ? .after(ms) : .before(ms)))
            case "newer_than", "older_than":
                guard let span = parseSpan(value) else { throw ParseError(message: "Invalid search query: bad period \"\(value)\"") }
                result.terms.append((negated, op == "newer_than" ? .after(now - span) : .before(now - span)))
            case "label":
                result.terms.append((negated, .label(value)))
                if ["spam", "trash"].contains(value.lowercased()) { result.includesSpamTrash = true }
            case "in":
                let v = value.lowercased()
                guard
                    ["inbox", "sent", "spam", "trash", "drafts", "draft", "anywhere", "chats", "chat", "starred", "important"].contains(v)
                else {
                    throw ParseError(message: "Invalid search query: unsupported in:\(value)")
                }
                if v == "anywhere" || v == "spam" || v == "trash" { result.includesSpamTrash = true }
                if v != "anywhere" { result.terms.append((negated, .inFolder(v))) }
            case "is":
                let v = value.lowercased()
                guard ["unread", "read", "starred", "important", "sent", "draft", "chat"].contains(v) else {
                    throw ParseError(message: "Invalid search query: unsupported is:\(value)")
                }
                result.terms.append((negated, .isFlag(v)))
            case "has":
                guard value.lowercased() == "attachment" else {
                    throw ParseError(message: "Invalid search query: unsupported has:\(value)")
                }
                result.terms.append((negated, .hasAttachment))
            case "rfc822msgid":
                result.terms.append((negated, .rfc822msgid(value.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))))
            default:
                throw ParseError(message: "Invalid search query: unsupported operator \"\(op):\"")
            }
        }
        return result
    }

    func matches(_ m: FakeMessage, labels: (String) -> String?) -> Bool {
        for (negated, term) in terms {
            let hit: Bool
            switch term {
            case .field(let f, let v):
                let hay: String
                switch f {
                case "from": hay = m.index.from
                case "to": hay = m.index.to
                case "cc": hay = m.index.cc
                case "bcc": hay = m.index.bcc
                default: hay = m.index.subject
                }
                hit = hay.lowercased().contains(v)
            case .after(let ms): hit = m.internalDate >= ms
            case .before(let ms): hit = m.internalDate < ms
            case .label(let name):
                let dashed = name.replacingOccurrences(of: "-", with: " ")
                let id = labels(name) ?? labels(dashed)
                hit = id.map { m.labelIds.contains($0) } ?? false
            case .inFolder(let f):
                let map = [
                    "inbox": "INBOX", "sent": "SENT", "spam": "SPAM", "trash": "TRASH", "drafts": "DRAFT", "draft": "DRAFT",
                    "chats": "CHAT", "chat": "CHAT", "starred": "STARRED", "important": "IMPORTANT",
                ]
                hit = m.labelIds.contains(map[f] ?? "")
            case .isFlag(let f):
                switch f {
                case "unread": hit = m.labelIds.contains("UNREAD")
                case "read": hit = !m.labelIds.contains("UNREAD")
                case "starred": hit = m.labelIds.contains("STARRED")
                case "important": hit = m.labelIds.contains("IMPORTANT")
                case "sent": hit = m.labelIds.contains("SENT")
                case "draft": hit = m.labelIds.contains("DRAFT")
                default: hit = m.labelIds.contains("CHAT")
                }
            case .hasAttachment: hit = m.index.hasAttachment
            case .rfc822msgid(let id): hit = m.index.rfc822MessageID == id
            case .word(let w): hit = m.matches(words: w)
            }
            if hit == negated { return false }
        }
        return true
    }

    /// Splits on whitespace, keeping "quoted phrases" (also after `op:`) together.
    static func tokenize(_ q: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var inQuote = false
        for ch in q {
            if ch == "\"" { inQuote.toggle(); cur.append(ch); continue }
            if ch.isWhitespace && !inQuote {
                if !cur.isEmpty { out.append(cur); cur = "" }
            } else {
                cur.append(ch)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func unquote(_ s: String) -> String {
        var t = s
        if t.hasPrefix("\"") { t.removeFirst() }
        if t.hasSuffix("\"") { t.removeLast() }
        return t
    }

    /// `2024/01/31` (midnight Pacific, as Gmail documents; PST offset used), `2024-01-31`, or epoch seconds.
    static func parseDate(_ s: String) -> Int64? {
        if let secs = Int64(s), secs > 100_000 { return secs * 1000 }
        let parts = s.split(whereSeparator: { $0 == "/" || $0 == "-" }).compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        var c = DateComponents()
        c.year = parts[0]; c.month = parts[1]; c.day = parts[2]
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: -8 * 3600)!
        guard let d = cal.date(from: c) else { return nil }
        return Int64(d.timeIntervalSince1970 * 1000)
    }

    /// `3d`, `2m`, `1y` (days, months of 30 days, years of 365 days) in milliseconds.
    static func parseSpan(_ s: String) -> Int64? {
        guard let unit = s.last, let n = Int64(s.dropLast()), n >= 0 else { return nil }
        let day: Int64 = 86_400_000
        switch unit {
        case "d": return n * day
        case "m": return n * 30 * day
        case "y": return n * 365 * day
        default: return nil
        }
    }
}
