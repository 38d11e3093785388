import CaptureParsing
import FakeGmail
import Foundation
import GmailCapture
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The official Python MCP client (the `mcp` package from PyPI, Scripts/conformance_mcp_client.py) against
/// the built `gmail-capture`: over stdio (`gmail-capture mcp --as kim`) and over streamable HTTP (a live
/// `gmail-capture serve` on a loopback port, kim's bearer token), the same checks on both. .ci/run installs
/// `mcp`; where it is missing the test fails in CI (`CI` set) and is reported as skipped (cancelled) on a
/// developer machine, never passed.
@Suite struct MCPConformanceTests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }
    static let maxChars = 4_000

    static var inCI: Bool {
        guard let v = ProcessInfo.processInfo.environment["CI"]?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return !["", "0", "false", "no"].contains(v)
    }

    @Test func officialPythonClientOverStdioAndHTTP() async throws {
        let probe = try BuiltProduct.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import mcp.client.stdio, mcp.client.streamable_http"])
        guard probe.status == 0 else {
            let why =
                "the Python MCP client is not importable by python3 (pip install mcp): "
                + probe.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(1).joined()
            if Self.inCI {
                Issue.record("CI is set but the MCP conformance run cannot start: \(why). .ci/run installs it; the CI image is broken.")
                return
            }
            print("SKIPPED (not in CI): \(why)")
            try Test.cancel("skipped: \(why)")
        }
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "gmail-capture is not built")
        let firm = try await MCPFirm.get()
        let facts = try await Self.facts(firm)
        let factsURL = firm.dir.appendingPathComponent("conformance-facts-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: facts, options: [.sortedKeys]).write(to: factsURL)

        // serve in real mode (integration on, DWD credentials that are never used: the scheduler's first
        // run is an interval away), over the same database.
        let key = firm.dir.appendingPathComponent("sa-\(UUID().uuidString).json")
        try await FakeGmail(options: .init(seed: 7)).serviceAccountKeyJSON().write(to: key)
        chmod(key.path, 0o600)
        let token = try await APITokenAuthenticator(directory: firm.runtime.directory).issue(
            forUserEmail: MCPFirm.kim, label: "mcp conformance"
        )
        .token
        var env = ProcessInfo.processInfo.environment
        env["CRM_GMAIL_INTEGRATION_ENABLED"] = "true"
        env["CRM_GMAIL_SA_KEY_PATH"] = key.path
        env["CRM_GMAIL_WORKSPACE_DOMAIN"] = "firm.example"
        env["CRM_GMAIL_API_BASE_URL"] = "http://127.0.0.1:9"
        env["CRM_DB_PATH"] = firm.dbPath
        env["CRM_GMAIL_ATTACHMENT_DIR"] = firm.dir.appendingPathComponent("attachments").path
        let serve = try ServeChild(
            Self.binary, ["serve", "--port", "0", "--db", firm.dbPath, "--mcp-max-chars", String(Self.maxChars)], environment: env)
        defer { serve.stop() }
        let base = try await serve.listeningURL()

        let run = try BuiltProduct.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "Scripts/conformance_mcp_client.py", "--fixture", factsURL.path, "--binary", Self.binary.path, "--db",
                firm.dbPath,
                "--max-chars", String(Self.maxChars), "--http", base + "/mcp", "--token", token,
            ])
        print(run.output)
        #expect(run.status == 0, "serve's log:\n\(serve.stderrText().suffix(3_000))")
        let summary = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasSuffix(" passed, 0 failed") && !summary.hasPrefix("0 passed"), "\(summary)")
        // Both transports ran every check: the stdio and the http halves pass the same number.
        let stdio = run.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS [stdio]") }.count
        let http = run.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS [http]") }.count
        #expect(stdio == http && stdio >= 20, "stdio \(stdio) checks passed, http \(http)")
        // serve logged each call without email content.
        let log = serve.stdoutText() + serve.stderrText()
        #expect(log.contains("mcp tool call") && log.contains("viewer=\(MCPFirm.kim)"), "\(log.suffix(2_000))")
        #expect(!log.lowercased().contains("ignore previous instructions"))
    }

    /// What the script checks against, from the read model and the reports (kim's view).
    static func facts(_ firm: MCPFirm) async throws -> [String: Any] {
        let kim = Viewer.teammate(MCPFirm.kim)
        let rm = firm.runtime.readModel, reports = firm.runtime.relationships
        let figures = try await reports.investors(for: kim)
        let top = try #require(figures.first)
        let timeline = try #require(try await reports.timeline(investorId: top.investorId, for: kim, limit: 100_000, offset: 0))
        let who = try await reports.whoKnows("lumenridge.example", for: kim)
        var searched: [Int64] = []
        var cursor: String?
        repeat {
            let page = try await rm.search("teammate:kim@firm.example", for: kim, limit: 100, cursor: cursor, surface: .cli)
            searched += page.results.map(\.threadId)
            cursor = page.nextCursor
        } while cursor != nil
        // A sample of kim's threads covering every level (colleagues' mail at metadata, subject and full).
        var threads: [String: [String: String]] = [:]
        var seen: Set<SharingLevel> = []
        for t in try await rm.threads(for: kim, limit: 100_000) where threads.count < 12 {
            guard let found = try await rm.thread(id: t.id, for: kim, surface: .cli) else { continue }
            let levels = Set(found.messages.map(\.visibility))
            guard !levels.isSubset(of: seen) || threads.count < 3 else { continue }
            seen.formUnion(levels)
            threads[String(t.id)] = Dictionary(
                found.messages.map {
                    ($0.messageId?.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) ?? "", $0.visibility.rawValue)
                },
                uniquingKeysWith: { a, _ in a })
        }
        let all = try await rm.threads(for: .operator, limit: 100_000).map(\.id)
        let kims = Set(try await rm.threads(for: kim, limit: 100_000).map(\.id))
        var bodies: [String: Any] = [:]
        for (id, body) in firm.bigBodies {
            bodies[id] = ["length": body.unicodeScalars.count, "sha256": sha256Hex(Data(body.utf8))]
        }
        return [
            "viewer": MCPFirm.kim, "workspaceDomain": "firm.example",
            "investors": try await firm.runtime.directory.investors().map(\.id),
            "investorsWithFigures": figures.map(\.investorId),
            "topInvestor": ["id": top.investorId, "messagesIn": top.messagesIn, "timeline": timeline.count],
            "whoKnows": ["query": "lumenridge.example", "teammates": who.teammates.map(\.email), "people": who.people.map(\.address)],
            "cold": try await reports.cold(for: kim, minInteractions: 1, days: 30).map(\.investorId),
            "search": ["query": "teammate:kim@firm.example", "threads": searched],
            "threads": threads,
            "invisibleThread": try #require(all.first { !kims.contains($0) }), "missingThread": (all.max() ?? 0) + 1_000,
            "bigThread": firm.bigThread, "bigBodies": bodies, "bigOrder": MCPFirm.bigIds,
            "hostile": ["messageId": MCPFirm.hostileId, "threadId": firm.hostileThread, "body": MCPFirm.hostileBody],
        ]
    }
}

/// A long-running child (`serve`), its output in files; stopped with SIGTERM, then SIGKILL.
final class ServeChild: @unchecked Sendable {
    let process = Process()
    let logs: URL

    init(_ executable: URL, _ arguments: [String], environment: [String: String]) throws {
        logs = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] {
            _ = FileManager.default.createFile(atPath: logs.appendingPathComponent(name).path, contents: nil)
        }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = logs
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: logs.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: logs.appendingPathComponent("stderr"))
        try process.run()
    }

    func stdoutText() -> String { (try? String(contentsOf: logs.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
    func stderrText() -> String { (try? String(contentsOf: logs.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }

    /// Waits (at most 60 s) for `listening on http://HOST:PORT` and returns `http://HOST:PORT`.
    func listeningURL() async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = stdoutText().split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }) {
                return String(line.dropFirst("listening on ".count)).trimmingCharacters(in: .whitespaces)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServeFailure(description: "serve did not start listening:\n\(stdoutText())\n\(stderrText())")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logs)
    }
}

struct ServeFailure: Error, CustomStringConvertible {
    var description: String
}
