import CaptureFiles
import ArgumentParser
import Foundation
import CaptureParsing
import GmailCapture

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse .eml files or Gmail message JSON into the canonical message.",
        discussion: """
            With --json, prints one JSON object per input on its own line, in argument order. A file that \
            cannot be read is reported on stderr and makes the exit status non-zero; malformed mail still \
            parses, with its problems listed.
            """
    )

    @Argument(help: "Files to parse.") var files: [String]
    @Option(help: "Input kind: auto, raw, gmail-json.") var input: String = "auto"
    @Flag(help: "Print JSON lines.") var json = false

    func validate() throws {
        if MessageParser.InputKind(rawValue: input) == nil {
            throw ValidationError("--input must be one of auto, raw, gmail-json (got \"\(input)\")")
        }
        if files.isEmpty { throw ValidationError("give at least one file") }
    }

    func run() async throws {
        let parser = MessageParser()
        let kind = MessageParser.InputKind(rawValue: input)!
        var out = OutputBuffer()
        var failures = 0
        for (n, path) in files.enumerated() {
            do {
                let message = try parser.parseFile(at: path, input: kind)
                if json {
                    let obj = JSONValue.object([("file", .string(path))] + message.cliJSON)
                    out.write(obj.serialized() + "\n")
                } else {
                    if n > 0 { out.write("\n") }
                    out.write("== \(path)\n\(message.summary)\n")
                }
            } catch {
                out.flush()
                failures += 1
                FileHandle.standardError.write(Data("gmail-capture parse: \(error)\n".utf8))
            }
        }
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Buffers stdout writes (thousands of files in one call).
struct OutputBuffer {
    var buffer: [UInt8] = []
    mutating func write(_ s: String) {
        buffer += Array(s.utf8)
        if buffer.count > 1 << 16 { flush() }
    }
    mutating func flush() {
        if buffer.isEmpty { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
