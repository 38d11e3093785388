import Foundation
import TestSupport
import Testing

/// Team visibility through the built `gmail-capture` binary (issue 13): `users sharing`, `threads --as`,
/// `thread --as`, `privacy mark`, `access-log`, on a demo firm's database.
@Suite struct VisibilityCLITests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }
    static let team = ["alex@firm.example", "sam@firm.example", "kim@firm.example", "lee@firm.example", "pat@firm.example"]
    static let levels = ["metadata", "subject", "full"]

    static func run(_ args: [String], _ extra: [String: String] = [:]) throws -> BuiltProduct.Outcome {
        try BuiltProduct.run(
            binary, args, environment: ["PATH": "/usr/bin:/bin", "CRM_GMAIL_WORKSPACE_DOMAIN": "firm.example"].merging(extra) { $1 })
    }

    /// The JSON a command printed (it must succeed).
    static func json(_ args: [String]) throws -> Any {
        let r = try run(args)
        #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.output)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    /// A JSON object as sorted-key text, for comparing two decoded objects.
    static func canonical(_ o: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    static func tempDir(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func usersSharingPrintsTheDefaultAndRespectsTheCeiling() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = try Self.tempDir("sharing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("crm.db").path
        #expect(try Self.run(["users", "add", "sam@firm.example", "--db", db]).status == 0)
        var r = try Self.run(["users", "sharing", "sam@firm.example", "--db", db])
        #expect(r.status == 0 && r.stdout == "metadata\n", "\(r.output)")
        // The firm default comes from the environment until the teammate sets one.
        r = try Self.run(["users", "sharing", "sam@firm.example", "--db", db], ["CRM_GMAIL_DEFAULT_SHARING": "subject"])
        #expect(r.status == 0 && r.stdout == "subject\n", "\(r.output)")
        // A ceiling refuses a level above it and caps what is printed.
        r = try Self.run(["users", "sharing", "sam@firm.example", "full", "--db", db], ["CRM_GMAIL_MAX_SHARING": "subject"])
        #expect(r.status != 0 && r.stderr.contains("ceiling"), "\(r.output)")
        #expect(try Self.run(["users", "sharing", "sam@firm.example", "--db", db]).stdout == "metadata\n")
        r = try Self.run(["users", "sharing", "sam@firm.example", "full", "--db", db])
        #expect(r.status == 0 && r.stdout == "full\n", "\(r.output)")
        r = try Self.run(["users", "sharing", "sam@firm.example", "--db", db], ["CRM_GMAIL_MAX_SHARING": "subject"])
        #expect(r.status == 0 && r.stdout == "subject\n", "\(r.output)")
        // Bad input.
        #expect(try Self.run(["users", "sharing", "sam@firm.example", "everything", "--db", db]).status != 0)
        #expect(try Self.run(["users", "sharing", "nobody@firm.example", "--db", db]).status != 0)
        #expect(try Self.run(["users", "sharing", "sam@firm.example", "--db", db]).stdout == "full\n")
    }

    @Test func aTeammatesViewOfTheDemoFirm() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = try Self.tempDir("visibility-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("demo.db").path
        let demo = try Self.run(["demo", "--db", db, "--conversations", "80"])
        try #require(demo.status == 0, "\(demo.output)")
        let kim = "kim@firm.example", sam = "sam@firm.example"

        // Levels: whatever the demo left for sam is a level; setting full prints full.
        var r = try Self.run(["users", "sharing", sam, "--db", db])
        #expect(r.status == 0 && Self.levels.contains(r.stdout.trimmingCharacters(in: .newlines)), "\(r.output)")
        r = try Self.run(["users", "sharing", "pat@firm.example", "--db", db])
        #expect(r.status == 0 && r.stdout == "metadata\n", "pat's level should be the firm default: \(r.output)")
        r = try Self.run(["users", "sharing", sam, "full", "--db", db])
        #expect(r.status == 0 && r.stdout == "full\n", "\(r.output)")
        #expect(try Self.run(["users", "sharing", sam, "--db", db]).stdout == "full\n")

        // The operator's list (no --as) and kim's.
        let everything = try #require(try Self.json(["threads", "--json", "--limit", "10000", "--db", db]) as? [[String: Any]])
        let kims = try #require(try Self.json(["threads", "--as", kim, "--json", "--limit", "10000", "--db", db]) as? [[String: Any]])
        let keys: Set<String> = ["id", "subject", "firstAt", "lastAt", "messageIds", "mailboxes", "investorIds", "investorLinks"]
        for t in everything + kims { #expect(Set(t.keys) == keys, "thread keys \(t.keys.sorted())") }
        let allIds = Set(everything.compactMap { $0["id"] as? Int }), kimIds = Set(kims.compactMap { $0["id"] as? Int })
        #expect(kimIds.count == kims.count && kimIds.isSubset(of: allIds) && kimIds.count < allIds.count && !kimIds.isEmpty)
        #expect(everything.allSatisfy { !($0["subject"] is NSNull) }, "the operator sees every subject")
        let byId = Dictionary(uniqueKeysWithValues: everything.map { ($0["id"] as! Int, $0) })
        // Threads kim does not see hold no mail of kim's.
        for id in allIds.subtracting(kimIds) { #expect((byId[id]?["mailboxes"] as? [String])?.contains(kim) == false, "thread \(id)") }

        // Read a sample of kim's threads: kim's own, sam's (full now), and others' (metadata).
        func mailboxes(_ t: [String: Any]) -> [String] { t["mailboxes"] as? [String] ?? [] }
        let own = kims.filter { mailboxes($0).contains(kim) }.prefix(4)
        let sams = kims.filter { !mailboxes($0).contains(kim) && mailboxes($0).contains(sam) }.prefix(5)
        let others = kims.filter { !mailboxes($0).contains(kim) && !mailboxes($0).contains(sam) }.prefix(5)
        #expect(!own.isEmpty && !sams.isEmpty && !others.isEmpty)
        var expectedLog: [String] = []
        var sawLevels: Set<String> = []
        for listed in own + sams + others {
            let id = listed["id"] as! Int
            let got = try #require(try Self.json(["thread", String(id), "--as", kim, "--json", "--db", db]) as? [String: Any])
            let thread = try #require(got["thread"] as? [String: Any])
            let messages = try #require(got["messages"] as? [[String: Any]])
            #expect(try Self.canonical(thread) == Self.canonical(listed), "thread \(id): the list and the detail disagree")
            let messageIds = thread["messageIds"] as? [String] ?? []
            #expect(messageIds.count == messages.count && !messages.isEmpty, "thread \(id)")
            for (n, m) in messages.enumerated() {
                let at = "thread \(id) message \(n)"
                for key in [
                    "visibility", "owners", "subject", "snippet", "textBody", "htmlBody", "attachments", "from", "to", "cc", "date",
                    "direction", "investorLinks", "participants",
                ] {
                    #expect(m.keys.contains(key), "\(at) lacks \(key)")
                }
                let level = try #require(m["visibility"] as? String, "\(at)")
                let owners = try #require(m["owners"] as? [String], "\(at)")
                sawLevels.insert(level)
                #expect(Self.levels.contains(level) && !owners.isEmpty, "\(at)")
                #expect(Set(owners).isSubset(of: Set(mailboxes(listed))), "\(at): owners \(owners) outside the thread's mailboxes")
                if owners.contains(kim) { #expect(level == "full", "\(at): kim's own mail at \(level)") }
                if level == "metadata" { #expect(m["subject"] is NSNull && m["snippet"] is NSNull, "\(at): subject shown at metadata") }
                if level != "full" {
                    #expect(m["textBody"] is NSNull && m["htmlBody"] is NSNull, "\(at): body shown at \(level)")
                    #expect((m["attachments"] as? [Any])?.isEmpty == true, "\(at): attachments shown at \(level)")
                } else {
                    #expect(!(m["textBody"] is NSNull) || !(m["htmlBody"] is NSNull), "\(at): no body at full")
                }
                if level != "metadata" { #expect(m["subject"] is String, "\(at): no subject at \(level)") }
                #expect(m["date"] is String && ["inbound", "outbound"].contains(m["direction"] as? String ?? ""), "\(at)")
                #expect((m["from"] as? [String: Any])?["address"] is String, "\(at)")
                if level != "metadata" && !owners.contains(kim) {
                    let mid = messageIds[n]
                    #expect(
                        !mid.hasPrefix("<")
                            && (m["messageId"] as? String).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) == mid }
                                != false
                    )
                    expectedLog += owners.map { "\(kim) \($0) \(mid) \(level) cli" }
                }
            }
            // Kim's view is part of the operator's.
            let full = try #require(try Self.json(["thread", String(id), "--json", "--db", db]) as? [String: Any])
            let allMessages = Set((full["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int })
            #expect(Set(messages.compactMap { $0["id"] as? Int }).isSubset(of: allMessages))
        }
        #expect(sawLevels.contains("full") && sawLevels.contains("metadata"), "\(sawLevels)")
        #expect(expectedLog.contains { $0.contains(" \(sam) ") && $0.hasSuffix(" full cli") }, "sam's mail, shared in full, was read")

        // A private mark on a thread only its owner holds: kim then sees nothing of it, like an unknown id.
        let target = try #require(
            kims.first { t in
                let m = mailboxes(t)
                return m.count == 1 && m[0] != kim && !(own + sams + others).contains { $0["id"] as? Int == t["id"] as? Int }
            })
        let targetId = String(target["id"] as! Int), owner = mailboxes(target)[0]
        r = try Self.run(["privacy", "mark", kim, "--thread", targetId, "private", "--db", db])
        #expect(r.status != 0, "kim holds nothing in thread \(targetId): \(r.output)")
        r = try Self.run(["privacy", "mark", owner, "--thread", targetId, "private", "--db", db])
        #expect(r.status == 0, "\(r.output)")
        let hidden = try Self.run(["thread", targetId, "--as", kim, "--json", "--db", db])
        let unknown = try Self.run(["thread", "987654", "--as", kim, "--json", "--db", db])
        #expect(hidden.status == 1 && hidden.stdout.isEmpty && hidden.stderr.contains("no thread"), "\(hidden.output)")
        #expect(unknown.status == 1 && hidden.stderr == unknown.stderr.replacingOccurrences(of: "987654", with: targetId))
        let after = try #require(try Self.json(["threads", "--as", kim, "--json", "--limit", "10000", "--db", db]) as? [[String: Any]])
        #expect(!after.contains { $0["id"] as? Int == Int(targetId) } && after.count == kims.count - 1)
        #expect(try Self.run(["thread", targetId, "--as", owner, "--json", "--db", db]).status == 0)  // the owner's own
        #expect(try Self.run(["thread", targetId, "--json", "--db", db]).status == 0)  // the operator
        let operatorAfter = try #require(try Self.json(["threads", "--json", "--limit", "10000", "--db", db]) as? [[String: Any]])
        #expect(operatorAfter.count == everything.count)
        r = try Self.run(["privacy", "mark", owner, "--thread", targetId, "--address", "x@y.example", "private", "--db", db])
        #expect(r.status != 0)
        #expect(try Self.run(["thread", targetId, "--as", "nobody@firm.example", "--db", db]).status != 0)

        // The access log holds exactly kim's reads of others' mail at subject or full.
        let log = try #require(try Self.json(["access-log", "--viewer", kim, "--json", "--db", db]) as? [[String: Any]])
        for e in log {
            #expect(Set(e.keys) == ["viewer", "owner", "messageId", "level", "surface", "at"], "\(e.keys.sorted())")
            #expect((e["messageId"] as? String).map { !$0.isEmpty && !$0.contains("<") && !$0.contains(">") } == true)
            #expect(e["surface"] as? String == "cli" && (e["at"] as? String)?.isEmpty == false)
        }
        let got = log.map {
            "\($0["viewer"] as? String ?? "") \($0["owner"] as? String ?? "") \($0["messageId"] as? String ?? "") \($0["level"] as? String ?? "") \($0["surface"] as? String ?? "")"
        }
        #expect(
            got.sorted() == expectedLog.sorted(),
            "unexpected \(Set(got).subtracting(expectedLog)); missing \(Set(expectedLog).subtracting(got))")
        #expect(got == expectedLog, "oldest first")
        // Nobody else read anything (the owner's and the operator's reads are not logged).
        let everyone = try #require(try Self.json(["access-log", "--json", "--db", db]) as? [[String: Any]])
        #expect(everyone.count == log.count)
        let samsLog = try #require(try Self.json(["access-log", "--owner", sam, "--json", "--db", db]) as? [[String: Any]])
        #expect(
            samsLog.count == expectedLog.filter { $0.contains(" \(sam) ") }.count && samsLog.allSatisfy { $0["owner"] as? String == sam })
        let text = try Self.run(["access-log", "--viewer", kim, "--db", db])
        #expect(text.status == 0 && text.stdout.split(separator: "\n").count == log.count)
    }
}
