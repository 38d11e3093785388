import Foundation
@testable import MIMEKit
import TestSupport
import Testing

/// The byte-level fast paths give exactly what the general forms give.
@Suite struct FastPathAgreementTests {
    /// The byte-at-a-time quoted-printable decoder the run-copying one replaced (the reference).
    static func referenceQuotedPrintable(buffer b: UnsafeBufferPointer<UInt8>, malformed: inout Int) -> [UInt8] {
        let n = b.count
        var bad = 0
        let result = [UInt8](unsafeUninitializedCapacity: n) { out, initialized in
            var o = 0
            var i = 0
            var wsStart = -1
            while i < n {
                let c = b[i]
                if c == 32 || c == 9 {
                    if wsStart < 0 { wsStart = o }
                    out[o] = c
                    o += 1
                    i += 1
                    continue
                }
                if c == 10 || (c == 13 && i + 1 < n && b[i + 1] == 10) {
                    if wsStart >= 0 { o = wsStart }
                    wsStart = -1
                    if c == 13 {
                        out[o] = 13
                        o += 1
                        i += 1
                    }
                    out[o] = 10
                    o += 1
                    i += 1
                    continue
                }
                wsStart = -1
                if c == UInt8(ascii: "=") {
                    var j = i + 1
                    while j < n && (b[j] == 32 || b[j] == 9) { j += 1 }
                    if j == n {
                        i = n
                        continue
                    }
                    if b[j] == 10 {
                        i = j + 1
                        continue
                    }
                    if b[j] == 13 && j + 1 < n && b[j + 1] == 10 {
                        i = j + 2
                        continue
                    }
                    if i + 2 < n, let h = QuotedPrintable.hexValue(b[i + 1]), let l = QuotedPrintable.hexValue(b[i + 2]) {
                        out[o] = h << 4 | l
                        o += 1
                        i += 3
                        continue
                    }
                    bad += 1
                }
                out[o] = c
                o += 1
                i += 1
            }
            initialized = o
        }
        malformed += bad
        return result
    }

