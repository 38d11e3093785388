import Foundation
import TestSupport
import Testing

/// The built binary, as a new user runs it.
@Suite struct DemoAndJSONTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gmail-capture")
    }

    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test func demoFinishesAndTheJSONShapesAreStable() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("demo.db").path
        let (status, out) = try Self.run(["demo", "--db", db, "--conversations", "150"])
        #expect(status == 0, "\(out)")
        for line in ["GmailCapture demo summary", "mailboxes:", "messages:", "threads:", "investors matched:", "attachments:", "faults survived:", "time taken:"] {
            #expect(out.contains(line), "missing \(line)")
        }
        #expect(!out.contains("\r"))  // piped: no progress bar

        let (s1, statusJSON) = try Self.run(["status", "--json", "--db", db])
        #expect(s1 == 0)
        let mailboxes = try #require(JSONSerialization.jsonObject(with: Data(statusJSON.utf8)) as? [[String: Any]])
        #expect(mailboxes.count == 5)
        for m in mailboxes {
            for key in ["email", "state", "cursor", "messagesStored", "backlog", "parkedItems", "lastError", "lastRun"] { #expect(m.keys.contains(key), "status lacks \(key)") }
            let run = m["lastRun"] as? [String: Any]
            for key in ["status", "startedAt", "finishedAt", "counts"] { #expect(run?.keys.contains(key) == true) }
            #expect(m["state"] as? String == "idle")
        }
        let (s2, threadsJSON) = try Self.run(["threads", "--json", "--limit", "500", "--db", db])
        #expect(s2 == 0)
        let threads = try #require(JSONSerialization.jsonObject(with: Data(threadsJSON.utf8)) as? [[String: Any]])
        #expect(!threads.isEmpty)
        for t in threads {
            for key in ["id", "subject", "messageIds", "mailboxes", "investorIds", "investorLinks"] { #expect(t.keys.contains(key), "thread lacks \(key)") }
            #expect((t["messageIds"] as? [String])?.allSatisfy { !$0.hasPrefix("<") } == true)
        }
        #expect(threads.contains { ($0["mailboxes"] as? [String])?.count ?? 0 > 1 })
        #expect(threads.contains { ($0["investorLinks"] as? [[String: Any]])?.contains { $0["rule"] as? String == "domain" } == true })
        let one = try #require(threads.first?["id"] as? Int)
        let (s3, threadText) = try Self.run(["thread", String(one), "--db", db])
        #expect(s3 == 0 && threadText.hasPrefix("Thread \(one):"))
    }
}
