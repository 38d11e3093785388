import CaptureParsing
import Foundation
import GRDB

extension CaptureDatabase {
    /// Queries drawn from what a store holds, for `bench search`: seeded, so a run can be repeated, and
    /// not tuned by hand. Each kind is drawn from a random captured email (words of its subject and body,
    /// its sender, a participant's domain, a linked investor, a mailbox that holds it, its date).
    public func sampleSearchQueries(count: Int, seed: UInt64) async throws -> [String] {
        try await writer.read { db in
            var rng = SplitMix(seed: seed)
            guard let maxId = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM emails"), maxId > 0 else { return [] }
            func randomEmail() throws -> Row? {
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT e.id, e.subject, e.text_body, e.from_address, e.sent_at FROM emails e
                        WHERE e.id >= ? AND EXISTS (SELECT 1 FROM email_sightings s WHERE s.email_id = e.id AND s.deleted_at IS NULL)
                        ORDER BY e.id LIMIT 1
                        """, arguments: [Int64.random(in: 1...maxId, using: &rng)])
            }
            func words(_ s: String?) -> [String] {
                (s ?? "").split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init).filter { $0.count >= 4 }
            }
            var out: [String] = []
            var kind = 0
            var attempts = 0
            while out.count < count, attempts < count * 20 {
                attempts += 1
                guard let row = try randomEmail() else { continue }
                let id: Int64 = row["id"]
                let subject = words(row["subject"])
                let body = words(row["text_body"])
                var q: String?
                switch kind % 8 {
                case 0: q = subject.randomElement(using: &rng)
                case 1: q = body.randomElement(using: &rng)
                case 2:
                    if body.count >= 2 {
                        let i = Int.random(in: 0..<(body.count - 1), using: &rng)
                        q = "\"\(body[i]) \(body[i + 1])\""
                    }
                case 3: q = (row["from_address"] as String?).map { "from:\($0)" }
                case 4:
                    q = try String.fetchOne(
                        db, sql: "SELECT investor_id FROM email_investor_links WHERE email_id = ? LIMIT 1", arguments: [id]
                    ).map { "investor:\($0)" }
                case 5:
                    let address = try String.fetchOne(
                        db, sql: "SELECT address_canonical FROM email_participants WHERE email_id = ? AND role = 'to' LIMIT 1",
                        arguments: [id])
                    q = address.flatMap(AddressNormalizer.domain(of:)).map { "domain:\($0)" }
                case 6:
                    let mailbox = try String.fetchOne(
                        db,
                        sql:
                            "SELECT a.email FROM email_sightings s JOIN email_accounts a ON a.id = s.account_id WHERE s.email_id = ? LIMIT 1",
                        arguments: [id])
                    if let mailbox, let w = body.randomElement(using: &rng) { q = "\(w) teammate:\(mailbox)" }
                default:
                    if let sent = row["sent_at"] as String?, let w = subject.randomElement(using: &rng) {
                        q = "\(w) after:\(sent.prefix(10))"
                    }
                }
                if let q {
                    out.append(q)
                    kind += 1
                }
            }
            return out
        }
    }
}
