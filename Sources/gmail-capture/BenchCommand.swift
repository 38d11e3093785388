import ArgumentParser
import Foundation
import GmailCapture

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (run in release mode: swift build -c release).",
        subcommands: [BenchParseCommand.self]
    )
}

struct BenchParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Full parse of every .eml file in a directory: MB/s, messages/s, peak memory.",
        discussion: """
        A full parse decodes every header, walks every part, converts text to UTF-8 and decodes and \
        hashes every attachment. By default all files are read into memory first and only parsing is \
        timed (as Scripts/bench_parse_python.py and the GMime driver do); --one-at-a-time reads, parses \
        and drops one file at a time to measure the parser's own peak memory.
        """
    )

    @Argument(help: "Directory of .eml files.") var directory: String
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Read and parse one file at a time (memory measurement).") var oneAtATime = false

    func run() async throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw ValidationError("\(directory): not a readable directory")
        }
        let paths = names.filter { $0.hasSuffix(".eml") }.sorted().map { directory + "/" + $0 }
        if paths.isEmpty { throw ValidationError("\(directory): no .eml files") }
        let parser = MessageParser()
        var bytes = 0
        var attachments = 0
        var problems = 0
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        if oneAtATime {
            let start = clock.now
            for p in paths {
                guard let data = readFileBytes(p) else { throw ValidationError("\(p): cannot be read") }
                bytes += data.count
                let m = parser.parse(raw: data)
                attachments += m.attachments.count
                problems += m.problems.count
            }
            elapsed = clock.now - start
        } else {
            let all = try paths.map { p in
                guard let d = readFileBytes(p) else { throw ValidationError("\(p): cannot be read") }
                return d
            }
            bytes = all.reduce(0) { $0 + $1.count }
            let start = clock.now
            for data in all {
                let m = parser.parse(raw: data)
                attachments += m.attachments.count
                problems += m.problems.count
            }
            elapsed = clock.now - start
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let mbps = Double(bytes) / 1e6 / seconds
        let mps = Double(paths.count) / seconds
        let rss = ProcessStats.peakRSSBytes() ?? 0
        if json {
            let obj = JSONValue.object([
                ("impl", .string("swift-gmailcapture")), ("messages", .int(Int64(paths.count))), ("bytes", .int(Int64(bytes))),
                ("seconds", .double(seconds)), ("mbPerSec", .double(mbps)), ("messagesPerSec", .double(mps)),
                ("peakRSSBytes", .int(Int64(rss))), ("attachments", .int(Int64(attachments))), ("problems", .int(Int64(problems))),
                ("mode", .string(oneAtATime ? "one-at-a-time" : "in-memory")),
            ])
            print(obj.serialized())
        } else {
            print("swift-gmailcapture: \(paths.count) messages, \(bytes) bytes in \(String(format: "%.3f", seconds)) s")
            print(String(format: "  %.1f MB/s, %.0f messages/s, peak RSS %.1f MiB (%@)", mbps, mps, Double(rss) / 1048576,
                         oneAtATime ? "one at a time" : "corpus in memory"))
        }
    }
}
