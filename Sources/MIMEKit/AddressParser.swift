import Foundation
/// A mailbox: an optional display name and an address.
public struct MailAddress: Sendable, Hashable, Codable {
    /// The decoded display name (quotes removed, RFC 2047 decoded), or nil when there is none.
    public var name: String?
    /// The address as written (`local@domain`), without angle brackets.
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }
}

/// RFC 5322 §3.4 address lists: mailboxes, groups, quoted display names, comments, obsolete routes,
/// RFC 2047 encoded-words in phrases; tolerant of what real mailers write.
public enum AddressParser {
    enum Token: Equatable {
        case atom([UInt8])
        case quoted([UInt8])
        case comment([UInt8])
        case special(UInt8)
        case space
    }

    /// Parses an address-list header value (unfolded bytes; encoded-words are decoded here).
    /// Group names are not addresses: a group contributes its members; an empty group nothing.
    public static func parseList(_ raw: some Collection<UInt8>, problems: inout [String]) -> [MailAddress] {
        let tokens = tokenize(Array(raw), problems: &problems)
        var result: [MailAddress] = []
        var phrase: [Token] = []
        var orphanName: String?
        var i = 0
        var inGroup = false

        func flushPhrase() {
            defer { phrase.removeAll() }
            let words = phrase.filter { $0 != .space }
            let meaningful = words.filter {
                if case .comment = $0 { return false }; return true
            }
            if meaningful.isEmpty { return }
            let spec = addrSpec(words)
            if spec.contains("@") {
                var name: String?
                if let orphan = orphanName { name = orphan; orphanName = nil }
                if name == nil {
                    for case .comment(let c) in words.reversed() {
                        var p: [String] = []
                        let t = EncodedWord.decode(c, problems: &p).trimmingASCIIWhitespace()
                        if !t.isEmpty { name = t; break }
                    }
                }
                result.append(MailAddress(name: name, address: spec))
            } else {
                // A bare phrase with no address: often a display name split by an unquoted comma
                // (e.g. a decoded "Doe, John <jd@example.com>"). Carry it to the next mailbox.
                let text = displayName(phrase, problems: &problems)
                orphanName = orphanName.map { $0 + ", " + text } ?? text
                problems.append("address without @ treated as part of a display name")
            }
        }

        while i < tokens.count {
            let t = tokens[i]
            switch t {
            case .special(UInt8(ascii: "<")):
                // angle-addr: [route ':'] addr-spec '>'
                var j = i + 1
                var inner: [Token] = []
                while j < tokens.count, tokens[j] != .special(UInt8(ascii: ">")) {
                    inner.append(tokens[j]); j += 1
                }
                if j >= tokens.count { problems.append("unterminated angle address") }
                if let colon = inner.lastIndex(of: .special(UInt8(ascii: ":"))) {
                    inner = Array(inner[(colon + 1)...])  // obsolete route "@a,@b:"
                }
                let spec = addrSpec(inner.filter { $0 != .space })
                var name: String? = displayName(phrase, problems: &problems)
                if name?.isEmpty ?? true { name = nil }
                if let orphan = orphanName {
                    name = name.map { orphan + ", " + $0 } ?? orphan
                    orphanName = nil
                }
                if spec.isEmpty {
                    problems.append("empty angle address")
                } else {
                    result.append(MailAddress(name: name, address: spec))
                }
                phrase.removeAll()
                i = j + 1
                // Skip anything up to the next separator (comments, garbage).
                while i < tokens.count {
                    if tokens[i] == .special(UInt8(ascii: ",")) || tokens[i] == .special(UInt8(ascii: ";")) { break }
                    if case .comment = tokens[i] {} else if tokens[i] != .space { problems.append("text after angle address ignored") }
                    i += 1
                }
                continue
            case .special(UInt8(ascii: ":")) where !inGroup && !phraseContainsAt(phrase):
                inGroup = true
                phrase.removeAll()
                orphanName = nil
            case .special(UInt8(ascii: ";")):
                flushPhrase()
                if !inGroup { problems.append("';' outside a group") }
                inGroup = false
            case .special(UInt8(ascii: ",")):
                flushPhrase()
            default:
                phrase.append(t)
            }
            i += 1
        }
        flushPhrase()
        if let orphan = orphanName, !orphan.isEmpty { problems.append("display name without an address dropped") }
        return result
    }

    /// Parses a single-mailbox field (Sender, From with one address): the first mailbox of the list.
    public static func parseMailbox(_ raw: some Collection<UInt8>, problems: inout [String]) -> MailAddress? {
        parseList(raw, problems: &problems).first
    }

    static func phraseContainsAt(_ phrase: [Token]) -> Bool {
        phrase.contains(.special(UInt8(ascii: "@")))
    }

