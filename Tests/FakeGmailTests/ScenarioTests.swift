import FakeGmail
import Foundation
import TestSupport
import Testing

@Suite struct ScenarioTests {
    static let historyDir = TestPaths.fixtures.appendingPathComponent("history")
    static let scenarios: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: historyDir.path)) ?? []).filter {
        FileManager.default.fileExists(atPath: historyDir.appendingPathComponent("\($0)/scenario.json").path)
    }.sorted()

    @Test func scenariosArePresent() { #expect(Self.scenarios.count >= 4) }

    @Test(arguments: scenarios)
    func everyScenarioSeedsAndReplays(_ name: String) async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent(name))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        var refs = try await scenario.seed(into: fake)
        for step in scenario.steps { try await Scenario.apply(step, to: fake, refs: &refs) }
        #expect(!(await fake.users()).isEmpty)
    }

    @Test func incrementalScenarioEndsWithTheNetEffect() async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent("incremental-basic"))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        var refs = try await scenario.seed(into: fake)
        let user = "alice@firm.example"
        let cursor = try #require(await fake.currentHistoryId(user: user))
        for step in scenario.steps { try await Scenario.apply(step, to: fake, refs: &refs) }
        let ids = Set(await fake.messageIDs(user: user))
        #expect(ids == Set(["m1", "m3", "m4", "m5", "late1", "late2"].map { refs[$0]!.id }))
        let token = await fake.accessToken(for: user)
        let r = await fake.handle(
            FakeRequest(
                method: "GET", target: "/gmail/v1/users/me/history?startHistoryId=\(cursor)",
                headers: [("Authorization", "Bearer \(token)")]))
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        // late1 added, m1 +STARRED, m1 -UNREAD, m2 deleted, transient added, transient deleted, late2 added.
        #expect((obj["history"] as? [Any])?.count == 7)
    }

    @Test func twoTeammatesThreadWithinEachMailbox() async throws {
        let scenario = try Scenario.load(directory: Self.historyDir.appendingPathComponent("two-teammates"))
        let fake = FakeGmail(options: .init(seed: 1, quota: .off))
        let refs = try await scenario.seed(into: fake)
        #expect(refs["a3"]!.threadId == refs["a2"]!.threadId)
        #expect(refs["a4"]!.threadId == refs["a2"]!.threadId)
        #expect(refs["b2"]!.threadId == refs["b1"]!.threadId)
        #expect(refs["a2"]!.threadId != refs["b2"]!.threadId)  // thread ids are per mailbox
    }

    @Test func badScenariosNameTheFileAndTheProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: Scenario.LoadError.self) { try Scenario.load(directory: dir) }
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("scenario.json: missing"))
        }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("scenario.json"))
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("invalid JSON"))
        }
        try Data(#"{"users": [{"email": "a@b.example", "messages": [{"eml": "nope.eml"}]}]}"#.utf8).write(
            to: dir.appendingPathComponent("scenario.json"))
        do { _ = try Scenario.load(directory: dir); Issue.record("expected an error") } catch let e as Scenario.LoadError {
            #expect(e.description.contains("nope.eml") && e.description.contains("missing .eml"))
        }
    }
}

/// The standalone binary, started as a new user would.
@Suite(.serialized) struct FakeGmailServerBinaryTests {
    static var binary: URL {
        BuiltProduct.url("fakegmail-server")
    }

    @Test func printsListeningLineWritesKeyAndStopsOnSIGTERM() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = [
            "--port", "0", "--scenario", TestPaths.fixtures.appendingPathComponent("history/two-teammates").path,
            "--service-account-out", keyFile.path,
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = ""
        let handle = out.fileHandleForReading
        while !line.hasSuffix("\n") {
            let d = handle.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        let first = line.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("listening on http://127.0.0.1:"))
        let port = Int(first.split(separator: ":").last ?? "") ?? 0
        #expect(port > 0)
        let key = try JSONSerialization.jsonObject(with: Data(contentsOf: keyFile)) as? [String: Any]
        #expect(key?["token_uri"] as? String == "http://127.0.0.1:\(port)/token")
        #expect(key?["type"] as? String == "service_account")
        p.terminate()  // SIGTERM
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0)
    }

    @Test func badScenarioExitsNonZeroNamingTheFile() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["--port", "0", "--scenario", "/nonexistent-scenario-dir"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(message.contains("/nonexistent-scenario-dir/scenario.json: missing"))
    }
}
