import Foundation

/// Fences email content (subjects, snippets, bodies, filenames, display names) so a client can tell it
/// from the server's own words:
///
/// ```
/// --- untrusted email content NONCE (from SENDER, DATE) ---
/// …the content, exactly as stored…
/// --- end untrusted email content NONCE ---
/// ```
///
/// One nonce per tool call, drawn from the server's random source: an email cannot know it, so it cannot
/// end its own block early. Should some content contain the nonce anyway, `collided` is set and the
/// caller renders the whole answer again with a fresh nonce.
final class Fence {
    let nonce: String
    /// Whether any fenced content contained the nonce (the answer must then be rendered with another).
    private(set) var collided = false

    init(nonce: String) {
        self.nonce = nonce
    }

    static let openPrefix = "--- untrusted email content "
    static let closePrefix = "--- end untrusted email content "

    /// The content inside a block; a trailing newline is added when missing, so the end line stands alone.
    func wrap(_ content: String, from sender: String?, date: String?) -> String {
        if content.contains(nonce) { collided = true }
        let body = content.hasSuffix("\n") ? content : content + "\n"
        return
            "\(Self.openPrefix)\(nonce) (from \(Self.label(sender, or: "unknown sender")), \(Self.label(date, or: "unknown date"))) ---\n"
            + body + "\(Self.closePrefix)\(nonce) ---"
    }

    /// `wrap` for an optional value: nil stays nil.
    func wrap(optional content: String?, from sender: String?, date: String?) -> String? {
        content.map { wrap($0, from: sender, date: date) }
    }

    /// A sender or date for the opening line: printable ASCII without spaces or parentheses, at most 120
    /// characters (addresses and ISO dates pass unchanged; anything else cannot forge the line).
    static func label(_ value: String?, or fallback: String) -> String {
        let kept = String(
            String.UnicodeScalarView(
                (value ?? "").unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != "(" && $0 != ")" }.prefix(120)))
        return kept.isEmpty ? fallback : kept
    }
}

/// Where nonces come from: 64 random bits per call (the system generator), or an injected source in tests.
public struct NonceSource: Sendable {
    let next: @Sendable () -> UInt64

    public init(_ next: @escaping @Sendable () -> UInt64) {
        self.next = next
    }

    /// The system's cryptographically secure generator.
    public static let system = NonceSource {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }

    /// 16 lowercase hex digits.
    func nonce() -> String {
        let hex = String(next(), radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }
}
