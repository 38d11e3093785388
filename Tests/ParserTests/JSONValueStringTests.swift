@testable import CaptureParsing
import Crypto
import Foundation
import Testing

/// The JSON writer copies unescaped runs at once; it must write exactly what the byte-at-a-time
/// writer wrote (golden files depend on it) and what a JSON reader reads back as the same string.
@Suite struct JSONValueStringTests {
    static func reference(_ s: String) -> [UInt8] {
        var out: [UInt8] = [34]
        let hex = Array("0123456789abcdef".utf8)
        for c in s.utf8 {
            switch c {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, 110]
            case 13: out += [92, 114]
            case 9: out += [92, 116]
            case 0..<32, 127: out += [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
        return out + [34]
    }

    @Test func agreesWithTheByteWriterAndRoundTrips() throws {
        let pieces = ["a", "Zz", "\"", "\\", "\n", "\r\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "日本", "👩‍💻", "/", " ", "long text "]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5_000 {
            var s = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for k in 0..<Int(state >> 60) { s += pieces[Int((state >> UInt64(4 * (k % 14))) & 0xF)] }
            let written = JSONValue.string(s).serialized()
            #expect(Array(written.utf8) == Self.reference(s))
            let back = try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed) as? String
            #expect(back == s)
        }
        var buffer: [UInt8] = Array("x".utf8)
        JSONValue.object([("k", .string("v\n")), ("n", .int(-3)), ("a", .array([.null, .bool(true)]))]).write(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"x{"k":"v\n","n":-3,"a":[null,true]}"#)
    }

    /// Every character that needs an escape, at every position of a long string (the writer tests eight
    /// bytes at a time), alone and next to multi-byte UTF-8.
    @Test func everyEscapeAtEveryPosition() {
        let specials: [String] = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{1B}"]
        for special in specials {
            for position in 0..<40 {
                for filler in ["abcdefgh", "é日x "] {
                    var s = String(repeating: filler, count: 6)
                    s.insert(contentsOf: special, at: s.index(s.startIndex, offsetBy: min(position, s.count)))
                    #expect(Array(JSONValue.string(s).serialized().utf8) == Self.reference(s), "\(s.debugDescription)")
                }
            }
        }
    }

    /// Line ends normalised by runs (memchr) agree with the byte-at-a-time form: CR LF and lone CR
    /// become LF.
    @Test func lineEndsAgree() {
        func reference(_ s: String) -> String {
            let u = Array(s.utf8)
            var out: [UInt8] = []
            var i = 0
            while i < u.count {
                if u[i] == 13 {
                    out.append(10)
                    if i + 1 < u.count, u[i + 1] == 10 { i += 1 }
                } else {
                    out.append(u[i])
                }
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
        let pieces = ["a", "\r\n", "\r", "\n", "\r\r\n", "é", " ", "line of text"]
        var state: UInt64 = 42
        for _ in 0..<5_000 {
            var s = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for k in 0..<Int(state >> 60) { s += pieces[Int((state >> UInt64(3 * (k % 20))) & 7)] }
            #expect(Assembler.normalizeLineEnds(s) == reference(s), "\(s.debugDescription)")
        }
    }
}

/// The digest's hex, by table, against the FIPS 180-2 vectors and the per-byte formatter it replaced.
@Suite struct SHA256HexTests {
    @Test func knownVectorsAndTheFormatter() {
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var state: UInt64 = 1
        for n in 0..<200 {
            let bytes = (0..<n).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            let formatted = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(sha256Hex(Data(bytes)) == formatted)
            #expect(sha256Hex(bytes) == formatted)
        }
    }
}
