import Crypto
import Foundation
import GmailCapture
import CaptureParsing
import MIMEKit
import TestSupport
import Testing

/// The golden corpus: every Fixtures/mime/**/NNN-slug.eml, parsed with LF and with CRLF line ends,
/// compared with NNN-slug.json (and NNN-slug.crlf.json where CRLF legitimately differs, e.g. a text
/// attachment's bytes). A mismatch writes NNN-slug.actual.json; RECORD_GOLDENS=1 re-records.
/// Each fixture's NNN-slug.expect.json states facts known from how the fixture was built.
@Suite struct CorpusTests {
    static let mimeDir = TestPaths.fixtures.appendingPathComponent("mime")
    static let corpus: [String] = CorpusFile.all(under: mimeDir).map {
        String($0.path.dropFirst(mimeDir.path.count + 1))
    }

    enum LineEnds: String, CaseIterable { case lf, crlf }

    static func convert(_ bytes: [UInt8], to ends: LineEnds) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + bytes.count / 20)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == 13, i + 1 < bytes.count, bytes[i + 1] == 10 {
                if ends == .crlf { out.append(13) }
                out.append(10); i += 2; continue
            }
            if c == 10 {
                if ends == .crlf { out.append(13) }
                out.append(10); i += 1; continue
            }
            out.append(c); i += 1
        }
        return out
    }

    static func goldenText(_ m: ParsedMessage) -> String {
        JSONValue.object(m.cliJSON).serialized(pretty: true, sortedKeys: true) + "\n"
    }

    @Test func corpusIsPresent() {
        #expect(Self.corpus.count >= 60, "expected the fixture corpus under \(Self.mimeDir.path)")
    }

    /// The one templated fixture expands to exactly the bytes the Python generator produced (SHA-256
    /// recorded when the 14 MB file was still in git).
    @Test func theLargeAttachmentTemplateExpandsToTheGeneratedMessage() throws {
        let url = Self.mimeDir.appendingPathComponent("structure/409-large-attachment-10mb.eml.template")
        let bytes = try CorpusFile.bytes(url)
        #expect(bytes.count == 14_168_446)
        #expect(
            SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
                == "f0d62276132363cf66a6d25228edf7a0cdab93de554823b50e02088a9c71cb54")
    }

    @Test(arguments: corpus)
    func matchesGoldenInBothLineEndings(_ relative: String) throws {
        let url = Self.mimeDir.appendingPathComponent(relative)
        let bytes = try CorpusFile.bytes(url)
        let base = CorpusFile.base(url)
        let lfGolden = base.appendingPathExtension("json")
        let crlfGolden = base.appendingPathExtension("crlf.json")
        let parser = MessageParser()
        let lf = Self.goldenText(parser.parse(raw: Self.convert(bytes, to: .lf)))
        let crlf = Self.goldenText(parser.parse(raw: Self.convert(bytes, to: .crlf)))

        let outcome = Golden.check(lf, against: lfGolden)
        #expect(outcome == .matched || outcome == .recorded, "LF: \(relative): \(outcome)")
        if Golden.recording {
            if crlf != lf { _ = Golden.check(crlf, against: crlfGolden) } else { try? FileManager.default.removeItem(at: crlfGolden) }
        } else {
            let target = FileManager.default.fileExists(atPath: crlfGolden.path) ? crlfGolden : lfGolden
            let c = Golden.check(crlf, against: target)
            if target == lfGolden, c != .matched {
                // Do not leave an LF-named .actual for a CRLF mismatch.
                try? Data(crlf.utf8).write(to: base.appendingPathExtension("crlf.actual.json"))
            }
            #expect(c == .matched, "CRLF: \(relative): \(c)")
        }
    }

    struct Expect: Decodable {
        struct Address: Decodable, Equatable { var name: String?; var address: String }
        struct Attachment: Decodable {
            var filename: String??
            var mimeType: String?
            var size: Int?
            var sha256: String?
            var contentId: String??
            var inline: Bool?
        }
        var subject: String??
        var from: Address??
        var to: [Address]?
        var cc: [Address]?
        var bcc: [Address]?
        var replyTo: [Address]?
        var date: String??
        var messageId: String??
        var inReplyTo: String??
        var references: [String]?
        var textBodyContains: [String]?
        var htmlBodyContains: [String]?
        var textBodyAbsent: [String]?
        var htmlBody: String??
        var attachments: [Attachment]?
        var attachmentCount: Int?
        var calendar: Bool?
        var problems: Bool?
    }

    @Test(arguments: corpus)
    func agreesWithFactsKnownByConstruction(_ relative: String) throws {
        let url = Self.mimeDir.appendingPathComponent(relative)
        let expectURL = CorpusFile.base(url).appendingPathExtension("expect.json")
        guard let data = try? Data(contentsOf: expectURL) else { return }
        let e = try JSONDecoder().decode(Expect.self, from: data)
        let m = MessageParser().parse(raw: Self.convert(try CorpusFile.bytes(url), to: .lf))
        func addr(_ a: MailAddress) -> Expect.Address { .init(name: a.name, address: a.address) }
        if let s = e.subject { #expect(m.subject == s, "subject") }
        if let f = e.from { #expect(m.from.map(addr) == f, "from") }
        if let t = e.to { #expect(m.to.map(addr) == t, "to") }
        if let c = e.cc { #expect(m.cc.map(addr) == c, "cc") }
        if let b = e.bcc { #expect(m.bcc.map(addr) == b, "bcc") }
        if let r = e.replyTo { #expect(m.replyTo.map(addr) == r, "replyTo") }
        if let d = e.date { #expect(m.date.map(DateParser.iso8601) == d, "date") }
        if let id = e.messageId { #expect(m.messageId == id, "messageId") }
        if let id = e.inReplyTo { #expect(m.inReplyTo == id, "inReplyTo") }
        if let r = e.references { #expect(m.references == r, "references") }
        for s in e.textBodyContains ?? [] { #expect(m.textBody?.contains(s) == true, "text body lacks \(s.debugDescription)") }
        for s in e.htmlBodyContains ?? [] { #expect(m.htmlBody?.contains(s) == true, "html body lacks \(s.debugDescription)") }
        for s in e.textBodyAbsent ?? [] { #expect(m.textBody?.contains(s) != true, "text body has \(s.debugDescription)") }
        if let h = e.htmlBody, h == nil { #expect(m.htmlBody == nil, "htmlBody should be absent") }
        if let n = e.attachmentCount { #expect(m.attachments.count == n, "attachment count") }
        if let list = e.attachments {
            #expect(m.attachments.count == list.count, "attachments")
            for (a, x) in zip(m.attachments, list) {
                if let f = x.filename { #expect(a.filename == f, "filename") }
                if let t = x.mimeType { #expect(a.mimeType == t, "mimeType") }
                if let s = x.size { #expect(a.size == s, "size of \(a.filename ?? a.partId)") }
                if let h = x.sha256 { #expect(a.sha256 == h, "sha256 of \(a.filename ?? a.partId)") }
                if let c = x.contentId { #expect(a.contentId == c, "contentId") }
                if let i = x.inline { #expect(a.inline == i, "inline of \(a.filename ?? a.partId)") }
            }
        }
        if let c = e.calendar { #expect(m.hasCalendar == c, "calendar") }
        if e.problems == true { #expect(!m.problems.isEmpty, "a malformed fixture should record problems") }
    }
}
