import CaptureFiles
import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

/// Runs the built `gmail-capture` binary (it sits beside the test bundle in the build folder).
@Suite struct ParseCLITests {
    static var binary: URL { BuiltProduct.url("gmail-capture") }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try BuiltProduct.run(binary, args)
        return (r.status, r.stdout, r.stderr)
    }

    @Test func jsonLinesInArgumentOrderAndMissingFilesNamed() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "gmail-capture not built at \(Self.binary.path)")
        let a = "Fixtures/mime/rfc/026-rfc2231-utf8-filename.eml"
        let b = "Fixtures/mime/rfc/001-plain-ascii.eml"
        let r = try Self.run(["parse", "--json", a, "missing-file.eml", b])
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing-file.eml: no such file"))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["file"] as? String == a)
        let expectedKeys: Set = [
            "file", "subject", "from", "to", "cc", "bcc", "replyTo", "date", "messageId", "inReplyTo",
            "references", "textBody", "htmlBody", "attachments", "problems",
        ]
        #expect(Set(first?.keys.map { $0 } ?? []) == expectedKeys)
        let attachment = (first?["attachments"] as? [[String: Any]])?.first
        #expect(attachment?["filename"] as? String == "Übersicht Q1 – Beteiligungen.pdf")
        // The CLI prints exactly what the library computes.
        let library = try MessageParser().parseFile(at: TestPaths.packageRoot.appendingPathComponent(a).path)
        #expect(lines[0] == JSONValue.object([("file", .string(a))] + library.cliJSON).serialized())
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(second?["file"] as? String == b)
    }

    /// The files reach the command in argument order wherever the options stand (`parse` takes its
    /// files past ArgumentParser), `--` still makes a dash-named file a file, and a bad option is still
    /// refused.
    @Test func manyFilesAroundOptionsInArgumentOrder() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parse-many-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for n in 0..<3_000 {
            let path = dir.appendingPathComponent(n == 2_999 ? "-dash.eml" : "m\(n).eml").path
            try Data("Subject: number \(n)\r\nFrom: a@example.com\r\n\r\nbody \(n)\r\n".utf8).write(to: URL(fileURLWithPath: path))
            files.append(n == 2_999 ? "-dash.eml" : path)
        }
        let args = ["parse", files[0], "--input", "raw"] + files[1..<1_500] + ["--json"] + files[1_500..<2_999] + ["--"] + [files[2_999]]
        let started = ContinuousClock.now
        let r = try BuiltProduct.run(Self.binary, args, currentDirectory: dir)
        let elapsed = ContinuousClock.now - started
        #expect(r.status == 0, "\(r.stderr)")
        let subjects = r.stdout.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["subject"] as? String
        }
        #expect(subjects == (0..<3_000).map { "number \($0)" })
        // Quadratic argument handling took seconds here (3,000 files: about 0.3 s in ArgumentParser alone).
        #expect(elapsed < .seconds(30))
        let bad = try Self.run(["parse", files[0], files[1], "--bogus", files[2]])
        #expect(bad.status != 0 && bad.stderr.contains("--bogus"))
        let none = try Self.run(["parse", "--json"])
        #expect(none.status != 0)
    }

    @Test func badInputKindIsAValidationError() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let r = try Self.run(["parse", "--input", "mbox", "x.eml"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--input must be one of"))
    }

    @Test func gmailJSONInputUsesThePayload() throws {
        guard let shared = TestPaths.shared else {
            print("SKIPPED: ../shared is absent")
            return
        }
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path))
        let file = shared.appendingPathComponent("gmail-real/message-export-19647ca5dcfb932d.json").path
        let r = try Self.run(["parse", "--json", "--input", "gmail-json", file])
        #expect(r.status == 0)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let files = (obj?["attachments"] as? [[String: Any]])?.compactMap { $0["filename"] as? String }
        #expect(files?.contains("XYZ A6-1.pdf") == true)
    }
}
