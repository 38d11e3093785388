import Foundation

/// RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in unstructured header text and phrases.
public enum EncodedWord {
    enum Token {
        case text([UInt8])
        case encoded(charset: String, bytes: [UInt8])
    }

    /// Decodes every encoded-word in a header value and converts the rest from UTF-8 (or Windows-1252
    /// when the raw bytes are not valid UTF-8).
    ///
    /// Whitespace between two adjacent encoded-words is dropped (RFC 2047 §6.2); adjacent words in the
    /// same charset are joined before conversion, so a multi-byte character split across two words
    /// survives. Malformed words are kept literally and reported in `problems`.
    public static func decode(_ value: some Collection<UInt8>, problems: inout [String]) -> String {
        let bytes = Array(value)
        if !containsEncodedWordStart(bytes) { return decodeRawHeaderText(bytes, problems: &problems) }
        let tokens = tokenize(bytes, problems: &problems)
        // Drop whitespace-only text between encoded words; merge same-charset neighbours.
        var merged: [Token] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if case .text(let b) = t, b.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }),
                i > 0, i + 1 < tokens.count,
                case .encoded = tokens[i - 1], case .encoded = tokens[i + 1]
            {
                i += 1
                continue
            }
            if case .encoded(let cs, let b) = t, case .encoded(let prevCS, let prevB)? = merged.last,
                Charset.canonicalName(cs) == Charset.canonicalName(prevCS)
            {
                merged[merged.count - 1] = .encoded(charset: prevCS, bytes: prevB + b)
            } else {
                merged.append(t)
            }
            i += 1
        }
        var out = ""
        for t in merged {
            switch t {
            case .text(let b):
                out += decodeRawHeaderText(b, problems: &problems)
            case .encoded(let cs, let b):
                let d = Charset.decode(b, charset: cs)
                if let p = d.problem { problems.append("encoded-word: \(p)") }
                out += d.text
            }
        }
        return out
    }

    /// Decodes without collecting problems.
    public static func decode(_ value: String) -> String {
        var p: [String] = []
        return decode(Array(value.utf8), problems: &p)
    }

    /// Raw header bytes to a string: UTF-8 when valid (RFC 6532), else Windows-1252.
    public static func decodeRawHeaderText(_ bytes: some Collection<UInt8>, problems: inout [String]) -> String {
        if Charset.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        problems.append("8-bit header bytes are not UTF-8; decoded as Windows-1252")
        return Charset.windows1252(bytes)
    }

    static func containsEncodedWordStart(_ b: [UInt8]) -> Bool {
        if b.count < 2 { return false }
        // memchr for each `=` (DKIM and ARC values are long and hold few of them).
        return b.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return false }
            var i = 0
            while i < buf.count - 1, let hit = memchr(base + i, Int32(UInt8(ascii: "=")), buf.count - 1 - i) {
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if buf[at + 1] == UInt8(ascii: "?") { return true }
                i = at + 1
            }
            return false
        }
    }

    static func tokenize(_ b: [UInt8], problems: inout [String]) -> [Token] {
        var tokens: [Token] = []
        var text: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "="), i + 1 < b.count, b[i + 1] == UInt8(ascii: "?") {
                if let (token, end) = parseWord(b, at: i, problems: &problems) {
                    if !text.isEmpty { tokens.append(.text(text)); text.removeAll() }
                    tokens.append(token)
                    i = end
                    continue
                }
                problems.append("malformed encoded-word kept literally")
            }
            text.append(b[i])
            i += 1
        }
        if !text.isEmpty { tokens.append(.text(text)) }
        return tokens
    }

    /// Parses `=?cs?e?text?=` starting at `start`; returns the token and the index after it.
    static func parseWord(_ b: [UInt8], at start: Int, problems: inout [String]) -> (Token, Int)? {
        var i = start + 2
        let csStart = i
        while i < b.count, b[i] != UInt8(ascii: "?"), b[i] > 32, b[i] < 127, i - csStart < 64 { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: "?"), i > csStart else { return nil }
        let charset = String(decoding: b[csStart..<i], as: UTF8.self)
        i += 1
        guard i + 1 < b.count, b[i + 1] == UInt8(ascii: "?") else { return nil }
        let enc = b[i] | 0x20
        guard enc == UInt8(ascii: "b") || enc == UInt8(ascii: "q") else { return nil }
        i += 2
        let textStart = i
        // Text runs to the next "?=". Encoded text may not contain '?' in B; in Q a '?' ends the word.
        var sawWhitespace = false
        while i + 1 < b.count, !(b[i] == UInt8(ascii: "?") && b[i + 1] == UInt8(ascii: "=")) {
            if b[i] == 10 || b[i] == 13 { return nil }
            if b[i] == 32 || b[i] == 9 { sawWhitespace = true }
            i += 1
        }
        guard i + 1 < b.count else { return nil }
        let text = b[textStart..<i]
        if sawWhitespace { problems.append("encoded-word contains whitespace") }
        var decoded: [UInt8]
        if enc == UInt8(ascii: "b") {
            var report = Base64.DecodeReport()
            decoded = Base64.decode(text, report: &report)
            if !report.isClean { problems.append("encoded-word has invalid base64") }
        } else {
            var malformed = 0
            decoded = QuotedPrintable.decodeQ(text, malformed: &malformed)
            if malformed > 0 { problems.append("encoded-word has invalid Q encoding") }
        }
        return (.encoded(charset: charset, bytes: decoded), i + 2)
    }
}
