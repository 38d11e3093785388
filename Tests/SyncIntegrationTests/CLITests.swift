import Foundation
import TestSupport
import Testing

/// The built binary, as a new user runs it.
@Suite struct DemoAndJSONTests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }

    /// Status and stdout (stderr appended, for failure messages).
    static func run(_ args: [String]) throws -> (Int32, String) {
        let r = try BuiltProduct.run(binary, args, environment: ["PATH": "/usr/bin:/bin"])
        return (r.status, r.output)
    }

    @Test func demoFinishesAndTheJSONShapesAreStable() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("demo.db").path
        let (status, out) = try Self.run(["demo", "--db", db, "--conversations", "150"])
        #expect(status == 0, "\(out)")
        for line in [
            "GmailCapture demo summary", "mailboxes:", "messages:", "threads:", "investors matched:", "attachments:", "faults survived:",
            "time taken:",
        ] {
            #expect(out.contains(line), "missing \(line)")
        }
        #expect(!out.contains("\r"))  // piped: no progress bar

        let (s1, statusJSON) = try Self.run(["status", "--json", "--db", db])
        #expect(s1 == 0)
        let mailboxes = try #require(JSONSerialization.jsonObject(with: Data(statusJSON.utf8)) as? [[String: Any]])
        #expect(mailboxes.count == 5)
        for m in mailboxes {
            for key in ["email", "state", "cursor", "messagesStored", "backlog", "parkedItems", "lastError", "lastRun"] {
                #expect(m.keys.contains(key), "status lacks \(key)")
            }
            let run = m["lastRun"] as? [String: Any]
            for key in ["status", "startedAt", "finishedAt", "counts"] { #expect(run?.keys.contains(key) == true) }
            #expect(m["state"] as? String == "idle")
        }
        let (s2, threadsJSON) = try Self.run(["threads", "--json", "--limit", "500", "--db", db])
        #expect(s2 == 0)
        let threads = try #require(JSONSerialization.jsonObject(with: Data(threadsJSON.utf8)) as? [[String: Any]])
        #expect(!threads.isEmpty)
        for t in threads {
            for key in ["id", "subject", "messageIds", "mailboxes", "investorIds", "investorLinks"] {
                #expect(t.keys.contains(key), "thread lacks \(key)")
            }
            #expect((t["messageIds"] as? [String])?.allSatisfy { !$0.hasPrefix("<") } == true)
        }
        #expect(threads.contains { ($0["mailboxes"] as? [String])?.count ?? 0 > 1 })
        #expect(threads.contains { ($0["investorLinks"] as? [[String: Any]])?.contains { $0["rule"] as? String == "domain" } == true })
        let one = try #require(threads.first?["id"] as? Int)
        let (s3, threadText) = try Self.run(["thread", String(one), "--db", db])
        #expect(s3 == 0 && threadText.hasPrefix("Thread \(one):"))
    }
}

/// The benchmark commands stay honest: a backfill that stores less than the mailbox fails the run,
/// the live mode reaches its server, the quota runs spend within the budget without a rate error.
@Suite struct BenchCommandTests {
    static func json(_ args: [String]) throws -> [String: Any] {
        let r = try BuiltProduct.run(DemoAndJSONTests.binary, args)
        #expect(r.status == 0, "\(r.output)")
        return try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.output)")
    }

    @Test(arguments: [
        ["--live"], [], ["--quota", "classic"], ["--quota", "2026", "--accounts", "2"], ["--without-search-index", "--mix", "small"],
    ])
    func backfillStoresTheWholeMailbox(extra: [String]) throws {
        try #require(FileManager.default.isExecutableFile(atPath: DemoAndJSONTests.binary.path))
        let r = try Self.json(["bench", "backfill", "--messages", "60", "--json"] + extra)
        #expect(r["stored"] as? Int == 60 && r["messages"] as? Int == 60)
        #expect(r["rateLimitAnswers"] as? Int == 0)
        #expect((r["messagesPerSec"] as? Double ?? 0) > 0 && (r["peakRSSBytes"] as? Int ?? 0) > 0)
        if extra.contains("--quota") {
            let budget = try #require(r["unitsPerSecBudget"] as? Int)
            let achieved = try #require(r["unitsPerSecAchieved"] as? Double)
            let units = try #require(r["quotaUnits"] as? Int), seconds = try #require(r["virtualSeconds"] as? Double)
            // Spend never exceeds the budget beyond the first second's burst.
            #expect(Double(units - budget) / seconds <= Double(budget) * 1.01)
            #expect(achieved > 0)
        }
    }

    @Test func generateWritesAScenarioTheServerLoads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-gen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, out) = try DemoAndJSONTests.run(["bench", "generate", dir.path, "--messages", "12", "--mix", "small"])
        #expect(status == 0, "\(out)")
        let scenario = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("scenario.json"))) as? [String: Any])
        let users = try #require(scenario["users"] as? [[String: Any]])
        #expect((users.first?["messages"] as? [Any])?.count == 12)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("mail").path).count == 12)
    }
}
