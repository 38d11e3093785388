import Foundation
import GmailCapture
import CaptureParsing
import MIMEKit
import TestSupport
import Testing

/// Both front ends on real Gmail exports (../shared/gmail-real): the `format=full` payload and the
/// `format=raw` bytes of the same message must give the same canonical message.
///
/// The exports were edited by the project that published them: some header values are censored in
/// `full` (From/To/Message-ID rewritten, most headers dropped) and two messages' raw bodies were
/// changed (their `sizeEstimate` no longer equals the raw length). So: bodies and attachment sizes
/// are compared on unedited messages; a header is compared when `full` still carries it; structured
/// fields (addresses, ids) when Gmail's value is the raw value decoded, i.e. not censored; SHA-256
/// where the export's attachment data has the size Gmail announced.
@Suite struct GmailRealAgreementTests {
    struct Export: Decodable {
        var full: GmailMessageResource
        var raw: GmailMessageResource
        var attachments: [String: GmailMessagePartBody]?
    }

    static var folder: URL? { TestPaths.shared?.appendingPathComponent("gmail-real") }

    @Test func fullAndRawAgree() throws {
        guard let folder = Self.folder, FileManager.default.fileExists(atPath: folder.path) else {
            print("SKIPPED: ../shared/gmail-real is absent; the Gmail agreement test did not run")
            return
        }
        let files = TestPaths.files(under: folder, suffix: ".json")
        try #require(!files.isEmpty)
        let parser = MessageParser()
        var compared = 0
        var agreed = 0
        var disagreements: [String] = []
        func check<T: Equatable>(_ file: String, _ field: String, _ a: T, _ b: T) {
            compared += 1
            if a == b { agreed += 1 } else { disagreements.append("\(file): \(field): raw=\(a) full=\(b)") }
        }
        for url in files {
            let name = url.lastPathComponent
            let export = try JSONDecoder().decode(Export.self, from: Data(contentsOf: url))
            let rawBytes = Base64.decode(Array((export.raw.raw ?? "").utf8))
            let unedited = export.full.sizeEstimate == rawBytes.count
            var attachmentData: [String: [UInt8]] = [:]
            var announced: [String: Int] = [:]
            func sizes(_ p: GmailMessagePart) {
                if let id = p.body?.attachmentId { announced[id] = p.body?.size }
                (p.parts ?? []).forEach(sizes)
            }
            if let payload = export.full.payload { sizes(payload) }
            for (id, body) in export.attachments ?? [:] {
                let bytes = Base64.decode(Array((body.data ?? "").utf8))
                if bytes.count == announced[id] { attachmentData[id] = bytes }  // unedited attachment data only
            }
            let fromFull = try parser.parse(gmail: export.full, attachmentData: attachmentData)
            let fromRaw = try parser.parse(gmail: export.raw)

            check(name, "subject", fromRaw.subject, fromFull.subject)
            check(name, "date", fromRaw.date, fromFull.date)
            check(name, "calendar", fromRaw.hasCalendar, fromFull.hasCalendar)
            check(name, "attachment partIds", fromRaw.attachments.map(\.partId), fromFull.attachments.map(\.partId))
            check(name, "attachment mimeTypes", fromRaw.attachments.map(\.mimeType), fromFull.attachments.map(\.mimeType))
            check(name, "attachment contentIds", fromRaw.attachments.map(\.contentId), fromFull.attachments.map(\.contentId))
            check(name, "attachment inline", fromRaw.attachments.map(\.inline), fromFull.attachments.map(\.inline))
            // Headers the exporter rewrote (addresses, relay IPs) are compared as structured fields below.
            let edited: Set<String> = [
                "from", "to", "cc", "bcc", "reply-to", "sender", "received", "x-received",
                "x-originating-ip", "message-id", "delivered-to", "return-path",
            ]
            let censored = { (v: String) in
                v.contains("censored") || v.contains("@domain.com") || v.contains("@email.com") || v.contains("1.1.1.1")
            }
            var seen: [String: Int] = [:]
            for h in fromFull.headers {
                let lower = h.name.lowercased()
                let k = seen[lower, default: 0]
                seen[lower] = k + 1
                if edited.contains(lower) || censored(h.value) { continue }
                let rawValues = fromRaw.headers.filter { $0.name.lowercased() == lower }.map(\.value)
                check(name, "header \(h.name)#\(k)", k < rawValues.count ? rawValues[k] : nil, h.value)
            }
            let rawHeaderValues = Dictionary(fromRaw.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            let fullHeaders = Dictionary(fromFull.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            func uncensored(_ n: String) -> Bool {
                guard let v = fullHeaders[n], let r = rawHeaderValues[n] else { return false }
                return v.replacingOccurrences(of: "\"", with: "") == r.replacingOccurrences(of: "\"", with: "")
            }
            if uncensored("from") { check(name, "from", fromRaw.from, fromFull.from) }
            if uncensored("to") { check(name, "to", fromRaw.to, fromFull.to) }
            if uncensored("cc") { check(name, "cc", fromRaw.cc, fromFull.cc) }
            if uncensored("reply-to") { check(name, "replyTo", fromRaw.replyTo, fromFull.replyTo) }
            if uncensored("message-id") { check(name, "messageId", fromRaw.messageId, fromFull.messageId) }
            if uncensored("references") { check(name, "references", fromRaw.references, fromFull.references) }
            if unedited {
                check(name, "textBody", fromRaw.textBody, fromFull.textBody)
                check(name, "htmlBody", fromRaw.htmlBody, fromFull.htmlBody)
                check(name, "attachment sizes", fromRaw.attachments.map(\.size), fromFull.attachments.map(\.size))
                let fullNames = fromFull.attachments.map(\.filename)
                if !fullNames.contains(where: { ($0 ?? "").contains("@domain.com") }) {
                    check(name, "attachment filenames", fromRaw.attachments.map(\.filename), fullNames)
                }
                for (a, b) in zip(fromRaw.attachments, fromFull.attachments) where b.sha256 != nil {
                    check(name, "sha256 of part \(a.partId)", a.sha256, b.sha256)
                }
            }
        }
        let rate = compared == 0 ? 0 : Double(agreed) / Double(compared) * 100
        print("gmail-real agreement: \(agreed)/\(compared) fields agree (\(String(format: "%.1f", rate))%) over \(files.count) messages")
        for d in disagreements { print("  DISAGREE \(d)") }
        #expect(disagreements.isEmpty)
        #expect(compared > files.count * 8)
    }
}
