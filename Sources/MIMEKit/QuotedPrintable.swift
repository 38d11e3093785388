/// Quoted-printable (RFC 2045 §6.7) and the RFC 2047 "Q" encoding.
public enum QuotedPrintable {
    /// Decodes a quoted-printable body, leniently.
    ///
    /// Soft line breaks (`=` at the end of a line, before CRLF or LF) are removed; `=XX` with hex digits
    /// in either case is decoded; a malformed `=` sequence is kept literally and counted in `malformed`;
    /// trailing spaces and tabs at the end of a line are dropped as RFC 2045 requires.
    public static func decode(_ input: some Collection<UInt8>, malformed: inout Int) -> [UInt8] {
        let bytes = Array(input)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        let n = bytes.count
        var pendingSpaces = 0  // whitespace held back until we know it is not trailing
        var spaceBuffer = [UInt8]()
        func flushSpaces() {
            if pendingSpaces > 0 { out.append(contentsOf: spaceBuffer); spaceBuffer.removeAll(keepingCapacity: true); pendingSpaces = 0 }
        }
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: " ") || c == 9 {
                spaceBuffer.append(c); pendingSpaces += 1; i += 1
                continue
            }
            if c == 13 && i + 1 < n && bytes[i + 1] == 10 {
                spaceBuffer.removeAll(keepingCapacity: true); pendingSpaces = 0
                out.append(13); out.append(10); i += 2
                continue
            }
            if c == 10 {
                spaceBuffer.removeAll(keepingCapacity: true); pendingSpaces = 0
                out.append(10); i += 1
                continue
            }
            flushSpaces()
            if c == UInt8(ascii: "=") {
                // Soft line break: '=' followed by optional whitespace then CRLF/LF.
                var j = i + 1
                while j < n && (bytes[j] == UInt8(ascii: " ") || bytes[j] == 9) { j += 1 }
                if j < n && bytes[j] == 10 { i = j + 1; continue }
                if j + 1 < n && bytes[j] == 13 && bytes[j + 1] == 10 { i = j + 2; continue }
                if j == n { i = n; continue }  // '=' at the very end: soft break before EOF
                if let h = hexValue(bytes[safe: i + 1]), let l = hexValue(bytes[safe: i + 2]) {
                    out.append(h << 4 | l); i += 3
                    continue
                }
                malformed += 1
                out.append(c); i += 1
                continue
            }
            out.append(c); i += 1
        }
        flushSpaces()
        return out
    }

    /// Decodes without reporting.
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8] {
        var m = 0
        return decode(input, malformed: &m)
    }

    /// Encodes bytes as quoted-printable with 76-character lines and CRLF line ends.
    /// Line breaks in the input (CRLF or LF) are emitted as CRLF hard breaks.
    public static func encode(_ input: some Collection<UInt8>) -> String {
        let bytes = Array(input)
        var out = [UInt8]()
        var col = 0
        let hex = Array("0123456789ABCDEF".utf8)
        func emit(_ s: [UInt8]) {
            if col + s.count > 75 { out.append(contentsOf: [UInt8(ascii: "="), 13, 10]); col = 0 }
            out.append(contentsOf: s); col += s.count
        }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { out.append(13); out.append(10); col = 0; i += 2; continue }
            if c == 10 { out.append(13); out.append(10); col = 0; i += 1; continue }
            let nextIsBreak = i + 1 == bytes.count || bytes[i + 1] == 10 || bytes[i + 1] == 13
            if (c == 32 || c == 9) && !nextIsBreak {
                emit([c])
            } else if c >= 33 && c <= 126 && c != UInt8(ascii: "=") {
                emit([c])
            } else {
                emit([UInt8(ascii: "="), hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes RFC 2047 "Q" text: like quoted-printable, but `_` is a space and there are no line breaks.
    public static func decodeQ(_ input: some Collection<UInt8>, malformed: inout Int) -> [UInt8] {
        let bytes = Array(input)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "_") { out.append(32); i += 1; continue }
            if c == UInt8(ascii: "="), let h = hexValue(bytes[safe: i + 1]), let l = hexValue(bytes[safe: i + 2]) {
                out.append(h << 4 | l); i += 3; continue
            }
            if c == UInt8(ascii: "=") { malformed += 1 }
            out.append(c); i += 1
        }
        return out
    }

    @inline(__always)
    static func hexValue(_ c: UInt8?) -> UInt8? {
        guard let c else { return nil }
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

extension Array {
    @inline(__always)
    subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}
