import Foundation
/// Quoted-printable (RFC 2045 §6.7) and the RFC 2047 "Q" encoding.
public enum QuotedPrintable {
    /// Decodes a quoted-printable body, leniently.
    ///
    /// Soft line breaks (`=` at the end of a line, before CRLF or LF) are removed; `=XX` with hex digits
    /// in either case is decoded; a malformed `=` sequence is kept literally and counted in `malformed`;
    /// trailing spaces and tabs at the end of a line are dropped as RFC 2045 requires.
    public static func decode(_ input: some Collection<UInt8>, malformed: inout Int) -> [UInt8] {
        if let r = input.withContiguousStorageIfAvailable({ decode(buffer: $0, malformed: &malformed) }) { return r }
        let copy = Array(input)
        return copy.withUnsafeBufferPointer { decode(buffer: $0, malformed: &malformed) }
    }

    static func decode(buffer b: UnsafeBufferPointer<UInt8>, malformed: inout Int) -> [UInt8] {
        let n = b.count
        var bad = 0
        let result = [UInt8](unsafeUninitializedCapacity: n) { out, initialized in
            guard let src = b.baseAddress, let dst = out.baseAddress else {
                initialized = 0
                return
            }
            var o = 0
            var i = 0
            // Bytes other than `=`, CR and LF are copied a run at a time. Whitespace at the end of a
            // line is taken back when the hard line break comes (RFC 2045 §6.7 rule 3): only literal
            // whitespace of the run just copied, never a decoded `=20` or anything before it.
            while i < n {
                var j = i
                while j < n {
                    // Eight bytes at a time while none is `=`, CR or LF (SWAR zero-byte tests).
                    if j + 8 <= n && !mayBeSpecial(UnsafeRawPointer(src + j).loadUnaligned(as: UInt64.self)) {
                        j += 8
                        continue
                    }
                    let c = src[j]
                    if c == UInt8(ascii: "=") || c == 10 || c == 13 { break }
                    j += 1
                }
                let runStart = o
                if j > i {
                    (dst + o).update(from: src + i, count: j - i)
                    o += j - i
                    i = j
                }
                if i == n { break }
                let c = src[i]
                if c == 10 || (c == 13 && i + 1 < n && src[i + 1] == 10) {
                    while o > runStart && (dst[o - 1] == 32 || dst[o - 1] == 9) { o -= 1 }
                    if c == 13 {
                        dst[o] = 13
                        o += 1
                        i += 1
                    }
                    dst[o] = 10
                    o += 1
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "=") {
                    // Soft line break: '=' followed by optional whitespace then CRLF/LF (or the end).
                    var k = i + 1
                    while k < n && (src[k] == 32 || src[k] == 9) { k += 1 }
                    if k == n {
                        i = n
                        continue
                    }
                    if src[k] == 10 {
                        i = k + 1
                        continue
                    }
                    if src[k] == 13 && k + 1 < n && src[k + 1] == 10 {
                        i = k + 2
                        continue
                    }
                    if i + 2 < n, let h = hexValue(src[i + 1]), let l = hexValue(src[i + 2]) {
                        dst[o] = h << 4 | l
                        o += 1
                        i += 3
                        continue
                    }
                    bad += 1
                }
                // A malformed `=` or a CR alone: kept as it is.
                dst[o] = c
                o += 1
                i += 1
            }
            initialized = o
        }
        malformed += bad
        return result
    }

    /// False only when none of the eight bytes is `=`, CR or LF (true may be a false alarm).
    @inline(__always)
    static func mayBeSpecial(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        return hasZeroByte(w ^ 0x3D3D_3D3D_3D3D_3D3D) || hasZeroByte(w ^ 0x0D0D_0D0D_0D0D_0D0D) || hasZeroByte(w ^ 0x0A0A_0A0A_0A0A_0A0A)
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
        return hexValue(c)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
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
