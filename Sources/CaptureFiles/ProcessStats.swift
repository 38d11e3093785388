import Foundation
import CaptureParsing

/// Process resource figures for benchmarks (Linux /proc; nil elsewhere).
public enum ProcessStats {
    /// Peak resident set size (VmHWM) in bytes.
    public static func peakRSSBytes() -> Int? { statusField("VmHWM:") }
    /// Current resident set size (VmRSS) in bytes.
    public static func currentRSSBytes() -> Int? { statusField("VmRSS:") }

    static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}
