public import Foundation
import CaptureParsing
import GRDB

/// Where the host CRM keeps users and investors. The defaults match the standalone tables of
/// migration 0002; an existing CRM maps its own table and column names here.
public struct CRMSchema: Sendable, Equatable, Codable {
    public var usersTable = "users"
    public var userID = "id"
    public var userEmail = "email"
    public var userName = "name"
    public var userActive = "active"
    public var userAdmin = "admin"
    public var investorsTable = "investors"
    public var investorID = "id"
    public var investorName = "name"
    /// A JSON array of addresses (the first is the primary).
    public var investorEmails = "emails"
    /// A JSON array of firm domains.
    public var investorDomains = "domains"

    public init() {}

    /// Reads a mapping from JSON; keys left out keep their defaults
    /// (`{"usersTable": "crm_users", "userEmail": "mail"}`).
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        usersTable = try c.decodeIfPresent(String.self, forKey: .usersTable) ?? usersTable
        userID = try c.decodeIfPresent(String.self, forKey: .userID) ?? userID
        userEmail = try c.decodeIfPresent(String.self, forKey: .userEmail) ?? userEmail
        userName = try c.decodeIfPresent(String.self, forKey: .userName) ?? userName
        userActive = try c.decodeIfPresent(String.self, forKey: .userActive) ?? userActive
        userAdmin = try c.decodeIfPresent(String.self, forKey: .userAdmin) ?? userAdmin
        investorsTable = try c.decodeIfPresent(String.self, forKey: .investorsTable) ?? investorsTable
        investorID = try c.decodeIfPresent(String.self, forKey: .investorID) ?? investorID
        investorName = try c.decodeIfPresent(String.self, forKey: .investorName) ?? investorName
        investorEmails = try c.decodeIfPresent(String.self, forKey: .investorEmails) ?? investorEmails
        investorDomains = try c.decodeIfPresent(String.self, forKey: .investorDomains) ?? investorDomains
    }

    /// A mapping from a JSON file (`CaptureConfig.crmSchema()` reads CRM_GMAIL_CRM_SCHEMA's).
    public static func load(path: String) throws -> CRMSchema {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CRMDirectory.Failure.invalidRows(["CRM_GMAIL_CRM_SCHEMA: cannot read \(path)"])
        }
        return try JSONDecoder().decode(CRMSchema.self, from: data)
    }

    /// Identifiers are quoted and checked, never taken as SQL.
    func q(_ identifier: String) throws -> String {
        guard !identifier.isEmpty, identifier.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !identifier.first!.isNumber else {
            throw CRMDirectory.Failure.badIdentifier(identifier)
        }
        return "\"\(identifier)\""
    }
}

public struct CRMUser: Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String?
    public var active: Bool
    public var admin: Bool
}

