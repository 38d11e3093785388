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

    /// Splits `parse`'s arguments into what ArgumentParser should see (every option, and the first
    /// file) and the other files, in order: a file is an argument that is not an option (`-…`) or
    /// `--input`'s value, and everything after `--`. Anything unexpected stays with ArgumentParser, which
    /// reports it.
    static func splitFiles(_ arguments: [String]) -> (rest: [String], setAside: [String]) {
        var rest: [String] = []
        var setAside: [String] = []
        var sawFile = false
        var afterTerminator = false
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let isFile = afterTerminator || !a.hasPrefix("-") || a == "-"
            if isFile {
                if sawFile { setAside.append(a) } else { rest.append(a) }
                sawFile = true
            } else {
                if a == "--" {
                    afterTerminator = true
                    // The first file after `--` must stay behind it for ArgumentParser.
                    if !sawFile, i + 1 < arguments.count {
                        rest += [a, arguments[i + 1]]
                        sawFile = true
                        i += 2
                        continue
                    }
                }
                rest.append(a)
                if a == "--input", i + 1 < arguments.count {
                    rest.append(arguments[i + 1])
                    i += 1
                }
            }
            i += 1
        }
        return (rest, setAside)
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
                    JSONValue.object([("file", .string(path))] + message.cliJSON).write(into: &out.buffer)
                    out.buffer.append(10)
                    out.flushIfFull()
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
        buffer.append(contentsOf: s.utf8)
        flushIfFull()
    }
    mutating func flushIfFull() { if buffer.count > 1 << 16 { flush() } }
    mutating func flush() {
        if buffer.isEmpty { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
