package import FakeGmail
package import Foundation
import CaptureParsing

/// A deterministic synthetic mailbox for benchmarks: mostly 5-50 KB messages (text + HTML), a quarter
/// with a 20-200 KB attachment, 1% with a 2-5 MB one; conversations (replies thread), senders from 30
/// investor firms and a few freemail/internal ones.
package struct BenchMailbox: Sendable {
    package struct Message: Sendable {
        package var mailbox: String
        package var raw: [UInt8]
        package var internalDate: Int64
    }

    /// `realistic`: the mix above. `small`: short notes only (1-8 KB of text + HTML, no attachments),
    /// for memory figures at 100k messages.
    package enum Mix: String, Sendable, CaseIterable {
        case realistic, small
    }

    package let accounts: [String]
    package let count: Int
    package let seed: UInt64
    package let mix: Mix

    package init(messages: Int, accounts: Int = 1, seed: UInt64 = 8, mix: Mix = .realistic) {
        count = messages
        self.accounts = (0..<max(1, accounts)).map { "user\($0)@firm.example" }
        self.seed = seed
        self.mix = mix
    }

    typealias Rng = FakeRandom

    static let words = Array(
        """
        the round fund partners portfolio growth revenue board deck term sheet valuation runway hiring customers pipeline market \
        product launch quarter update metrics churn retention pricing enterprise seed series follow allocation diligence founders \
        team strategy investment capital allocation introduction meeting schedule thanks regards proposal memo update notes
        """.split(separator: " ").map(String.init))

    /// The i-th message (stable for a given seed), generated on demand so a large mailbox is never held whole.
    package func message(_ i: Int) -> Message {
        var rng = Rng(state: seed &* 1_000_003 &+ UInt64(i))
        let mailbox = accounts[i % accounts.count]
        let firm = rng.int(0...29)
        let from = rng.int(0...9) == 0 ? "friend\(rng.int(0...50))@gmail.com" : "partner\(rng.int(0...2))@fund\(firm).example"
        let date = 1_600_000_000_000 + Int64(i) * 90_000
        let thread = i / 4
        var text = ""
        let target = (mix == .small ? rng.int(1_000...8_000) : rng.int(5_000...50_000)) / 2
        while text.utf8.count < target { text += Self.words[rng.int(0...(Self.words.count - 1))] + (rng.int(0...12) == 0 ? ".\r\n" : " ") }
        let html = "<html><body><p>" + text.replacingOccurrences(of: "\r\n", with: "</p><p>") + "</p></body></html>"
        var h = "From: Partner <\(from)>\r\nTo: \(mailbox)\r\nSubject: \(i % 4 == 0 ? "" : "Re: ")Update \(thread)\r\n"
        h += "Date: \(Self.rfc822(date))\r\nMessage-ID: <b\(i).\(seed)@bench.example>\r\n"
        if i % 4 != 0 {
            h +=
                "In-Reply-To: <b\(i - 1).\(seed)@bench.example>\r\nReferences: <b\(thread * 4).\(seed)@bench.example> <b\(i - 1).\(seed)@bench.example>\r\n"
        }
        h += "MIME-Version: 1.0\r\n"
        let roll = rng.int(0...99)
        let attachmentSize = mix == .small ? 0 : roll == 0 ? rng.int(2_000_000...5_000_000) : roll < 25 ? rng.int(20_000...200_000) : 0
        var body =
            "Content-Type: multipart/alternative; boundary=\"alt\(i)\"\r\n\r\n--alt\(i)\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\(text)\r\n"
        body += "--alt\(i)\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n\(html)\r\n--alt\(i)--\r\n"
        let raw: String
        if attachmentSize > 0 {
            var blob = [UInt8](repeating: 0, count: attachmentSize)
            for k in stride(from: 0, to: attachmentSize, by: 8) {
                var v = rng.next()
                for j in 0..<min(8, attachmentSize - k) { blob[k + j] = UInt8(truncatingIfNeeded: v); v >>= 8 }
            }
            let b64 = Data(blob).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            raw =
                h + "Content-Type: multipart/mixed; boundary=\"mix\(i)\"\r\n\r\n--mix\(i)\r\n" + body + "--mix\(i)\r\n"
                + "Content-Type: application/pdf; name=\"doc\(i).pdf\"\r\nContent-Disposition: attachment; filename=\"doc\(i).pdf\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n--mix\(i)--\r\n"
        } else {
            raw = h + body
        }
        return Message(mailbox: mailbox, raw: Array(raw.utf8), internalDate: date)
    }

    static func rfc822(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 0)
        f.dateFormat = "EEE, d MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(ms / 1000)))
    }

    /// Delivers every message into `fake`; returns the total raw bytes.
    @discardableResult
    package func seed(_ fake: FakeGmail) async throws -> Int {
        for a in accounts { await fake.addUser(a) }
        var bytes = 0
        for i in 0..<count {
            let m = message(i)
            bytes += m.raw.count
            try await fake.insertMessage(user: m.mailbox, raw: m.raw, labelIds: ["INBOX"], internalDate: m.internalDate)
        }
        return bytes
    }

    /// Writes a fakegmail-server scenario directory (scenario.json + mail/*.eml).
    package func writeScenario(to dir: URL) throws -> Int {
        let mail = dir.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: mail, withIntermediateDirectories: true)
        var users: [String: [[String: Any]]] = [:]
        var bytes = 0
        for i in 0..<count {
            let m = message(i)
            bytes += m.raw.count
            try Data(m.raw).write(to: mail.appendingPathComponent("\(i).eml"))
            users[m.mailbox, default: []].append(["eml": "mail/\(i).eml", "labelIds": ["INBOX"], "internalDate": String(m.internalDate)])
        }
        let json: [String: Any] = ["users": accounts.map { ["email": $0, "messages": users[$0] ?? []] }]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(
            to: dir.appendingPathComponent("scenario.json"))
        return bytes
    }
}

extension FakeRandom {
    /// An integer in `r` (modulo draw: the benchmark mailbox's content depends on exactly this).
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
}