/// Reads and writes the CRM's users and investors through the mapping.
public struct CRMDirectory: Sendable {
    public let database: CaptureDatabase
    public let schema: CRMSchema

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badIdentifier(String)
        case invalidRows([String])
        public var description: String {
            switch self {
            case .badIdentifier(let s): return "\"\(s)\" is not a valid table or column name"
            case .invalidRows(let rows): return "the import was refused; fix these rows:\n" + rows.map { "  " + $0 }.joined(separator: "\n")
            }
        }
    }

    public init(database: CaptureDatabase, schema: CRMSchema = CRMSchema()) {
        self.database = database
        self.schema = schema
    }

    // MARK: Users

    /// Adds a user, or updates the one with that email (idempotent). Returns the user.
    @discardableResult
    public func addUser(email: String, name: String?, admin: Bool, id: String? = nil) async throws -> CRMUser {
        let s = schema
        return try await database.writer.write { db in
            let t = try s.q(s.usersTable), cid = try s.q(s.userID), ce = try s.q(s.userEmail), cn = try s.q(s.userName)
            let ca = try s.q(s.userActive), cad = try s.q(s.userAdmin)
            if let existing = try String.fetchOne(db, sql: "SELECT \(cid) FROM \(t) WHERE \(ce) = ? COLLATE NOCASE", arguments: [email]) {
                try db.execute(
                    sql: "UPDATE \(t) SET \(cn) = COALESCE(?, \(cn)), \(cad) = ?, \(ca) = 1 WHERE \(cid) = ?",
                    arguments: [name, admin, existing])
            } else {
                try db.execute(
                    sql: "INSERT INTO \(t) (\(cid), \(ce), \(cn), \(ca), \(cad)) VALUES (?, ?, ?, 1, ?)",
                    arguments: [id ?? "u-" + UUID().uuidString.lowercased().prefix(12), email, name, admin])
            }
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT \(cid) AS id, \(ce) AS email, \(cn) AS name, \(ca) AS active, \(cad) AS admin FROM \(t) WHERE \(ce) = ? COLLATE NOCASE",
                arguments: [email])!
            return CRMUser(id: row["id"], email: row["email"], name: row["name"], active: row["active"], admin: row["admin"])
        }
    }

    public func users() async throws -> [CRMUser] {
        let s = schema
        return try await database.writer.read { db in
            let sql =
                "SELECT \(try s.q(s.userID)) AS id, \(try s.q(s.userEmail)) AS email, \(try s.q(s.userName)) AS name, \(try s.q(s.userActive)) AS active, \(try s.q(s.userAdmin)) AS admin FROM \(try s.q(s.usersTable)) ORDER BY 2"
            return try Row.fetchAll(db, sql: sql).map {
                CRMUser(id: $0["id"], email: $0["email"], name: $0["name"], active: $0["active"], admin: $0["admin"])
            }
        }
    }

    // MARK: Investors

    public func investors() async throws -> [Investor] {
        let s = schema
        return try await database.writer.read { db in
            let sql =
                "SELECT \(try s.q(s.investorID)) AS id, \(try s.q(s.investorName)) AS name, \(try s.q(s.investorEmails)) AS emails, \(try s.q(s.investorDomains)) AS domains FROM \(try s.q(s.investorsTable)) ORDER BY 1"
            return try Row.fetchAll(db, sql: sql).map { r in
                func list(_ v: String?) -> [String] { (try? JSONDecoder().decode([String].self, from: Data((v ?? "[]").utf8))) ?? [] }
                return Investor(id: r["id"], name: r["name"], emails: list(r["emails"]), domains: list(r["domains"]))
            }
        }
    }

    public struct ImportReport: Sendable, Equatable {
        public var inserted: Int
        public var updated: Int
        public var warnings: [String]
    }

    /// Upserts investors by id, all or nothing: malformed rows are listed and nothing is written.
    public func importInvestors(_ list: [Investor], workspaceDomain: String?) async throws -> ImportReport {
        var problems: [String] = []
        var seen = Set<String>()
        for (n, inv) in list.enumerated() {
            let at = "row \(n + 1)"
            if inv.id.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append("\(at): field \"id\": missing; expected a string or an integer")
            }
            if inv.name.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append("\(at): field \"name\": missing; expected a non-empty string")
            }
            if !inv.id.isEmpty, !seen.insert(inv.id).inserted {
                problems.append("\(at): field \"id\": duplicate id \(inv.id); expected each id once")
            }
            for e in inv.emails where AddressNormalizer.canonical(e) == nil {
                problems.append("\(at): field \"emails\": \"\(e)\" is not an email address; expected addresses such as ana@fund.example")
            }
            for d in inv.domains where !d.contains(".") || d.contains("@") || d.contains(" ") {
                problems.append("\(at): field \"domains\": \"\(d)\" is not a domain; expected domains such as fund.example")
            }
            if inv.emails.isEmpty && inv.domains.isEmpty {
                problems.append("\(at): fields \"emails\" and \"domains\": both empty; expected at least one email or domain")
            }
        }
        if !problems.isEmpty { throw Failure.invalidRows(problems) }
        let warnings = InvestorIndex(investors: list, workspaceDomain: workspaceDomain).warnings
        let s = schema
        return try await database.writer.write { db in
            let t = try s.q(s.investorsTable), cid = try s.q(s.investorID)
            var inserted = 0, updated = 0
            for inv in list {
                let emails = String(decoding: try JSONEncoder().encode(inv.emails), as: UTF8.self)
                let domains = String(decoding: try JSONEncoder().encode(inv.domains), as: UTF8.self)
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM \(t) WHERE \(cid) = ?", arguments: [inv.id]) == true {
                    try db.execute(
                        sql:
                            "UPDATE \(t) SET \(try s.q(s.investorName)) = ?, \(try s.q(s.investorEmails)) = ?, \(try s.q(s.investorDomains)) = ? WHERE \(cid) = ?",
                        arguments: [inv.name, emails, domains, inv.id])
                    updated += 1
                } else {
                    try db.execute(
                        sql:
                            "INSERT INTO \(t) (\(cid), \(try s.q(s.investorName)), \(try s.q(s.investorEmails)), \(try s.q(s.investorDomains))) VALUES (?, ?, ?, ?)",
                        arguments: [inv.id, inv.name, emails, domains])
                    inserted += 1
                }
            }
            return ImportReport(inserted: inserted, updated: updated, warnings: warnings)
        }
    }

    /// Parses an import file: JSON `[{"id","name","emails":[...],"domains":[...]}]` (`id` a string or an
    /// integer, stored as its decimal string), or CSV with the header `id,name,emails,domains` (several
    /// values in a cell separated by `;`). Every bad row is reported at once, each naming its 1-based row,
    /// the field and what was expected.
    public static func parseInvestorFile(_ data: Data, filename: String) throws -> [Investor] {
        let text = String(decoding: data, as: UTF8.self)
        if filename.lowercased().hasSuffix(".json") || text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") {
            let cells: [ImportCell]
            do { cells = try JSONDecoder().decode([ImportCell].self, from: data) } catch {
                throw Failure.invalidRows(["the file is not a JSON array of {\"id\", \"name\", \"emails\", \"domains\"} objects"])
            }
            var problems: [String] = []
            var out: [Investor] = []
            for (n, cell) in cells.enumerated() {
                let at = "row \(n + 1)"
                guard case .object(let row) = cell else {
                    problems.append("\(at): expected an object {\"id\", \"name\", \"emails\", \"domains\"}, got \(cell.kind)")
                    continue
                }
                var inv = Investor(id: "", name: "", emails: [], domains: [])
                switch row["id"] ?? .null {
                case .string(let s): inv.id = s.trimmingCharacters(in: .whitespaces)
                case .int(let i): inv.id = String(i)
                case let other: problems.append("\(at): field \"id\": expected a string or an integer, got \(other.kind)")
                }
                switch row["name"] ?? .null {
                case .string(let s): inv.name = s.trimmingCharacters(in: .whitespaces)
                case let other: problems.append("\(at): field \"name\": expected a string, got \(other.kind)")
                }
                for field in ["emails", "domains"] {
                    var values: [String] = []
                    switch row[field] ?? .null {
                    case .null: break
                    case .array(let items):
                        for item in items {
                            if case .string(let v) = item {
                                values.append(v.trimmingCharacters(in: .whitespaces))
                            } else {
                                problems.append("\(at): field \"\(field)\": expected an array of strings, found \(item.kind)")
                            }
                        }
                    case let other: problems.append("\(at): field \"\(field)\": expected an array of strings, got \(other.kind)")
                    }
                    if field == "emails" { inv.emails = values } else { inv.domains = values }
                }
                out.append(inv)
            }
            if !problems.isEmpty { throw Failure.invalidRows(problems) }
            return out
        }
        let table = CSV.parse(text)
        guard let header = table.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else { return [] }
        guard let iId = header.firstIndex(of: "id"), let iName = header.firstIndex(of: "name") else {
            throw Failure.invalidRows(["CSV header must include id and name (and emails, domains)"])
        }
        let iEmails = header.firstIndex(of: "emails"), iDomains = header.firstIndex(of: "domains")
        var problems: [String] = []
        var out: [Investor] = []
        for (n, row) in table.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            if row.count != header.count {
                problems.append("row \(n + 1) (line \(n + 2)): \(row.count) fields; expected \(header.count)"); continue
            }
            func list(_ i: Int?) -> [String] {
                guard let i else { return [] }
                return row[i].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            out.append(
                Investor(
                    id: row[iId].trimmingCharacters(in: .whitespaces), name: row[iName].trimmingCharacters(in: .whitespaces),
                    emails: list(iEmails), domains: list(iDomains)))
        }
        if !problems.isEmpty { throw Failure.invalidRows(problems) }
        return out
    }

    /// Recomputes every non-manual investor link from stored participants (no Gmail call).
    @discardableResult
    public func rematch(workspaceDomain: String?) async throws -> (emails: Int, links: Int) {
        let list = try await investors()
        let index = InvestorIndex(investors: list, workspaceDomain: workspaceDomain)
        let result = try await database.writer.write { db in
            // The relationship index is derived again from scratch below.
            try db.execute(
                sql: "DELETE FROM email_meta WHERE key IN (?, ?)", arguments: [RelationshipIndex.metaKey, RelationshipIndex.peopleMetaKey])
            try db.execute(sql: "DELETE FROM email_investor_links WHERE rule != ?", arguments: [MatchRule.manual])
            var byEmail: [Int64: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT email_id, address FROM email_participants") {
                byEmail[r["email_id"], default: []].append(r["address"])
            }
            var links = 0
            for (emailId, addresses) in byEmail {
                let l = index.links(for: addresses)
                try CaptureDatabase.writeLinks(db, emailId: emailId, links: l)
                links += l.count
            }
            return (byEmail.count, links)
        }
        try await database.refreshRelationshipIndex(investors: list, workspaceDomain: workspaceDomain)
        return result
    }
}

/// One JSON value of an import file, kept loose so every bad row can be reported by field.
indirect enum ImportCell: Decodable {
    case null, bool(Bool), int(Int64), number(Double), string(String), array([ImportCell]), object([String: ImportCell])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode(
            [ImportCell].self)
        {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: ImportCell].self))
        }
    }

    var kind: String {
        switch self {
        case .null: return "nothing (null or missing)"
        case .bool(let b): return "a boolean (\(b))"
        case .int(let i): return "an integer (\(i))"
        case .number(let d): return "a non-integer number (\(d))"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// RFC 4180 CSV (quotes, doubled quotes, CRLF or LF).
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" || c == "\r\n" || c == "\r" {
                row.append(field); field = ""
                rows.append(row); row = []
            } else {
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
