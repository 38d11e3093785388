import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Conversion of text in a declared charset to Swift strings (UTF-8).
///
/// UTF-8, US-ASCII, ISO-8859-1 and Windows-1252 are decoded natively; everything else goes through the
/// C library's iconv (ISO-8859-*, Windows-125x, KOI8-R/U, Shift_JIS, ISO-2022-JP, EUC-JP, EUC-KR,
/// GB2312/GBK/GB18030, Big5, UTF-7, UTF-16/32 ...). Invalid sequences become U+FFFD and are reported.
public enum Charset {
    /// The result of a conversion.
    public struct Decoded: Sendable, Equatable {
        public var text: String
        /// The charset actually used (canonical iconv name), after aliasing and fallbacks.
        public var charsetUsed: String
        /// Why the result is not a faithful conversion of the declared charset, if it is not.
        public var problem: String?
    }

    /// Normalises a declared charset label to the name iconv knows, resolving common aliases.
    public static func canonicalName(_ label: String) -> String {
        var l = label.trimmingASCIIWhitespace().lowercased()
        if l.hasPrefix("\"") && l.hasSuffix("\"") && l.count >= 2 { l = String(l.dropFirst().dropLast()) }
        if let star = l.firstIndex(of: "*") { l = String(l[..<star]) }  // RFC 2231 language suffix
        switch l {
        case "", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "7bit", "8bit": return "US-ASCII"
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return "UTF-8"
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "cp819", "iso_8859-1:1987": return "ISO-8859-1"
        case "windows-1252", "cp1252", "x-cp1252", "cp-1252": return "WINDOWS-1252"
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932": return "CP932"
        case "ks_c_5601-1987", "ks_c_5601", "euc-kr", "euckr", "cp949", "windows-949", "korean", "ksc5601": return "CP949"
        case "gb2312", "gb_2312-80", "csgb2312", "euc-cn", "x-gbk", "gbk", "cp936", "ms936", "windows-936": return "GBK"
        case "gb18030": return "GB18030"
        case "big5", "big-5", "cn-big5", "x-x-big5", "csbig5": return "BIG5"
        case "big5-hkscs": return "BIG5-HKSCS"
        case "koi8-r", "koi8r", "cskoi8r": return "KOI8-R"
        case "koi8-u": return "KOI8-U"
        case "utf-7", "utf7", "unicode-1-1-utf-7": return "UTF-7"
        case "iso-2022-jp", "csiso2022jp": return "ISO-2022-JP"
        case "euc-jp", "x-euc-jp": return "EUC-JP"
        case "utf-16": return "UTF-16"
        default:
            if l.hasPrefix("windows-") || l.hasPrefix("iso-8859-") || l.hasPrefix("iso-2022-") { return l.uppercased() }
            if l.hasPrefix("iso8859-") { return "ISO-8859-" + l.dropFirst(8) }
            if l.hasPrefix("iso_8859-") { return "ISO-8859-" + l.dropFirst(9).prefix { $0 != ":" } }
            if l.hasPrefix("cp") && l.dropFirst(2).allSatisfy(\.isNumber) && l.count > 2 { return "CP" + l.dropFirst(2) }
            return l.uppercased()
        }
    }

    /// Decodes `bytes` declared to be in `charset` (nil means not declared: UTF-8 if valid, else Windows-1252).
    public static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> Decoded {
        let name = charset.map(canonicalName) ?? "US-ASCII"
        switch name {
        case "UTF-8":
            return decodeUTF8(bytes, declared: name)
        case "US-ASCII":
            // Mislabelled 8-bit content is common: prefer UTF-8, then Windows-1252.
            if isASCII(bytes) { return Decoded(text: asciiString(bytes), charsetUsed: "US-ASCII", problem: nil) }
            if let s = validUTF8(bytes) {
                return Decoded(
                    text: s, charsetUsed: "UTF-8", problem: charset == nil ? nil : "8-bit bytes in a us-ascii part; decoded as UTF-8")
            }
            return Decoded(
                text: windows1252(bytes), charsetUsed: "WINDOWS-1252", problem: "8-bit bytes in a us-ascii part; decoded as Windows-1252")
        case "ISO-8859-1":
            if isASCII(bytes) { return Decoded(text: asciiString(bytes), charsetUsed: name, problem: nil) }
            return Decoded(text: latin1(bytes), charsetUsed: name, problem: nil)
        case "WINDOWS-1252":
            if isASCII(bytes) { return Decoded(text: asciiString(bytes), charsetUsed: name, problem: nil) }
            return Decoded(text: windows1252(bytes), charsetUsed: name, problem: nil)
        default:
            if let converted = iconvDecode(bytes, from: name) {
                return Decoded(
                    text: converted.text, charsetUsed: name,
                    problem: converted.invalid > 0 ? "\(converted.invalid) invalid byte sequence(s) for charset \(name)" : nil)
            }
            // Unknown charset: UTF-8 when valid, else Windows-1252.
            if let s = validUTF8(bytes) {
                return Decoded(text: s, charsetUsed: "UTF-8", problem: "unknown charset \"\(charset ?? "")\"; decoded as UTF-8")
            }
            return Decoded(
                text: windows1252(bytes), charsetUsed: "WINDOWS-1252",
                problem: "unknown charset \"\(charset ?? "")\"; decoded as Windows-1252")
        }
    }

