import Crypto
package import Foundation

// Small helpers every GmailCapture module (the library, the bridge, the CLI, the benchmarks) shares.
// They live here because CaptureParsing is the lowest GmailCapture module; FakeGmail, which must share
// nothing with the client but MIMEKit, keeps its own (FakeRandom).

extension Duration {
    /// The duration in seconds, as a Double.
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// A duration from seconds (negative counts as zero), rounded up to the millisecond.
    package static func fromSeconds(_ s: Double) -> Duration { .milliseconds(Int64((max(0, s) * 1000).rounded(.up))) }
}

/// Lowercase hex of a SHA-256 digest. By table (`hex`): `String(format: "%02x")` per byte cost 32
/// Foundation formatting calls per hash, twice per stored message (canonical key, fingerprint).
package func sha256Hex(_ bytes: some DataProtocol) -> String {
    hex(SHA256.hash(data: bytes))
}

/// SplitMix64: GmailCapture's seeded generator (retry jitter, scheduler jitter, test data), so runs
/// with the same seed make the same choices.
package struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// An independent generator seeded from this one.
    package mutating func fork() -> SplitMix { SplitMix(seed: next()) }
}
