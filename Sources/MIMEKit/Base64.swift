import Foundation
/// Base64 (RFC 4648 §4) and base64url (§5) codecs.
///
/// The decoder is lenient in the ways real mail needs: it accepts both alphabets in one input,
/// skips whitespace and line noise, tolerates missing padding, and treats `=` as the end of a
/// quantum (so concatenated padded chunks decode correctly). Anything it had to skip is reported.
public enum Base64 {
    /// What the lenient decoder had to tolerate.
    public struct DecodeReport: Sendable, Equatable {
        /// Characters outside both alphabets that were not whitespace (line noise).
        public var invalidCharacters = 0
        /// True when the input ended with a partial quantum that could not carry a whole byte.
        public var truncatedQuantum = false
        /// True when a quantum was closed without `=` padding.
        public var missingPadding = false
        public var isClean: Bool { invalidCharacters == 0 && !truncatedQuantum }
        public init() {}
    }

    // 0...63 = value, 64 = whitespace (skip silently), 65 = '=' padding, 255 = invalid.
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        for c in [UInt8(ascii: " "), 9, 10, 13, 11, 12] { t[Int(c)] = 64 }
        t[Int(UInt8(ascii: "="))] = 65
        return t
    }()

    /// Decodes standard or URL-safe base64, leniently.
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8] {
        var report = DecodeReport()
        return decode(input, report: &report)
    }

    /// Decodes standard or URL-safe base64, leniently, and says what it tolerated.
    public static func decode(_ input: some Collection<UInt8>, report: inout DecodeReport) -> [UInt8] {
        if let fast = input.withContiguousStorageIfAvailable({ decode(buffer: $0, report: &report) }) {
            return fast
        }
        let copy = Array(input)
        return copy.withUnsafeBufferPointer { decode(buffer: $0, report: &report) }
    }

    /// Decodes a base64 string (either alphabet).
    public static func decode(_ string: String) -> [UInt8] {
        decode(Array(string.utf8))
    }

    private static func decode(buffer: UnsafeBufferPointer<UInt8>, report: inout DecodeReport) -> [UInt8] {
        var decoder = StreamDecoder()
        let result = [UInt8](unsafeUninitializedCapacity: buffer.count / 4 * 3 + 3) { out, initialized in
            var o = decoder.decode(buffer, into: out.baseAddress!)
            o += decoder.finish(into: out.baseAddress! + o)
            initialized = o
        }
        report.invalidCharacters += decoder.report.invalidCharacters
        report.truncatedQuantum = report.truncatedQuantum || decoder.report.truncatedQuantum
        report.missingPadding = report.missingPadding || decoder.report.missingPadding
        return result
    }

    /// Decodes a long base64 input in chunks, without holding the whole decoded result, e.g. to hash
    /// an attachment. `body` receives each decoded chunk; returns the decoded byte count.
    public static func decodeChunked(
        _ input: UnsafeBufferPointer<UInt8>, chunkSize: Int = 1 << 16, report: inout DecodeReport,
        _ body: (UnsafeRawBufferPointer) -> Void
    ) -> Int {
        var decoder = StreamDecoder()
        var total = 0
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize / 4 * 3 + 8)
        defer { out.deallocate() }
        var start = 0
        while start < input.count {
            let end = min(input.count, start + chunkSize)
            let n = decoder.decode(UnsafeBufferPointer(rebasing: input[start..<end]), into: out)
            if n > 0 { body(UnsafeRawBufferPointer(start: out, count: n)) }
            total += n
            start = end
        }
        let n = decoder.finish(into: out)
        if n > 0 { body(UnsafeRawBufferPointer(start: out, count: n)) }
        total += n
        report.invalidCharacters += decoder.report.invalidCharacters
        report.truncatedQuantum = report.truncatedQuantum || decoder.report.truncatedQuantum
        report.missingPadding = report.missingPadding || decoder.report.missingPadding
        return total
    }

    /// Incremental lenient decoder: feed chunks with `decode`, then call `finish`. Each call writes at most
    /// `input.count / 4 * 3 + 3` bytes.
    struct StreamDecoder {
        var acc: UInt32 = 0
        var n = 0
        var report = DecodeReport()

        mutating func decode(_ buffer: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
            Base64.table.withUnsafeBufferPointer { t in
                var o = 0
                var i = 0
                let count = buffer.count
                while i < count {
                    // Fast path: four valid symbols in a row.
                    if n == 0 {
                        while i + 4 <= count {
                            let a = t[Int(buffer[i])], b = t[Int(buffer[i + 1])]
                            let c = t[Int(buffer[i + 2])], d = t[Int(buffer[i + 3])]
                            if (a | b | c | d) >= 64 { break }
                            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            out[o] = UInt8(truncatingIfNeeded: v >> 16)
                            out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                            out[o + 2] = UInt8(truncatingIfNeeded: v)
                            o += 3
                            i += 4
                        }
                        if i >= count { break }
                    }
                    let v = t[Int(buffer[i])]
                    i += 1
                    if v < 64 {
                        acc = acc << 6 | UInt32(v)
                        n += 1
                        if n == 4 {
                            out[o] = UInt8(truncatingIfNeeded: acc >> 16)
                            out[o + 1] = UInt8(truncatingIfNeeded: acc >> 8)
                            out[o + 2] = UInt8(truncatingIfNeeded: acc)
                            o += 3
                            acc = 0; n = 0
                        }
                    } else if v == 64 {
                        continue
                    } else if v == 65 {
                        o += flush(into: out + o, padded: true)
                    } else {
                        report.invalidCharacters += 1
                    }
                }
                return o
            }
        }

        mutating func finish(into out: UnsafeMutablePointer<UInt8>) -> Int {
            flush(into: out, padded: false)
        }

        mutating func flush(into out: UnsafeMutablePointer<UInt8>, padded: Bool) -> Int {
            defer { acc = 0; n = 0 }
            switch n {
            case 2:
                out[0] = UInt8(truncatingIfNeeded: acc >> 4)
                if !padded { report.missingPadding = true }
                return 1
            case 3:
                out[0] = UInt8(truncatingIfNeeded: acc >> 10)
                out[1] = UInt8(truncatingIfNeeded: acc >> 2)
                if !padded { report.missingPadding = true }
                return 2
            case 1:
                report.truncatedQuantum = true
                return 0
            default:
                return 0
            }
        }
    }

    /// Encodes bytes as base64.
    /// - Parameters:
    ///   - urlSafe: use the URL alphabet (`-`, `_`) as Gmail does for `raw` and `body.data`.
    ///   - padded: append `=` padding (Gmail pads).
    ///   - lineLength: insert CRLF after this many characters (76 for MIME bodies); nil for none.
    public static func encode(_ bytes: some Collection<UInt8>, urlSafe: Bool = false, padded: Bool = true, lineLength: Int? = nil) -> String
    {
        if let s = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0, urlSafe: urlSafe, padded: padded, lineLength: lineLength) })
        {
            return s
        }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0, urlSafe: urlSafe, padded: padded, lineLength: lineLength) }
    }

    static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlSafeAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Appends the base64 of `bytes` (no line breaks) to `out`, written in place: no intermediate
    /// string, no UTF-8 validation of it (for writers of JSON and HTTP bodies).
    public static func encode(_ bytes: some Collection<UInt8>, urlSafe: Bool = false, padded: Bool = true, appendingTo out: inout [UInt8]) {
        let n = bytes.count
        let chars = padded ? (n + 2) / 3 * 4 : (n * 4 + 2) / 3
        guard chars > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: chars))
        out.withUnsafeMutableBufferPointer { o in
            let target = UnsafeMutableBufferPointer(rebasing: o[start..<(start + chars)])
            let written =
                bytes.withContiguousStorageIfAvailable {
                    encode(buffer: $0, urlSafe: urlSafe, padded: padded, lineLength: nil, into: target)
                }
                ?? Array(bytes).withUnsafeBufferPointer {
                    encode(buffer: $0, urlSafe: urlSafe, padded: padded, lineLength: nil, into: target)
                }
            precondition(written == chars)
        }
    }

    /// Writes straight into the string's storage: 4 output bytes per 3 input bytes, CRLF every
    /// `lineLength` characters when given.
    static func encode(buffer input: UnsafeBufferPointer<UInt8>, urlSafe: Bool, padded: Bool, lineLength: Int?) -> String {
        let total = encodedLength(input.count, padded: padded, lineLength: lineLength)
        guard total > 0 else { return "" }
        return String(unsafeUninitializedCapacity: total) { out in
            encode(buffer: input, urlSafe: urlSafe, padded: padded, lineLength: lineLength, into: out)
        }
    }

    static func encodedLength(_ count: Int, padded: Bool, lineLength: Int?) -> Int {
        let line = lineLength.map { max($0, 1) }
        let chars = padded ? (count + 2) / 3 * 4 : (count * 4 + 2) / 3
        let breaks = line.map { chars > 0 ? (chars - 1) / $0 : 0 } ?? 0
        return chars + breaks * 2
    }

    /// Writes the encoding into `out` (at least `encodedLength` bytes); returns the bytes written.
    static func encode(
        buffer input: UnsafeBufferPointer<UInt8>, urlSafe: Bool, padded: Bool, lineLength: Int?, into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        let line = lineLength.map { max($0, 1) }
        return (urlSafe ? urlSafeAlphabet : standardAlphabet).withUnsafeBufferPointer { alphabet in
            do {
                var o = 0
                var col = 0
                @inline(__always) func put(_ c: UInt8) {
                    if let l = line, col == l { out[o] = 13; out[o + 1] = 10; o += 2; col = 0 }
                    out[o] = c; o += 1; col += 1
                }
                var i = 0
                let n = input.count
                if line == nil {
                    while i + 3 <= n {
                        let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                        out[o] = alphabet[Int(v >> 18 & 63)]; out[o + 1] = alphabet[Int(v >> 12 & 63)]
                        out[o + 2] = alphabet[Int(v >> 6 & 63)]; out[o + 3] = alphabet[Int(v & 63)]
                        o += 4
                        i += 3
                    }
                } else {
                    while i + 3 <= n {
                        let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                        put(alphabet[Int(v >> 18 & 63)]); put(alphabet[Int(v >> 12 & 63)])
                        put(alphabet[Int(v >> 6 & 63)]); put(alphabet[Int(v & 63)])
                        i += 3
                    }
                }
                let rest = n - i
                if rest == 1 {
                    let v = UInt32(input[i]) << 16
                    put(alphabet[Int(v >> 18 & 63)]); put(alphabet[Int(v >> 12 & 63)])
                    if padded { put(UInt8(ascii: "=")); put(UInt8(ascii: "=")) }
                } else if rest == 2 {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    put(alphabet[Int(v >> 18 & 63)]); put(alphabet[Int(v >> 12 & 63)]); put(alphabet[Int(v >> 6 & 63)])
                    if padded { put(UInt8(ascii: "=")) }
                }
                return o
            }
        }
    }
}
