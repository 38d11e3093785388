import Foundation

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

/// A small seeded generator (SplitMix64) for deterministic property tests.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
