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
        "\u{1C}", "\u{1F}", "\u{7F}", "#\u{FE0F}\u{20E3}", "\u{1100}\u{1161}", "\u{FFFD}", "\u{D7}",
    ]

    @Test func agreesWithTheCharacterSplitOnRandomMixtures() {
        var rng = SplitMix(seed: 2026)
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 12) { s += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }
            #expect(MessageIdentity.collapsingWhitespace(s) == Self.reference(s), "\(Array(s.unicodeScalars))")
        }
    }

    /// Every ASCII byte alone and next to a space, a combining mark and a Prepend character.
    @Test func agreesOnEveryASCIIByteInContext() {
        for b in UInt8(0)..<0x80 {
            let c = String(UnicodeScalar(b))
            for s in [c, " " + c + " ", c + "\u{301}", "\u{600}" + c, "x" + c + "y", c + c + "\r\n" + c] {
                #expect(MessageIdentity.collapsingWhitespace(s) == Self.reference(s), "\(Array(s.unicodeScalars))")
            }
        }
    }

    /// Long text (the bodies fingerprints are taken over): ASCII paragraphs with CR LF, tabs and runs of
    /// spaces, sprinkled with non-ASCII words, as one string.
    @Test func agreesOnLongMixedText() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<50 {
            var s = ""
            for _ in 0..<400 {
                s += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))]
                s += ["word", "Hello,", "  ", "\r\n\r\n", "\t", "x"][Int(rng.next() % 6)]
            }
            #expect(MessageIdentity.collapsingWhitespace(s) == Self.reference(s))
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
