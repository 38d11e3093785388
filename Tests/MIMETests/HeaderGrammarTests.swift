import Foundation
import MIMEKit
import TestSupport
import Testing

/// Table-driven header grammars: Fixtures/headers/*.json (inputs from the RFCs' own examples where they exist).
@Suite struct HeaderGrammarTests {
    struct EncodedWordCase: Decodable, Sendable, CustomTestStringConvertible {
        var source: String
        var input: String
        var expected: String
        var problems: Bool?
        var testDescription: String { "\(source): \(input.prefix(40))" }
    }

    struct AddressCase: Decodable, Sendable, CustomTestStringConvertible {
        var source: String
        var input: String
        var expected: [MailAddress]
        var problems: Bool?
        var testDescription: String { "\(source): \(input.prefix(40))" }
    }

    struct DateCase: Decodable, Sendable, CustomTestStringConvertible {
        var source: String
        var input: String
        var expected: String?
        var problems: Bool?
        var testDescription: String { "\(source): \(input.prefix(40))" }
    }

    static func load<T: Decodable>(_ name: String) -> [T] {
        let url = TestPaths.fixtures.appendingPathComponent("headers/\(name).json")
        return (try? JSONDecoder().decode([T].self, from: Data(contentsOf: url))) ?? []
    }

    static let encodedWords: [EncodedWordCase] = load("encoded-word")
    static let addresses: [AddressCase] = load("address")
    static let dates: [DateCase] = load("date")

    @Test func tablesArePresent() {
        #expect(Self.encodedWords.count >= 20)
        #expect(Self.addresses.count >= 15)
        #expect(Self.dates.count >= 20)
    }

    @Test(arguments: encodedWords)
    func encodedWord(_ c: EncodedWordCase) {
        var problems: [String] = []
        let field = HeaderField(name: "Subject", rawValue: Array(c.input.utf8))
        #expect(field.decodedText(problems: &problems) == c.expected)
        #expect(!problems.isEmpty == (c.problems ?? false), "problems: \(problems)")
    }

    @Test(arguments: addresses)
    func addressList(_ c: AddressCase) {
        var problems: [String] = []
        let field = HeaderField(name: "To", rawValue: Array(c.input.utf8))
        #expect(AddressParser.parseList(field.unfoldedBytes, problems: &problems) == c.expected)
        #expect(!problems.isEmpty == (c.problems ?? false), "problems: \(problems)")
    }

    @Test(arguments: dates)
    func date(_ c: DateCase) {
        let unfolded = HeaderField(name: "Date", rawValue: Array(c.input.utf8)).unfoldedText
        let r = DateParser.parse(unfolded)
        #expect(r.date.map(DateParser.iso8601) == c.expected)
        #expect((r.problem != nil) == (c.problems ?? false), "problem: \(r.problem ?? "none")")
    }

    @Test func rfc2231ExamplesDecode() {
        // RFC 2231 §4 and §3 examples.
        let a = HeaderParameters.parse(Array("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A".utf8))
        #expect(a["title"] == "This is ***fun***")
        let b = HeaderParameters.parse(
            Array(
                "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\""
                    .utf8))
        #expect(b["title"] == "This is even more ***fun*** isn't it!")
        let c = HeaderParameters.parse(Array("attachment; filename*1=\"part2.pdf\"; filename*0=\"Quarterly \"".utf8))
        #expect(c.value == "attachment")
        #expect(c["filename"] == "Quarterly part2.pdf")
        let d = HeaderParameters.parse(Array("attachment; filename*=UTF-8''Pr%C3%A9sentation%20S%C3%A9rie%20A.pdf".utf8))
        #expect(d["filename"] == "Présentation Série A.pdf")
        let e = HeaderParameters.parse(Array("application/pdf; name=\"=?UTF-8?B?5oqV6LWE5Lmm?=.pdf\"".utf8))
        #expect(e["name"] == "投资书.pdf")
    }

    @Test func contentTypeDefaultsAndCase() {
        let (ct, _) = ContentType.parse(Array("Text/HTML; Charset=\"UTF-8\" (comment)".utf8))
        #expect(ct?.mimeType == "text/html")
        #expect(ct?.charset == "UTF-8")
        let (bad, _) = ContentType.parse(Array("text".utf8))
        #expect(bad == nil)
    }

    @Test func headerBlockUnfoldsAndKeepsOrderAndDuplicates() {
        let raw = Array("Received: a\r\nReceived: b\r\nSubject: one\r\n two\r\n\tthree\r\nX-Empty:\r\n\r\nbody".utf8)
        let r = HeaderBlock.parse(raw)
        #expect(r.block.fields.map(\.name) == ["Received", "Received", "Subject", "X-Empty"])
        #expect(r.block["Subject"] == "one two\tthree")
        #expect(r.block["x-empty"] == "")
        #expect(Array(raw[r.bodyStart...]) == Array("body".utf8))
    }

    @Test func headerBlockWithoutBlankLineEndsAtFirstNonHeaderLine() {
        let r = HeaderBlock.parse(Array("Subject: x\nthis is body text\n".utf8))
        #expect(r.block.fields.count == 1)
        #expect(!r.problems.isEmpty)
    }

    @Test func headerBytesLimitIsEnforced() {
        var s = "Subject: x\n"
        for i in 0..<200 { s += "X-Filler-\(i): " + String(repeating: "y", count: 100) + "\n" }
        s += "\nbody"
        let r = Array(s.utf8).withUnsafeBufferPointer { HeaderBlock.parse($0, from: 0, to: $0.count, maxBytes: 4096) }
        #expect(r.block.fields.count < 60)
        #expect(r.problems.contains { $0.contains("exceeds") })
        #expect(String(decoding: Array(s.utf8)[r.bodyStart...], as: UTF8.self) == "body")
    }

    @Test func messageIDLists() {
        var p: [String] = []
        #expect(MessageIDParser.parseList("<a@x> (comment <c@x>)\r\n <b@y>", problems: &p) == ["a@x", "b@y"])
        #expect(MessageIDParser.parseList("bare@id.example", problems: &p) == ["bare@id.example"])
        #expect(!p.isEmpty)
    }
}
