import Foundation
import MIMEKit
import TestSupport
import Testing

@Suite struct Base64Tests {
    @Test(arguments: [0, 1, 2, 3, 4, 5, 57, 58, 1000, 4099])
    func roundTripsEveryLengthAndAlphabet(length: Int) {
        var rng = SeededGenerator(seed: UInt64(length) &+ 17)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for urlSafe in [false, true] {
            for padded in [true, false] {
                for line in [nil, 76] as [Int?] {
                    let text = Base64.encode(bytes, urlSafe: urlSafe, padded: padded, lineLength: line)
                    var report = Base64.DecodeReport()
                    #expect(Base64.decode(Array(text.utf8), report: &report) == bytes)
                    #expect(report.isClean)
                }
            }
        }
    }

    @Test func matchesFoundationForStandardAlphabet() {
        var rng = SeededGenerator(seed: 99)
        for n in 0..<64 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }

    /// The appending encoder writes what the string encoder returns, after whatever `out` held.
    @Test func appendingAgreesWithTheStringEncoder() {
        var rng = SeededGenerator(seed: 7)
        for n in Array(0..<70) + [1000, 4099] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for urlSafe in [false, true] {
                for padded in [true, false] {
                    var out: [UInt8] = Array("prefix:".utf8)
                    Base64.encode(bytes, urlSafe: urlSafe, padded: padded, appendingTo: &out)
                    #expect(out == Array("prefix:".utf8) + Array(Base64.encode(bytes, urlSafe: urlSafe, padded: padded).utf8))
                    var slice: [UInt8] = []
                    Base64.encode(bytes.dropFirst(n / 2), urlSafe: urlSafe, padded: padded, appendingTo: &slice)
                    #expect(slice == Array(Base64.encode(Array(bytes.dropFirst(n / 2)), urlSafe: urlSafe, padded: padded).utf8))
                }
            }
        }
    }

    @Test func toleratesNoiseAndMissingPadding() {
        var report = Base64.DecodeReport()
        // "Hello, World!" with spaces, a stray '*' and no padding.
        let noisy = Array("SGVs bG8s\r\nIFdv*cmxk IQ".utf8)
        #expect(Base64.decode(noisy, report: &report) == Array("Hello, World!".utf8))
        #expect(report.invalidCharacters == 1)
        #expect(report.missingPadding)
    }

    @Test func decodesConcatenatedPaddedChunks() {
        // Two separately padded chunks, as some mailers concatenate them.
        #expect(Base64.decode("SGk=IHRoZXJl") == Array("Hi there".utf8))
    }

    @Test func reportsATruncatedQuantum() {
        var report = Base64.DecodeReport()
        _ = Base64.decode(Array("SGVsbG8hQ".utf8), report: &report)
        #expect(report.truncatedQuantum)
    }

    @Test func acceptsURLSafeAndStandardInOneInput() {
        #expect(Base64.decode("-_-_") == Base64.decode("+/+/"))
    }
}

@Suite struct QuotedPrintableTests {
    @Test func decodesSoftBreaksEscapesAndTrailingSpace() {
        let qp = "caf=C3=A9 =\r\nau lait  \r\nline=\ntwo=3d"
        #expect(String(decoding: QuotedPrintable.decode(Array(qp.utf8)), as: UTF8.self) == "café au lait\r\nlinetwo=")
    }

    @Test func keepsMalformedEscapesLiterally() {
        var malformed = 0
        let out = QuotedPrintable.decode(Array("100% =ZZ ok=4".utf8), malformed: &malformed)
        #expect(String(decoding: out, as: UTF8.self) == "100% =ZZ ok=4")
        #expect(malformed == 2)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func roundTripsRandomText(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let alphabet = Array("abc xyz=\t.\n\r\nÄé€日".utf8)
        var bytes = (0..<Int.random(in: 0...400, using: &rng)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
        // Bare CR is not representable as a hard break; normalise inputs to CRLF line ends.
        bytes = Array(
            String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
                .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let encoded = QuotedPrintable.encode(bytes)
        for line in encoded.split(separator: "\r\n") { #expect(line.utf8.count <= 76) }
        #expect(QuotedPrintable.decode(Array(encoded.utf8)) == bytes)
    }

    @Test func decodesQEncodingUnderscoresAsSpaces() {
        var m = 0
        #expect(String(decoding: QuotedPrintable.decodeQ(Array("a_b=3F".utf8), malformed: &m), as: UTF8.self) == "a b?")
    }
}

@Suite struct CharsetTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var charset: String
        var hex: String
        var text: String
        var testDescription: String { charset }
    }

    static let cases: [Case] = {
        let url = TestPaths.fixtures.appendingPathComponent("headers/charsets.json")
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func tableIsPresent() { #expect(Self.cases.count >= 19) }

    /// The table was produced by Python's codecs (outside truth).
    @Test(arguments: cases)
    func decodesLikePythonCodecs(_ c: Case) {
        var bytes: [UInt8] = []
        var i = c.hex.startIndex
        while i < c.hex.endIndex {
            let j = c.hex.index(i, offsetBy: 2)
            bytes.append(UInt8(c.hex[i..<j], radix: 16)!)
            i = j
        }
        let d = Charset.decode(bytes, charset: c.charset)
        #expect(d.text == c.text)
        #expect(d.problem == nil)
    }

    @Test func mislabelledUSASCIIFallsBackToUTF8ThenWindows1252() {
        #expect(Charset.decode(Array("café".utf8), charset: "us-ascii").text == "café")
        #expect(Charset.decode([0x63, 0x61, 0x66, 0xE9], charset: "us-ascii").text == "café")
        #expect(Charset.decode([0x63, 0x61, 0x66, 0xE9], charset: "us-ascii").problem != nil)
    }

    @Test func unknownCharsetIsReportedNotFatal() {
        let d = Charset.decode(Array("naïve".utf8), charset: "x-unknown-foo")
        #expect(d.text == "naïve")
        #expect(d.problem?.contains("unknown charset") == true)
    }

    @Test func invalidSequencesBecomeReplacementCharacters() {
        let d = Charset.decode([0x82, 0xA0, 0xFF, 0x82, 0xA2], charset: "shift_jis")
        #expect(d.text.contains("\u{FFFD}"))
        #expect(d.text.hasPrefix("あ"))
        #expect(d.problem != nil)
    }

    @Test func aliasesResolve() {
        #expect(Charset.canonicalName("\"UTF8\"") == "UTF-8")
        #expect(Charset.canonicalName("ks_c_5601-1987") == "CP949")
        #expect(Charset.canonicalName("iso8859-15") == "ISO-8859-15")
        #expect(Charset.isSupported("koi8-r"))
        #expect(!Charset.isSupported("x-unknown-foo"))
    }
}
