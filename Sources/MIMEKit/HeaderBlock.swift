#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation

/// One header field as it appears on the wire.
public struct HeaderField: Sendable, Hashable {
    /// The field name with its original capitalisation.
    public var name: String
    /// The raw value bytes after the colon, folds included (CRLF/LF kept), leading whitespace kept.
    public var rawValue: [UInt8]

    public init(name: String, rawValue: [UInt8]) {
        self.name = name
        self.rawValue = rawValue
    }

    /// RFC 5322 §2.2.3 unfolding: line breaks removed, whitespace kept, leading whitespace trimmed.
    public var unfoldedBytes: [UInt8] {
        rawValue.withUnsafeBufferPointer { raw in
            var out = [UInt8]()
            out.reserveCapacity(raw.count)
            // Copied a line at a time (the stretches between line breaks), not byte by byte.
            var start = 0
            for i in 0..<raw.count where raw[i] == 13 || raw[i] == 10 {
                if start < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<i])) }
                start = i + 1
            }
            if start < raw.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<raw.count])) }
            var a = 0
            while a < out.count, out[a] == 32 || out[a] == 9 { a += 1 }
            var e = out.count
            while e > a, out[e - 1] == 32 || out[e - 1] == 9 { e -= 1 }
            if a == 0 && e == out.count { return out }
            return Array(out[a..<e])
        }
    }

    /// The unfolded value as text (UTF-8, else Windows-1252), encoded-words NOT decoded.
    public var unfoldedText: String {
        var p: [String] = []
        return EncodedWord.decodeRawHeaderText(unfoldedBytes, problems: &p)
    }

    /// The unfolded value with RFC 2047 encoded-words decoded (for unstructured fields like Subject).
    public func decodedText(problems: inout [String]) -> String {
        EncodedWord.decode(unfoldedBytes, problems: &problems)
    }
}

/// An ordered list of header fields (duplicates kept, original order).
public struct HeaderBlock: Sendable, Hashable {
    public var fields: [HeaderField]

    public init(fields: [HeaderField] = []) { self.fields = fields }

    /// The first field with this name (case-insensitive).
    public func first(_ name: String) -> HeaderField? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// Every field with this name (case-insensitive), in order.
    public func all(_ name: String) -> [HeaderField] {
        fields.filter { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// The unfolded value of the first field with this name, encoded-words not decoded.
    public subscript(_ name: String) -> String? { first(name)?.unfoldedText }

    /// Result of parsing a header block out of a byte buffer.
    public struct ParseResult: Sendable {
        public var block: HeaderBlock
        /// Index of the first body byte (after the blank line), or the end when there is no body.
        public var bodyStart: Int
        public var problems: [String]
    }

    /// Parses the header block that starts at `start` in `bytes`, up to `end`.
    ///
    /// Lines end in LF or CRLF. A line starting with space or tab continues the previous field. The block
    /// ends at the first empty line. A line that is neither a field nor a continuation ends the block
    /// (recorded as a problem) and starts the body, as Python's email and MimeKit do; a leading mbox
    /// `From ` line is skipped. At most `maxBytes` of header text are kept; the rest is skipped.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, maxBytes: Int) -> ParseResult {
        var fields: [HeaderField] = []
        var problems: [String] = []
        var i = start
        var currentName: String?
        var currentValue: [UInt8] = []
        var truncated = false
        func finish() {
            if let n = currentName { fields.append(HeaderField(name: n, rawValue: currentValue)) }
            currentName = nil
            currentValue = []
        }
        var firstLine = true
        while i < end {
            // Find the end of this line.
            var lineEnd = i
            if let p = memchrIndex(bytes, UInt8(10), from: i, to: end) { lineEnd = p } else { lineEnd = end }
            let nextLine = lineEnd < end ? lineEnd + 1 : end
            var contentEnd = lineEnd
            if contentEnd > i && bytes[contentEnd - 1] == 13 { contentEnd -= 1 }
            if contentEnd == i {
                // Blank line: end of headers.
                finish()
                return ParseResult(block: HeaderBlock(fields: fields), bodyStart: nextLine, problems: problems)
            }
            if i - start > maxBytes {
                if !truncated { problems.append("header block exceeds \(maxBytes) bytes; the rest was skipped"); truncated = true }
                finish()
                i = nextLine
                continue
            }
            let c = bytes[i]
            if c == 32 || c == 9 {
                if currentName != nil {
                    currentValue.append(contentsOf: [13, 10])
                    currentValue.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<contentEnd]))
                } else if !firstLine || fields.isEmpty {
                    problems.append("continuation line without a field")
                }
                i = nextLine
                firstLine = false
                continue
            }
            // name ':' value; the name is printable ASCII without space or colon.
            var j = i
            while j < contentEnd, bytes[j] != UInt8(ascii: ":"), bytes[j] > 32, bytes[j] < 127 { j += 1 }
            var k = j
            while k < contentEnd, bytes[k] == 32 || bytes[k] == 9 { k += 1 }  // "Subject : x" (obsolete)
            if k < contentEnd, bytes[k] == UInt8(ascii: ":"), j > i {
                finish()
                if k > j { problems.append("whitespace before colon in header field") }
                currentName = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<j]), as: UTF8.self)
                currentValue = Array(UnsafeBufferPointer(rebasing: bytes[(k + 1)..<contentEnd]))
                i = nextLine
                firstLine = false
                continue
            }
            if firstLine && contentEnd - i >= 5 && bytes[i] == UInt8(ascii: "F") && bytes[i + 1] == UInt8(ascii: "r")
                && bytes[i + 2] == UInt8(ascii: "o") && bytes[i + 3] == UInt8(ascii: "m") && bytes[i + 4] == 32
            {
                i = nextLine  // mbox separator
                firstLine = false
                continue
            }
            // Not a header: the body starts here.
            finish()
            problems.append("line without a colon ended the header block (missing blank line)")
            return ParseResult(block: HeaderBlock(fields: fields), bodyStart: i, problems: problems)
        }
        finish()
        return ParseResult(block: HeaderBlock(fields: fields), bodyStart: end, problems: problems)
    }

    /// Parses a header block from a byte array (convenience).
    public static func parse(_ bytes: [UInt8], maxBytes: Int = 1 << 20) -> ParseResult {
        bytes.withUnsafeBufferPointer { parse($0, from: 0, to: $0.count, maxBytes: maxBytes) }
    }
}

@inline(__always)
func memchrIndex(_ buf: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int, to: Int) -> Int? {
    guard from < to, let base = buf.baseAddress else { return nil }
    guard let p = memchr(base + from, Int32(byte), to - from) else { return nil }
    return UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self) - base
}

extension String {
    /// ASCII case-insensitive equality without allocating (header field names are ASCII).
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        var a = self.utf8.makeIterator()
        var b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                if x == y { continue }
                let lx = x >= 65 && x <= 90 ? x | 0x20 : x
                let ly = y >= 65 && y <= 90 ? y | 0x20 : y
                if lx != ly { return false }
            default: return false
            }
        }
    }
}
