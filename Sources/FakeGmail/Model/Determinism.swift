import Foundation
/// SplitMix64: the fake's single source of randomness, seeded, so a run with the same seed and the
/// same steps produces the same ids.
public struct FakeRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x5DEE_CE66_D1CE_4E5B }
    /// A generator whose state is exactly `state` (the demo firm and the benchmark mailbox keep their
    /// generated content stable across versions this way).
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The fake's virtual clock, in epoch milliseconds. It only moves when told to (tests, the control
/// plane, scripted latency) and never backwards.
public struct VirtualClock: Sendable {
    public private(set) var nowMillis: Int64
    public init(startMillis: Int64) { nowMillis = startMillis }
    public mutating func advance(millis: Int64) { if millis > 0 { nowMillis += millis } }
    /// Moves the clock forward to at least `millis` (new mail is never older than old mail).
    public mutating func atLeast(_ millis: Int64) { if millis > nowMillis { nowMillis = millis } }
}

/// Gmail-shaped ids: lowercase hex of a 64-bit integer below 2^63, increasing with delivery time
/// (like Gmail's), with seeded low bits.
struct IDAllocator: Sendable {
    var random: FakeRandom
    private var last: UInt64 = 0

    init(seed: UInt64) { random = FakeRandom(seed: seed) }

    mutating func messageID(atMillis ms: Int64) -> UInt64 {
        var id = (UInt64(max(ms, 0)) << 20) | (random.next() & 0xFFFFF)
        id &= 0x7FFF_FFFF_FFFF_FFFF
        if id <= last { id = last + 1 + (random.next() & 0xFF) }
        last = id
        return id
    }

    mutating func token(_ bytes: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = [UInt8]()
        for _ in 0..<bytes { out.append(alphabet[Int(random.next() % 64)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension UInt64 {
    var gmailHex: String { String(self, radix: 16) }
}

/// Parses a Gmail id: hex, case-insensitive, at most 16 digits, below 2^63; nil means 400 Invalid id value.
func parseGmailID(_ s: String) -> UInt64? {
    guard !s.isEmpty, s.count <= 16, let v = UInt64(s.lowercased(), radix: 16), v < (1 << 63) else { return nil }
    return v
}