    /// Message-ID lists: the ASCII path against the `Character` path, on random id-list-like text
    /// (brackets, comments, CR LF folding, tabs, commas, nested and unbalanced brackets).
    @Test func messageIdListsAgree() {
        let pieces = ["<", ">", "(", ")", "a@b.c", "X@Y", " ", "\t", "\r\n ", ",", "id", "@", "<>", "<a b@c>", "(c <x@y>)", "\u{0}"]
        var rng = SeededGenerator(seed: 2_026)
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int.random(in: 0...14, using: &rng) { s += pieces.randomElement(using: &rng)! }
            #expect(MessageIDParser.asciiBracketed(s) == MessageIDParser.bracketed(s), "\(s.debugDescription)")
        }
        var problems: [String] = []
        #expect(MessageIDParser.parseList("<a@b> (comment <c@d>) <e f@g>", problems: &problems) == ["a@b", "ef@g"])
        #expect(problems.isEmpty)
    }

    static func scalarLatin1(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(b)) }
        return String(s)
    }

    static func scalarWindows1252(_ bytes: [UInt8]) -> String {
        let high: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
            0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
        ]
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(b >= 0x80 && b < 0xA0 ? Unicode.Scalar(high[Int(b - 0x80)])! : Unicode.Scalar(b)) }
        return String(s)
    }

    /// Single-byte charsets written straight as UTF-8 agree with scalar-by-scalar decoding on every
    /// byte value and on random text.
    @Test func singleByteCharsetsAgree() {
        let every = (0...255).map(UInt8.init)
        #expect(Charset.latin1(every) == Self.scalarLatin1(every))
        #expect(Charset.windows1252(every) == Self.scalarWindows1252(every))
        var rng = SeededGenerator(seed: 1_252)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Charset.latin1(bytes) == Self.scalarLatin1(bytes))
            #expect(Charset.windows1252(bytes) == Self.scalarWindows1252(bytes))
            #expect(Charset.latin1(bytes[...]) == Self.scalarLatin1(bytes))
        }
    }

    /// Unfolding copies a line at a time; it agrees with removing CR and LF byte by byte and trimming
    /// spaces and tabs at both ends.
    @Test func unfoldingAgrees() {
        func reference(_ raw: [UInt8]) -> [UInt8] {
            var out = raw.filter { $0 != 13 && $0 != 10 }[...]
            while let f = out.first, f == 32 || f == 9 { out.removeFirst() }
            while let l = out.last, l == 32 || l == 9 { out.removeLast() }
            return Array(out)
        }
        let pieces: [[UInt8]] = [[32], [9], [13, 10], [10], [13], Array("abc".utf8), Array("=?utf-8?q?x?=".utf8), [0xC3, 0xA9], [0]]
        var rng = SeededGenerator(seed: 5_322)
        for _ in 0..<10_000 {
            var raw: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) { raw += pieces.randomElement(using: &rng)! }
            #expect(HeaderField(name: "X", rawValue: raw).unfoldedBytes == reference(raw), "\(raw)")
        }
    }

    /// Quoted-printable decoding by runs agrees with the byte-at-a-time decoder, malformed counts
    /// included: trailing whitespace before hard breaks, `=20` kept before a break, soft breaks with
    /// trailing whitespace, lone CR, bad escapes, `=` at the end.
    @Test func quotedPrintableAgrees() {
        let pieces: [[UInt8]] = [
            Array("text".utf8), [32], [9], [13, 10], [10], [13], Array("=20".utf8), Array("=3D".utf8), Array("=\r\n".utf8),
            Array("= \r\n".utf8),
            Array("=\n".utf8), Array("=ZZ".utf8), Array("=".utf8), Array("=4".utf8), [0xC3, 0xA9], Array("=C3=A9".utf8), Array("a b".utf8),
        ]
        var rng = SeededGenerator(seed: 2_045)
        for _ in 0..<20_000 {
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 0...16, using: &rng) { input += pieces.randomElement(using: &rng)! }
            var m1 = 0
            var m2 = 0
            let fast = input.withUnsafeBufferPointer { QuotedPrintable.decode(buffer: $0, malformed: &m1) }
            let reference = input.withUnsafeBufferPointer { Self.referenceQuotedPrintable(buffer: $0, malformed: &m2) }
            #expect(fast == reference && m1 == m2, "\(input)")
        }
    }

    /// `=`, CR and LF at every position of long lines (the decoder scans eight bytes at a time).
    @Test func quotedPrintableSpecialsAtEveryPosition() {
        for special in [Array("=3D".utf8), Array("=\r\n".utf8), [13, 10], [10], [13], Array("=".utf8), Array("= \n".utf8)] {
            for position in 0..<40 {
                var input = Array(String(repeating: "plain tx", count: 6).utf8)
                input.insert(contentsOf: special, at: position)
                var m1 = 0
                var m2 = 0
                let fast = input.withUnsafeBufferPointer { QuotedPrintable.decode(buffer: $0, malformed: &m1) }
                let reference = input.withUnsafeBufferPointer { Self.referenceQuotedPrintable(buffer: $0, malformed: &m2) }
                #expect(fast == reference && m1 == m2, "\(input)")
            }
        }
    }

    /// The memchr scan for an encoded-word start agrees with the byte-pair scan.
    @Test func encodedWordStartAgrees() {
        func reference(_ b: [UInt8]) -> Bool {
            if b.count < 2 { return false }
            for i in 0..<(b.count - 1) where b[i] == UInt8(ascii: "=") && b[i + 1] == UInt8(ascii: "?") { return true }
            return false
        }
        let pieces: [[UInt8]] = [
            Array("=".utf8), Array("?".utf8), Array("=?".utf8), Array("a".utf8), Array("==".utf8), Array("?=".utf8), [0xC3, 0xA9],
        ]
        var rng = SeededGenerator(seed: 2_047)
        for _ in 0..<20_000 {
            var b: [UInt8] = []
            for _ in 0..<Int.random(in: 0...10, using: &rng) { b += pieces.randomElement(using: &rng)! }
            #expect(EncodedWord.containsEncodedWordStart(b) == reference(b), "\(b)")
        }
    }
}