    static func addrSpec(_ tokens: [Token]) -> String {
        var out: [UInt8] = []
        for t in tokens {
            switch t {
            case .atom(let a): out += a
            case .quoted(let q):
                if q.allSatisfy({ $0 > 32 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "@") }) {
                    out += [UInt8(ascii: "\"")] + q + [UInt8(ascii: "\"")]
                } else {
                    out.append(UInt8(ascii: "\""))
                    for c in q {
                        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                        out.append(c)
                    }
                    out.append(UInt8(ascii: "\""))
                }
            case .special(let s): if s == UInt8(ascii: "@") || s == UInt8(ascii: ".") { out.append(s) }
            case .comment, .space: break
            }
        }
        var p: [String] = []
        return EncodedWord.decodeRawHeaderText(out, problems: &p)
    }

    static func displayName(_ tokens: [Token], problems: inout [String]) -> String {
        var words: [[UInt8]] = []
        var quotedHadEncoded = false
        var lastWasSpace = true
        for t in tokens {
            switch t {
            case .atom(let a):
                if !lastWasSpace, !words.isEmpty { words[words.count - 1] += a } else { words.append(a) }
                lastWasSpace = false
            case .quoted(let q):
                if EncodedWord.containsEncodedWordStart(q) { quotedHadEncoded = true }
                if !lastWasSpace, !words.isEmpty { words[words.count - 1] += q } else { words.append(q) }
                lastWasSpace = false
            case .special(let s):
                // obs-phrase allows '.'; other specials in a phrase are kept as text
                if !words.isEmpty { words[words.count - 1].append(s) } else { words.append([s]) }
                lastWasSpace = false
            case .space:
                lastWasSpace = true
            case .comment:
                lastWasSpace = true
            }
        }
        var joined: [UInt8] = []
        for (n, w) in words.enumerated() {
            if n > 0 { joined.append(32) }
            joined += w
        }
        if quotedHadEncoded { problems.append("encoded-word inside a quoted display name decoded") }
        var out = EncodedWord.decode(joined, problems: &problems)
        out = collapseWhitespace(out)
        return out
    }

    static func collapseWhitespace(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for ch in s.unicodeScalars {
            if ch == " " || ch == "\t" || ch == "\r" || ch == "\n" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" "); pendingSpace = false }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func tokenize(_ b: [UInt8], problems: inout [String]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case 32, 9, 13, 10:
                if tokens.last != .space { tokens.append(.space) }
                i += 1
            case UInt8(ascii: "\""):
                var q: [UInt8] = []
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count { q.append(b[i + 1]); i += 2; continue }
                    if b[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    if b[i] != 13 && b[i] != 10 { q.append(b[i]) }
                    i += 1
                }
                if !closed { problems.append("unterminated quoted string in address") }
                tokens.append(.quoted(q))
            case UInt8(ascii: "("):
                var depth = 0
                var text: [UInt8] = []
                while i < b.count {
                    let d = b[i]
                    if d == UInt8(ascii: "\\"), i + 1 < b.count { text.append(b[i + 1]); i += 2; continue }
                    if d == UInt8(ascii: "(") { depth += 1; if depth > 1 { text.append(d) }; i += 1; continue }
                    if d == UInt8(ascii: ")") {
                        depth -= 1; i += 1
                        if depth == 0 { break }
                        text.append(d); continue
                    }
                    text.append(d); i += 1
                }
                if depth > 0 { problems.append("unterminated comment in address") }
                tokens.append(.comment(text))
            case UInt8(ascii: "["):
                var lit: [UInt8] = []
                while i < b.count, b[i] != UInt8(ascii: "]") { lit.append(b[i]); i += 1 }
                if i < b.count { lit.append(b[i]); i += 1 }
                tokens.append(.atom(lit))
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ":"),
                UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "."):
                tokens.append(.special(c))
                i += 1
            default:
                var a: [UInt8] = []
                while i < b.count {
                    let d = b[i]
                    if d == 32 || d == 9 || d == 13 || d == 10 || d == UInt8(ascii: "\"") || d == UInt8(ascii: "(")
                        || d == UInt8(ascii: "<") || d == UInt8(ascii: ">") || d == UInt8(ascii: ",") || d == UInt8(ascii: ":")
                        || d == UInt8(ascii: ";") || d == UInt8(ascii: "@") || d == UInt8(ascii: ".") || d == UInt8(ascii: "[")
                    {
                        break
                    }
                    a.append(d); i += 1
                }
                // An encoded-word may legally contain '.', ':' etc. in its text; keep it whole.
                if a.count >= 2, a[0] == UInt8(ascii: "="), a[1] == UInt8(ascii: "?") {
                    var j = i
                    if !(a.count >= 4 && a[a.count - 2] == UInt8(ascii: "?") && a[a.count - 1] == UInt8(ascii: "=")) {
                        while j + 1 < b.count, !(b[j] == UInt8(ascii: "?") && b[j + 1] == UInt8(ascii: "=")), b[j] != 32, b[j] != 9 {
                            j += 1
                        }
                        if j + 1 < b.count, b[j] == UInt8(ascii: "?"), b[j + 1] == UInt8(ascii: "=") {
                            a += b[i..<(j + 2)]
                            i = j + 2
                        }
                    }
                }
                tokens.append(.atom(a))
            }
        }
        return tokens
    }
}
