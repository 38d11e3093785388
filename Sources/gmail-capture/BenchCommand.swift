import CaptureFiles
import ArgumentParser
import Foundation
import CaptureParsing
import FakeGmailBridge
import GmailCapture

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (build in release mode first: swift build -c release).",
        subcommands: [
            BenchParseCommand.self, BenchBackfillCommand.self, BenchGenerateCommand.self, BenchFakeCommand.self, BenchSearchCommand.self,
            BenchRelationshipsCommand.self,
        ]
    )
}

struct BenchParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Full parse of every .eml file in a directory: MB/s, messages/s, peak memory.",
        discussion: """
            A full parse decodes every header, walks every part, converts text to UTF-8 and decodes and \
            hashes every attachment. By default all files are read into memory first and only parsing is \
            timed; --one-at-a-time reads, parses and drops one file at a time (memory measurement). The \
            `parse-bench` executable runs the same benchmark without the rest of the application linked in.
            """
    )

    @Argument(help: "Directory of .eml files.") var directory: String
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Read and parse one file at a time (memory measurement).") var oneAtATime = false

    func run() async throws {
        do {
            let r = try ParseBenchmark().run(directory: directory, oneAtATime: oneAtATime)
            print(json ? r.json(impl: "swift-gmailcapture").serialized() : r.text(impl: "swift-gmailcapture"))
        } catch let f as ParseBenchmark.Failure {
            throw ValidationError(f.description)
        }
    }
}

struct BenchGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the synthetic benchmark mailbox as a fakegmail-server scenario directory (for the Python baseline).")
    @Argument(help: "Directory to create.") var directory: String
    @Option(help: "Messages.") var messages = 2_000
    @Option(help: "Mailboxes.") var accounts = 1
    @Option(help: "Seed.") var seed: UInt64 = 8
    @Option(help: "Mailbox mix: realistic or small.") var mix = "realistic"

    func validate() throws {
        if BenchMailbox.Mix(rawValue: mix) == nil { throw ValidationError("--mix must be realistic or small") }
    }

    func run() async throws {
        let bytes = try BenchMailbox(messages: messages, accounts: accounts, seed: seed, mix: BenchMailbox.Mix(rawValue: mix)!)
            .writeScenario(to: URL(fileURLWithPath: directory))
        print("\(directory): \(messages) messages, \(bytes) bytes")
    }
}
