import Foundation
import TestSupport
import Testing

/// Issue 14 through the built `gmail-capture` binary, on a demo firm's database: `investors relationships`,
/// `investors cold`, `who-knows`, `contacts suggest`, with `--as`, `--as-of` and `--json`.
@Suite struct RelationshipCLITests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }
    static let relationshipKeys: Set<String> = [
        "investorId", "name", "firstContactAt", "lastContactAt", "lastContactBy", "lastInboundAt", "lastOutboundAt", "messagesIn",
        "messagesOut", "threads", "strength", "grade", "teammates",
    ]
    static let teammateKeys: Set<String> = ["email", "strength", "grade", "messagesIn", "messagesOut", "lastContactAt"]
    static let grades: Set<String> = ["very strong", "strong", "moderate", "weak", "very weak"]
    static let team = ["alex@firm.example", "sam@firm.example", "kim@firm.example", "lee@firm.example", "pat@firm.example"]

    static func run(_ args: [String]) throws -> BuiltProduct.Outcome {
        try BuiltProduct.run(binary, args, environment: ["PATH": "/usr/bin:/bin", "CRM_GMAIL_WORKSPACE_DOMAIN": "firm.example"])
    }

    /// The JSON a command printed (it must succeed).
    static func json(_ args: [String]) throws -> Any {
        let r = try run(args)
        #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.output)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    static func relationships(_ db: String, _ extra: [String]) throws -> [[String: Any]] {
        try #require(try json(["investors", "relationships", "--json", "--db", db] + extra) as? [[String: Any]])
    }

    static func canonical(_ o: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    static func teammates(_ o: [String: Any]) -> [[String: Any]] { o["teammates"] as? [[String: Any]] ?? [] }

    /// Every object has exactly the documented keys, strengths in 0...100, grades among the five, the
    /// list and each object's teammates strongest first.
    static func checkShape(_ rows: [[String: Any]], _ label: String) {
        for o in rows {
            #expect(Set(o.keys) == relationshipKeys, "\(label): \(o.keys.sorted())")
            #expect(o["investorId"] is String && o["name"] is String, "\(label)")
            for k in ["messagesIn", "messagesOut", "threads"] { #expect(o[k] is Int, "\(label) \(k)") }
            for k in ["firstContactAt", "lastContactAt", "lastInboundAt", "lastOutboundAt"] {
                #expect(o[k] is NSNull || (o[k] as? String)?.hasSuffix("Z") == true, "\(label) \(k): \(String(describing: o[k]))")
            }
            #expect((o["firstContactAt"] as? String) != nil && (o["lastContactBy"] as? String) != nil, "\(label)")
            let s = o["strength"] as? Double ?? -1
            #expect((0...100).contains(s) && grades.contains(o["grade"] as? String ?? ""), "\(label): \(s)")
            let ts = teammates(o)
            #expect(!ts.isEmpty, "\(label)")
            for t in ts {
                #expect(Set(t.keys) == teammateKeys, "\(label): \(t.keys.sorted())")
                #expect(team.contains(t["email"] as? String ?? ""), "\(label)")
                #expect((0...100).contains(t["strength"] as? Double ?? -1) && grades.contains(t["grade"] as? String ?? ""), "\(label)")
            }
            let tStrengths = ts.compactMap { $0["strength"] as? Double }
            #expect(tStrengths == tStrengths.sorted(by: >), "\(label): teammates \(tStrengths)")
        }
        let strengths = rows.compactMap { $0["strength"] as? Double }
        #expect(strengths.count == rows.count && strengths == strengths.sorted(by: >), "\(label): \(strengths)")
    }

    @Test func relationshipsOnTheDemoFirm() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relationships-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("demo.db").path
        let demo = try Self.run(["demo", "--db", db, "--conversations", "120"])
        try #require(demo.status == 0, "\(demo.output)")
        #expect(demo.stdout.contains("Strongest investor relationships:") && demo.stdout.contains("Going cold:"))

        // As of 2025-01-01 (more than a year after the demo's mail: every strength has decayed to 0).
        let late = try Self.relationships(db, ["--as-of", "2025-01-01"])
        #expect(!late.isEmpty)
        Self.checkShape(late, "as of 2025-01-01")
        #expect(late.allSatisfy { $0["strength"] as? Double == 0 })
        // As of 2024-01-02 (the day after the last demo mail): real strengths, strongest first.
        let rows = try Self.relationships(db, ["--as-of", "2024-01-02"])
        Self.checkShape(rows, "as of 2024-01-02")
        #expect(rows.count == late.count)
        #expect((rows.first?["strength"] as? Double ?? 0) > 0)
        #expect(Set(rows.compactMap { $0["grade"] as? String }).count >= 2)
        // The figures other than strength do not depend on the date.
        let undated = { (o: [String: Any]) -> String in
            "\(o["investorId"]!) \(o["messagesIn"]!) \(o["messagesOut"]!) \(o["threads"]!) \(o["lastContactAt"]!) \(o["lastContactBy"]!)"
        }
        #expect(Set(rows.map(undated)) == Set(late.map(undated)))
        // Timestamps and other --as-of spellings.
        #expect(try Self.canonical(Self.relationships(db, ["--as-of", "2024-01-02T00:00:00Z"])) == Self.canonical(rows))
        for bad in ["yesterday", "2024-13-01", ""] {
            let r = try Self.run(["investors", "relationships", "--json", "--db", db, "--as-of", bad])
            #expect(r.status != 0 && !r.stderr.isEmpty, "--as-of \(bad): \(r.output)")
        }

        // --investor: exactly that investor's object.
        for o in [rows.first, rows.last, rows.dropFirst(rows.count / 2).first].compactMap({ $0 }) {
            let id = try #require(o["investorId"] as? String)
            let one = try Self.relationships(db, ["--as-of", "2024-01-02", "--investor", id])
            #expect(one.count == 1 && one.first?["investorId"] as? String == id)
            // The list's object, plus reply-time medians (read per investor) for the team and each teammate.
            #expect(one.first?["replies"] is [String: Any])
            #expect((one.first?["teammates"] as? [[String: Any]] ?? []).allSatisfy { $0["replies"] is [String: Any] })
            func withoutReplies(_ o: [String: Any]) -> [String: Any] {
                var o = o
                o["replies"] = nil
                o["teammates"] = (o["teammates"] as? [[String: Any]])?.map { t in t.filter { $0.key != "replies" } }
                return o
            }
            #expect(try Self.canonical(one.map(withoutReplies)) == Self.canonical([o]))
        }
        #expect(try Self.relationships(db, ["--as-of", "2024-01-02", "--investor", "inv-nobody"]).isEmpty)

        // The text form names every investor of the JSON.
        let text = try Self.run(["investors", "relationships", "--db", db, "--as-of", "2024-01-02"])
        #expect(text.status == 0)
        for o in rows { #expect(text.stdout.contains(o["investorId"] as? String ?? "?")) }
    }

    @Test func whoKnowsColdAndSuggestionsOnTheDemoFirm() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relationships-cli2-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("demo.db").path
        let demo = try Self.run(["demo", "--db", db, "--conversations", "120"])
        try #require(demo.status == 0, "\(demo.output)")

        // who-knows a domain: {query, teammates, people}; people at the domain or its subdomains only.
        let who = try #require(
            try Self.json(["who-knows", "lumenridge.example", "--json", "--db", db, "--as-of", "2024-01-02"]) as? [String: Any])
        #expect(Set(who.keys) == ["query", "teammates", "people"])
        #expect(who["query"] as? String == "lumenridge.example")
        let ts = Self.teammates(who)
        #expect(!ts.isEmpty)
        for t in ts { #expect(Set(t.keys) == Self.teammateKeys && Self.team.contains(t["email"] as? String ?? "")) }
        let tStrengths = ts.compactMap { $0["strength"] as? Double }
        #expect(tStrengths == tStrengths.sorted(by: >))
        let people = try #require(who["people"] as? [[String: Any]])
        for p in people {
            #expect(Set(p.keys) == ["address", "name", "lastContactAt", "strength"])
            let a = p["address"] as? String ?? ""
            #expect(a.hasSuffix("@lumenridge.example") || a.hasSuffix(".lumenridge.example"), "\(a)")
            #expect((0...100).contains(p["strength"] as? Double ?? -1))
        }
        #expect(people.contains { $0["address"] as? String == "maya@lumenridge.example" })
        // An address, and one outside the CRM.
        let maya = try #require(try Self.json(["who-knows", "Maya@LumenRidge.example", "--json", "--db", db]) as? [String: Any])
        #expect((maya["people"] as? [[String: Any]])?.map { $0["address"] as? String } == ["maya@lumenridge.example"])
        let associate = try #require(try Self.json(["who-knows", "associate@lumenridge.example", "--json", "--db", db]) as? [String: Any])
        #expect(!Self.teammates(associate).isEmpty)
        for bad in ["lumenridge", "not a domain.example"] {
            let r = try Self.run(["who-knows", bad, "--json", "--db", db])
            #expect(r.status != 0 && !r.stderr.isEmpty, "\(bad): \(r.output)")
        }

        // investors cold: the relationships shape; with no threshold worth the name, every investor whose last
        // contact is older than a day, at least one interaction.
        let coldDefault = try #require(try Self.json(["investors", "cold", "--json", "--db", db]) as? [[String: Any]])
        Self.checkShapeOfCold(coldDefault)
        let cold = try #require(
            try Self.json(["investors", "cold", "--json", "--db", db, "--as-of", "2024-06-01", "--min-interactions", "1", "--days", "30"])
                as? [[String: Any]])
        Self.checkShapeOfCold(cold)
        let all = try Self.relationships(db, ["--as-of", "2024-06-01"])
        #expect(Set(cold.compactMap { $0["investorId"] as? String }) == Set(all.compactMap { $0["investorId"] as? String }))
        let none = try #require(
            try Self.json(["investors", "cold", "--json", "--db", db, "--as-of", "2024-01-02", "--days", "365"]) as? [[String: Any]])
        #expect(none.isEmpty)

        // contacts suggest: frequent two-way correspondents who are not investors: in the demo firm, the funds'
        // associates (partners and angels are investors; friends only ever write in; internal mail is the firm's).
        let suggestions = try #require(try Self.json(["contacts", "suggest", "--json", "--db", db]) as? [[String: Any]])
        #expect(!suggestions.isEmpty)
        for s in suggestions {
            #expect(Set(s.keys) == ["address", "name", "domain", "messagesIn", "messagesOut", "threads", "lastContactAt", "strength"])
            #expect((s["messagesIn"] as? Int ?? 0) >= 2 && (s["messagesOut"] as? Int ?? 0) >= 2)
            let address = s["address"] as? String ?? ""
            #expect(address.hasPrefix("associate@") && address.hasSuffix("@" + (s["domain"] as? String ?? "?")), "\(address)")
        }
        let strengths = suggestions.compactMap { $0["strength"] as? Double }
        #expect(strengths == strengths.sorted(by: >))
    }

    /// Cold rows have the relationships shape, and their last contact is in the past.
    static func checkShapeOfCold(_ rows: [[String: Any]]) {
        for o in rows {
            #expect(Set(o.keys) == relationshipKeys)
            #expect((0...100).contains(o["strength"] as? Double ?? -1) && grades.contains(o["grade"] as? String ?? ""))
        }
    }

    /// `--as kim@firm.example`: kim's own figures are the operator's, and kim never sees more than the
    /// operator; a private mark by alex takes alex's mail out of kim's view only.
    @Test func aTeammatesViewNeverShowsMoreThanTheOperator() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relationships-cli3-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("demo.db").path
        let demo = try Self.run(["demo", "--db", db, "--conversations", "120"])
        try #require(demo.status == 0, "\(demo.output)")
        let kim = "kim@firm.example", alex = "alex@firm.example"
        let asOf = ["--as-of", "2024-01-02"]

        func compare(_ viewer: String, marked: Bool) throws -> (less: Int, same: Int) {
            let op = try Self.relationships(db, asOf)
            let mine = try Self.relationships(db, asOf + ["--as", viewer])
            Self.checkShape(mine, "as \(viewer)")
            let byId = Dictionary(uniqueKeysWithValues: op.map { ($0["investorId"] as? String ?? "", $0) })
            var less = 0, same = 0
            for o in mine {
                let id = o["investorId"] as? String ?? ""
                let full = try #require(byId[id], "\(viewer) sees \(id), which the operator does not")
                for k in ["messagesIn", "messagesOut", "threads"] {
                    #expect((o[k] as? Int ?? .max) <= (full[k] as? Int ?? -1), "\(viewer) \(id) \(k)")
                }
                #expect((o["lastContactAt"] as? String ?? "") <= (full["lastContactAt"] as? String ?? ""), "\(viewer) \(id)")
                #expect((o["firstContactAt"] as? String ?? "") >= (full["firstContactAt"] as? String ?? ""), "\(viewer) \(id)")
                let emails = Set(Self.teammates(o).compactMap { $0["email"] as? String })
                #expect(emails.isSubset(of: Set(Self.teammates(full).compactMap { $0["email"] as? String })), "\(viewer) \(id)")
                // The viewer's own figures are the operator's.
                let own = Self.teammates(o).first { $0["email"] as? String == viewer }
                let ownFull = Self.teammates(full).first { $0["email"] as? String == viewer }
                #expect(try own.map(Self.canonical) == ownFull.map(Self.canonical), "\(viewer) \(id)")
                if try Self.canonical(o) == Self.canonical(full) { same += 1 } else { less += 1 }
            }
            // Every investor the viewer's own mail touches is listed for them.
            for full in op where Self.teammates(full).contains(where: { $0["email"] as? String == viewer }) {
                #expect(mine.contains { $0["investorId"] as? String == full["investorId"] as? String }, "\(viewer) \(full["investorId"]!)")
            }
            if !marked { #expect(less == 0, "\(viewer): nothing is private yet, the views agree") }
            return (less, same)
        }
        _ = try compare(kim, marked: false)
        // alex makes his mail with lumenridge.example private.
        let mark = try Self.run(["privacy", "mark", alex, "--domain", "lumenridge.example", "private", "--db", db])
        #expect(mark.status == 0, "\(mark.output)")
        let afterKim = try compare(kim, marked: true)
        #expect(afterKim.less >= 1)
        _ = try compare(alex, marked: true)
        // maya wrote 20 follow-ups to alex alone: kim no longer counts them.
        let op = try Self.relationships(db, asOf + ["--investor", "inv-lumenridge-0"])
        let kims = try Self.relationships(db, asOf + ["--investor", "inv-lumenridge-0", "--as", kim])
        let opIn = try #require(op.first?["messagesIn"] as? Int)
        #expect((kims.first?["messagesIn"] as? Int ?? .max) <= opIn - 20)
        let alexs = try Self.relationships(db, asOf + ["--investor", "inv-lumenridge-0", "--as", alex])
        #expect(try Self.canonical(alexs) == Self.canonical(op))  // alex's own mail, and everyone else's at the default
        // who-knows as kim never lists more than the operator's.
        let whoOp = try #require(try Self.json(["who-knows", "lumenridge.example", "--json", "--db", db] + asOf) as? [String: Any])
        let whoKim = try #require(
            try Self.json(["who-knows", "lumenridge.example", "--json", "--db", db, "--as", kim] + asOf) as? [String: Any])
        let opPeople = Set((whoOp["people"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String })
        let kimPeople = Set((whoKim["people"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String })
        #expect(kimPeople.isSubset(of: opPeople))
        for t in Self.teammates(whoKim) {
            let full = Self.teammates(whoOp).first { $0["email"] as? String == t["email"] as? String }
            #expect((t["messagesIn"] as? Int ?? .max) <= (full?["messagesIn"] as? Int ?? -1))
            #expect((t["messagesOut"] as? Int ?? .max) <= (full?["messagesOut"] as? Int ?? -1))
        }
        // --as takes a CRM user.
        let stranger = try Self.run(["investors", "relationships", "--json", "--db", db, "--as", "nobody@firm.example"])
        #expect(stranger.status != 0 && stranger.stderr.contains("nobody@firm.example"), "\(stranger.output)")
        for args in [["investors", "cold"], ["contacts", "suggest"], ["who-knows", "lumenridge.example"]] {
            let r = try Self.run(args + ["--json", "--db", db, "--as", kim])
            #expect(r.status == 0 && (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) != nil, "\(args): \(r.output)")
        }
    }
}
