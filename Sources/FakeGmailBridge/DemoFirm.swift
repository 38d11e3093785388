package import FakeGmail
import Foundation
import CaptureParsing
package import GmailCapture

/// A deterministic demo firm: 5 teammates on one workspace domain, 32 investors across 14 funds and 4
/// angels, and a few thousand messages: multi-message conversations with investors (teammates cc'd
/// into each other's threads), attachments, personal freemail and internal-only mail.
package struct DemoFirm: Sendable {
    package static let domain = "firm.example"
    package static let teammates = ["alex", "sam", "kim", "lee", "pat"].map { "\($0)@\(domain)" }

    package struct Delivery: Sendable {
        package var mailbox: String
        package var raw: [UInt8]
        package var labelIds: [String]
        package var internalDate: Int64
    }

    package var investors: [Investor] = []
    package var deliveries: [Delivery] = []
    package var conversations = 0

    package init(conversations target: Int = 700, seed: UInt64 = 2026) {
        var rng = FakeRandom(state: seed)
        let funds = [
            "lumenridge", "quillstone", "northwind", "harborlight", "tidewater", "blackpine", "silverline", "redwood-park",
            "foundry-hill", "ember", "granite-peak", "oakmont", "bluefin", "meridian",
        ]
        let first = ["Maya", "Omar", "Ines", "Tom", "Priya", "Jonas", "Lena", "Rafael", "Chloe", "Kenji", "Amara", "Felix", "Sofia", "Dev"]
        var people: [(name: String, address: String, investor: String)] = []
        for (n, f) in funds.enumerated() {
            let partners = n < 4 ? 3 : 2
            var emails: [String] = []
            for p in 0..<partners {
                let name = first[(n + p * 5) % first.count]
                let address = "\(name.lowercased())@\(f).example"
                emails.append(address)
                people.append(("\(name) (\(f.capitalized))", address, "inv-\(f)-\(p)"))
                // Some partners also write from an alias (matched by rule "alias").
                let alias = n < 5 ? ["\(name.lowercased())@\(f).vc"] : []
                people += alias.map { ("\(name) (\(f.capitalized))", $0, "inv-\(f)-\(p)") }
                investors.append(
                    Investor(
                        id: "inv-\(f)-\(p)", name: "\(name) at \(f.capitalized)", emails: [address] + alias,
                        domains: ["\(f).example"]))
            }
            // Fund staff who are not in the CRM: linked to the fund's investors by domain.
            people.append(("Associate (\(f.capitalized))", "associate@\(f).example", ""))
        }
        for (n, angel) in ["pat.angel", "rosa.invests", "j.okafor", "mei.lin.capital"].enumerated() {
            let address = "\(angel)@gmail.com"
            people.append(("\(angel) (angel)", address, "inv-angel-\(n)"))
            investors.append(Investor(id: "inv-angel-\(n)", name: "Angel \(angel)", emails: [address], domains: []))
        }
        let subjects = [
            "Series A term sheet", "Q3 portfolio update", "Intro: founders of a fintech startup", "LP meeting agenda",
            "Data room access", "Follow-on allocation", "Board deck draft", "Co-investment opportunity", "Reference call",
            "Capital call notice", "Diligence questions", "Cap table review",
        ]
        var t: Int64 = 1_696_118_400_000  // 2023-10-01
        var seq = 0
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        func mail(
            from: String, fromName: String, to: [String], cc: [String], subject: String, id: String, parent: [String],
            body: String, attachment: (String, Int)?
        ) -> [UInt8] {
            var s = "From: \(fromName) <\(from)>\r\nTo: \(to.joined(separator: ", "))\r\n"
            if !cc.isEmpty { s += "Cc: \(cc.joined(separator: ", "))\r\n" }
            let date = Date(timeIntervalSince1970: TimeInterval(t / 1000))
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(secondsFromGMT: 0)
            f.dateFormat = "EEE, d MMM yyyy HH:mm:ss '+0000'"
            s += "Subject: \(subject)\r\nDate: \(f.string(from: date))\r\nMessage-ID: <\(id)>\r\nMIME-Version: 1.0\r\n"
            if let last = parent.last {
                s += "In-Reply-To: <\(last)>\r\nReferences: \(parent.map { "<\($0)>" }.joined(separator: " "))\r\n"
            }
            guard let (name, size) = attachment else {
                return Array((s + "Content-Type: text/plain; charset=UTF-8\r\n\r\n\(body)\r\n").utf8)
            }
            var pdf = Array("%PDF-1.4\n% demo \(name)\n".utf8)
            while pdf.count < size { pdf += Array("0 0 612 792 re f % \(pdf.count)\n".utf8) }
            s +=
                "Content-Type: multipart/mixed; boundary=\"b\(seq)\"\r\n\r\n--b\(seq)\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\(body)\r\n"
            s += "--b\(seq)\r\nContent-Type: application/pdf; name=\"\(name)\"\r\nContent-Disposition: attachment; filename=\"\(name)\"\r\n"
            s +=
                "Content-Transfer-Encoding: base64\r\n\r\n"
                + Data(pdf).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            s += "\r\n--b\(seq)--\r\n"
            return Array(s.utf8)
        }
        func deliver(_ raw: [UInt8], from: String, recipients: [String]) {
            for tm in Self.teammates where tm == from || recipients.contains(tm) {
                deliveries.append(Delivery(mailbox: tm, raw: raw, labelIds: tm == from ? ["SENT"] : ["INBOX", "UNREAD"], internalDate: t))
            }
        }
        while conversations < target {
            conversations += 1
            let kind = rng.next() % 10
            let owner = pick(Self.teammates)
            if kind == 0 {  // internal-only
                let other = pick(Self.teammates.filter { $0 != owner })
                seq += 1
                let id = "int\(seq)@\(Self.domain)"
                deliver(
                    mail(
                        from: owner, fromName: owner, to: [other], cc: [], subject: "Pipeline review", id: id, parent: [],
                        body: "Internal notes \(seq).", attachment: nil),
                    from: owner, recipients: [other])
                t += 3_600_000
                continue
            }
            if kind == 1 {  // personal freemail
                seq += 1
                let friend = "friend\(seq % 40)@gmail.com"
                deliver(
                    mail(
                        from: friend, fromName: "A friend", to: [owner], cc: [], subject: "Dinner on Friday?",
                        id: "fm\(seq)@mail.gmail.com",
                        parent: [], body: "Are you free?", attachment: nil), from: friend, recipients: [owner])
                t += 2_400_000
                continue
            }
            let investor = pick(people)
            let subject = pick(subjects)
            let length = 1 + Int(rng.next() % 6)
            var chain: [String] = []
            var ccTeammate: String? = rng.next() % 3 == 0 ? pick(Self.teammates.filter { $0 != owner }) : nil
            for step in 0..<length {
                seq += 1
                let id = "c\(seq)@\(step % 2 == 0 ? "mail.\(investor.address.split(separator: "@")[1])" : Self.domain)"
                let fromInvestor = step % 2 == 0
                let attachment: (String, Int)? =
                    rng.next() % 12 == 0
                    ? ("\(subject.lowercased().replacingOccurrences(of: " ", with: "-")).pdf", 20_000 + Int(rng.next() % 60_000)) : nil
                // Halfway through, the owner hands the thread to a colleague (cross-teammate conversation).
                if step == 2 && ccTeammate == nil && rng.next() % 2 == 0 { ccTeammate = pick(Self.teammates.filter { $0 != owner }) }
                let teamSide = step >= 3 && ccTeammate != nil ? ccTeammate! : owner
                let cc = ccTeammate.map { [$0] }?.filter { $0 != teamSide } ?? []
                let raw =
                    fromInvestor
                    ? mail(
                        from: investor.address, fromName: investor.name, to: [teamSide], cc: cc,
                        subject: step == 0 ? subject : "Re: \(subject)",
                        id: id, parent: chain, body: "Message \(step + 1) about \(subject.lowercased()).", attachment: attachment)
                    : mail(
                        from: teamSide, fromName: teamSide, to: [investor.address], cc: cc, subject: "Re: \(subject)", id: id,
                        parent: chain,
                        body: "Reply \(step + 1) from the firm.", attachment: attachment)
                deliver(raw, from: fromInvestor ? investor.address : teamSide, recipients: fromInvestor ? [teamSide] + cc : cc)
                chain.append(id)
                t += Int64(20 + rng.next() % 600) * 60_000
            }
        }
    }

    /// Creates the mailboxes and delivers everything (oldest first) into `fake`.
    package func seed(_ fake: FakeGmail) async throws {
        for tm in Self.teammates { await fake.addUser(tm) }
        for d in deliveries.sorted(by: { $0.internalDate < $1.internalDate }) {
            try await fake.insertMessage(user: d.mailbox, raw: d.raw, labelIds: d.labelIds, internalDate: d.internalDate)
        }
    }
}
