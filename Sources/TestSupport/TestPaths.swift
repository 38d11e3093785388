package import CaptureParsing
public import Foundation

/// Locations of the repository's fixtures and of the read-only `../shared` folder, found from this
/// file's path (as argument-parser finds its snapshots), so tests work from any working directory.
public enum TestPaths {
    /// The package root.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/` at the package root.
    public static var fixtures: URL { packageRoot.appendingPathComponent("Fixtures") }

    /// `../shared` beside the checkout (present on developer machines and in CI), or nil.
    public static var shared: URL? {
        let u = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    /// Every file under `dir` whose name ends with `suffix`, sorted by path.
    public static func files(under dir: URL, suffix: String) -> [URL] {
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return [] }
        return e.compactMap { $0 as? URL }.filter { $0.lastPathComponent.hasSuffix(suffix) }.sorted { $0.path < $1.path }
    }
}

/// Golden-file comparison: a mismatch writes `NAME.actual.json` beside the golden; goldens are
/// (re)written only when the environment variable `RECORD_GOLDENS=1` is set.
public enum Golden {
    public enum Outcome: Equatable {
        case matched
        case recorded
        case mismatched(actualPath: String)
        case missing(actualPath: String)
    }

    public static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" }

    /// Compares `actual` with the golden file at `url`.
    public static func check(_ actual: String, against url: URL) -> Outcome {
        let actualURL = url.deletingPathExtension().appendingPathExtension("actual.json")
        if recording {
            try? Data(actual.utf8).write(to: url)
            try? FileManager.default.removeItem(at: actualURL)
            return .recorded
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            try? Data(actual.utf8).write(to: actualURL)
            return .missing(actualPath: actualURL.path)
        }
        if expected == actual {
            try? FileManager.default.removeItem(at: actualURL)
            return .matched
        }
        try? Data(actual.utf8).write(to: actualURL)
        return .mismatched(actualPath: actualURL.path)
    }
}

/// The seeded generator (SplitMix64) for deterministic property tests: GmailCapture's own.
package typealias SeededGenerator = SplitMix

/// Corpus messages as files: `NAME.eml` as it is, or `NAME.eml.template` for a message too large to
/// keep in git, whose one marker line
/// `@@base64-repeat lines=76 count=N block=<base64 of the block>@@` stands for the base64 (LF-separated
/// lines of that width, final LF) of the block repeated N times. The expansion uses Foundation's
/// encoder, not the code under test.
public enum CorpusFile {
    public static let suffixes = [".eml", ".eml.template"]

    /// Every corpus file under `dir`, sorted.
    public static func all(under dir: URL) -> [URL] {
        suffixes.flatMap { TestPaths.files(under: dir, suffix: $0) }.sorted { $0.path < $1.path }
    }

    /// `.../NAME` for `.../NAME.eml` or `.../NAME.eml.template` (goldens sit beside it as NAME.json).
    public static func base(_ url: URL) -> URL {
        var u = url
        if u.pathExtension == "template" { u.deletePathExtension() }
        return u.deletingPathExtension()
    }

    public enum Failure: Error, CustomStringConvertible {
        case badMarker(String)
        public var description: String {
            switch self {
            case .badMarker(let f): return "\(f): malformed @@base64-repeat@@ marker"
            }
        }
    }

    public static func bytes(_ url: URL) throws -> [UInt8] {
        let data = try Data(contentsOf: url)
        guard url.pathExtension == "template" else { return [UInt8](data) }
        var out = [UInt8]()
        for line in data.split(separator: 10, omittingEmptySubsequences: false).dropLast(data.last == 10 ? 1 : 0) {
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("@@base64-repeat "), text.hasSuffix("@@") else {
                out += line
                out.append(10)
                continue
            }
            var fields: [String: String] = [:]
            for f in text.dropFirst(2).dropLast(2).split(separator: " ").dropFirst() {
                let kv = f.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
            }
            guard fields["lines"] == "76", let count = fields["count"].flatMap(Int.init), count > 0,
                let block = fields["block"].flatMap({ Data(base64Encoded: $0) })
            else {
                throw Failure.badMarker(url.lastPathComponent)
            }
            var whole = Data(capacity: block.count * count)
            for _ in 0..<count { whole.append(block) }
            out += Array(whole.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]).utf8)
            out.append(10)
        }
        if data.last != 10, !out.isEmpty { out.removeLast() }
        return out
    }
}

/// The package's executables, as a user runs them: they are built beside the test bundle.
public enum BuiltProduct {
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// stdout then stderr.
        public var output: String { stdout + stderr }
    }

    /// Runs `executable` to completion from the package root (or `currentDirectory`). stderr goes to a
    /// temporary file, so a chatty child can never block on a full pipe while stdout is being read.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: URL? = nil
    ) throws -> Outcome {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        p.currentDirectoryURL = currentDirectory ?? TestPaths.packageRoot
        if let environment { p.environment = environment }
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try errHandle.close()
        let e = (try? Data(contentsOf: errURL)) ?? Data()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Runs the named product.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        try run(url(name), arguments, environment: environment)
    }
}
