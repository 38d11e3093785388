public import CaptureParsing
import Foundation

/// The full-parse benchmark behind `gmail-capture bench parse` and `parse-bench`.
///
/// A full parse decodes every header, walks every part, converts text to UTF-8, and decodes and
/// hashes (SHA-256) every attachment. By default all files are read first and only parsing is timed,
/// as Scripts/bench_parse_python.py and the GMime driver do; `oneAtATime` reads, parses and drops one
/// file at a time, to measure the parser's own memory.
public struct ParseBenchmark: Sendable {
    public struct Result: Sendable {
        public var messages: Int
        public var bytes: Int
        public var seconds: Double
        public var attachments: Int
        public var problems: Int
        /// Resident set size before any file was read (the executable's own baseline).
        public var baselineRSSBytes: Int
        public var peakRSSBytes: Int
        public var oneAtATime: Bool

        public var mbPerSec: Double { Double(bytes) / 1e6 / seconds }
        public var messagesPerSec: Double { Double(messages) / seconds }

        public func json(impl: String) -> JSONValue {
            .object([
                ("impl", .string(impl)), ("messages", .int(Int64(messages))), ("bytes", .int(Int64(bytes))),
                ("seconds", .double(seconds)), ("mbPerSec", .double(mbPerSec)), ("messagesPerSec", .double(messagesPerSec)),
                ("peakRSSBytes", .int(Int64(peakRSSBytes))), ("baselineRSSBytes", .int(Int64(baselineRSSBytes))),
                ("attachments", .int(Int64(attachments))), ("problems", .int(Int64(problems))),
                ("mode", .string(oneAtATime ? "one-at-a-time" : "in-memory")),
            ])
        }

        public func text(impl: String) -> String {
            let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
            return """
                \(impl): \(messages) messages, \(bytes) bytes in \(String(format: "%.3f", seconds)) s (\(oneAtATime ? "one file at a time" : "corpus in memory"))
                  \(String(format: "%.1f", mbPerSec)) MB/s, \(String(format: "%.0f", messagesPerSec)) messages/s
                  peak RSS \(mib(peakRSSBytes)) (baseline before reading \(mib(baselineRSSBytes)), parsing added \(mib(max(0, peakRSSBytes - baselineRSSBytes))))
                """
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var parser: MessageParser

    public init(parser: MessageParser = MessageParser()) {
        self.parser = parser
    }

    public func run(directory: String, oneAtATime: Bool) throws -> Result {
        let baseline = ProcessStats.currentRSSBytes() ?? 0
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw Failure(description: "\(directory): not a readable directory")
        }
        let paths = names.filter { $0.hasSuffix(".eml") }.sorted().map { directory + "/" + $0 }
        if paths.isEmpty { throw Failure(description: "\(directory): no .eml files") }
        var bytes = 0, attachments = 0, problems = 0
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        if oneAtATime {
            let start = clock.now
            for p in paths {
                guard let data = readFileBytes(p) else { throw Failure(description: "\(p): cannot be read") }
                bytes += data.count
                let m = parser.parse(raw: data)
                attachments += m.attachments.count
                problems += m.problems.count
            }
            elapsed = clock.now - start
        } else {
            var all: [[UInt8]] = []
            all.reserveCapacity(paths.count)
            for p in paths {
                guard let data = readFileBytes(p) else { throw Failure(description: "\(p): cannot be read") }
                all.append(data)
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
        let seconds = elapsed.seconds
        return Result(
            messages: paths.count, bytes: bytes, seconds: seconds, attachments: attachments, problems: problems,
            baselineRSSBytes: baseline, peakRSSBytes: ProcessStats.peakRSSBytes() ?? 0, oneAtATime: oneAtATime)
    }
}
