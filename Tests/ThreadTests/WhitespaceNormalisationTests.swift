import CaptureParsing
@testable import GmailCapture
import Testing

/// Canonical keys and fingerprints already stored depend on how whitespace is collapsed, so the fast
/// `collapsingWhitespace` must agree exactly with `split(whereSeparator: \.isWhitespace)` on every input,
/// including the characters where grapheme clusters and scalars differ.
@Suite struct WhitespaceNormalisationTests {
    static func reference(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    /// Pieces chosen to meet at grapheme boundaries in every order: CR LF, a space before a combining
    /// mark, a Prepend character before a space, no-break and ideographic spaces, emoji with ZWJ, NEL.
    static let pieces = [
        " ", "  ", "\t", "\r", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{202F}",
        "\u{301}", "\u{200D}", "\u{FE0F}", "\u{600}", "\u{110BD}", "a", "Z", "7", "é", "e\u{301}", "日本", "👩‍💻", "🇩🇪", ".", "\u{0}",
    ]

    @Test func agreesWithTheCharacterSplitOnRandomMixtures() {
        var rng = SplitMix(seed: 2026)
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 12) { s += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }
            #expect(MessageIdentity.collapsingWhitespace(s) == Self.reference(s), "\(Array(s.unicodeScalars))")
        }
    }

    @Test func agreesOnTheEdgeCasesByName() {
        for s in ["", " ", "a b", " a\r\nb ", "a \u{301}b", "\u{600} x", "x\u{A0}y", "a\u{3000}b", "\r\n\r\n", "a\u{85}b", "👩‍💻 x"] {
            #expect(MessageIdentity.collapsingWhitespace(s) == Self.reference(s), "\(Array(s.unicodeScalars))")
        }
    }

    /// The ASCII fast path of `normalizedMessageID` agrees with the general form on random Message-ID-like
    /// strings (brackets, spaces, CR LF, several or no @, case, lengths around the 250 limit).
    @Test func messageIdFastPathAgreesWithTheGeneralForm() {
        let pieces = [
            "<", ">", "@", " ", "\t", "\r\n", "a", "B", "x.Y", "-", "_", "EXAMPLE.com", "1", "$", String(repeating: "q", count: 120),
        ]
        var rng = SplitMix(seed: 99)
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 9) { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
            #expect(MessageIdentity.asciiNormalizedMessageID(s) == MessageIdentity.unicodeNormalizedMessageID(s), "\(s.debugDescription)")
        }
        for s in ["", " ", "<>", "<", ">", "<@>", "<a@B.COM>", " <a@B> ", "a@", "@b", "a b@c", String(repeating: "a", count: 248) + "@b"] {
            #expect(MessageIdentity.asciiNormalizedMessageID(s) == MessageIdentity.unicodeNormalizedMessageID(s), "\(s.debugDescription)")
        }
    }
}