    /// True when the charset label names something this machine can convert.
    public static func isSupported(_ label: String) -> Bool {
        let name = canonicalName(label)
        if ["UTF-8", "US-ASCII", "ISO-8859-1", "WINDOWS-1252"].contains(name) { return true }
        let cd = iconv_open("UTF-8", name)
        if cd == iconv_t(bitPattern: -1) { return false }
        iconv_close(cd)
        return true
    }

    // MARK: - Native decoders

    static func isASCII(_ bytes: some Collection<UInt8>) -> Bool {
        if let r = bytes.withContiguousStorageIfAvailable({ buf -> Bool in
            var acc: UInt8 = 0
            for b in buf { acc |= b }
            return acc < 0x80
        }) {
            return r
        }
        return bytes.allSatisfy { $0 < 0x80 }
    }

    static func asciiString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    static func validUTF8(_ bytes: some Collection<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    static func decodeUTF8(_ bytes: some Collection<UInt8>, declared: String) -> Decoded {
        if let s = validUTF8(bytes) { return Decoded(text: s, charsetUsed: declared, problem: nil) }
        return Decoded(text: String(decoding: bytes, as: UTF8.self), charsetUsed: declared, problem: "invalid UTF-8 replaced with U+FFFD")
    }

    /// ISO-8859-1: every byte is the scalar of the same value, written straight as UTF-8 (appending
    /// scalar by scalar to a `String.UnicodeScalarView` was most of the time of decoding 8-bit text).
    static func latin1(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        for b in bytes {
            if b < 0x80 {
                out.append(b)
            } else {
                out.append(0xC0 | (b >> 6))
                out.append(0x80 | (b & 0x3F))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    /// Windows-1252: ISO-8859-1 except 0x80-0x9F (`cp1252High`), written straight as UTF-8.
    static func windows1252(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        for b in bytes {
            if b < 0x80 {
                out.append(b)
            } else if b >= 0xA0 {
                out.append(0xC0 | (b >> 6))
                out.append(0x80 | (b & 0x3F))
            } else {
                out.append(contentsOf: Unicode.Scalar(cp1252High[Int(b - 0x80)])!.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - iconv

    static func iconvDecode(_ input: some Collection<UInt8>, from name: String) -> (text: String, invalid: Int)? {
        let cd = iconv_open("UTF-8", name)
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        var src = Array(input)
        var out = [UInt8]()
        out.reserveCapacity(src.count * 2 + 16)
        var invalid = 0
        var chunk = [UInt8](repeating: 0, count: 16384)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        src.withUnsafeMutableBufferPointer { srcBuf in
            var inPtr: UnsafeMutablePointer<CChar>? = srcBuf.baseAddress.map {
                UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self)
            }
            var inLeft = srcBuf.count
            chunk.withUnsafeMutableBufferPointer { outBuf in
                let outBase = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var flushing = false
                while true {
                    var outPtr: UnsafeMutablePointer<CChar>? = outBase
                    var outLeft = outBuf.count
                    let rc: Int
                    if flushing {
                        rc = iconv(cd, nil, nil, &outPtr, &outLeft)
                    } else {
                        rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    }
                    let produced = outBuf.count - outLeft
                    if produced > 0 {
                        out.append(contentsOf: UnsafeRawBufferPointer(start: outBase, count: produced).bindMemory(to: UInt8.self))
                    }
                    if flushing { break }
                    if rc != -1 {
                        if inLeft == 0 { flushing = true }
                        continue
                    }
                    let err = errno
                    if err == E2BIG { continue }
                    if err == EILSEQ || err == EINVAL {
                        // Invalid or incomplete sequence: emit U+FFFD, skip one byte, resynchronise.
                        invalid += 1
                        out.append(contentsOf: replacement)
                        if inLeft > 0 { inPtr = inPtr! + 1; inLeft -= 1 }
                        iconv(cd, nil, nil, nil, nil)
                        if inLeft == 0 { flushing = true }
                        continue
                    }
                    break
                }
            }
        }
        return (String(decoding: out, as: UTF8.self), invalid)
    }
}

extension StringProtocol {
    /// Trims spaces, tabs, CR and LF from both ends.
    public func trimmingASCIIWhitespace() -> String {
        let u = Array(self.utf8)
        var a = 0, b = u.count
        while a < b, u[a] == 32 || u[a] == 9 || u[a] == 10 || u[a] == 13 { a += 1 }
        while b > a, u[b - 1] == 32 || u[b - 1] == 9 || u[b - 1] == 10 || u[b - 1] == 13 { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}
