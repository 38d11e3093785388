/// Sanitises CSS from `style` attributes and `<style>` elements.
///
/// The approach: first decode CSS escapes, strip comments and turn every whitespace character into a space, so
/// the sanitiser judges the plain text a browser would act on (`\75 rl(`, `u\rl(` and `u/**/rl(` are all
/// `url(`). Then parse that text into rules and declarations, keep what is allowlisted, rewrite `url()`s, and
/// re-serialise from the parsed pieces. Output never contains a backslash, a comment, `<`, braces inside a
/// declaration or an unbalanced string or bracket, so the browser's reading of the output is exactly the
/// sanitiser's reading; anything suspicious drops the whole declaration or rule.
struct CSSSanitizer {
    let options: HTMLSanitizer.Options
    private(set) var blockedRemoteImages = 0

    init(options: HTMLSanitizer.Options) {
        self.options = options
    }

    /// A `style` attribute's value (already entity-decoded) -> `name: value; name: value`, possibly empty.
    mutating func sanitizeDeclarations(_ css: [UInt8]) -> [UInt8] {
        let text = Self.decode(css[...])
        return declarationList(text, 0..<text.count)
    }

    /// A `<style>` element's content -> rules separated by newlines, possibly empty. Never contains `<`.
    mutating func sanitizeStylesheet(_ css: ArraySlice<UInt8>) -> [UInt8] {
        let text = Self.decode(css)
        var out: [UInt8] = []
        appendRules(text, 0..<text.count, depth: 0, keyframes: false, into: &out)
        return out.contains(.lt) ? [] : out
    }

    // MARK: - Decoding

    /// Decodes escapes, removes comments and maps tab, LF, CR and FF to spaces.
    static func decode(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = input.startIndex
        let end = input.endIndex
        while i < end {
            let c = input[i]
            if c == .slash, i + 1 < end, input[i + 1] == .asterisk {
                var k = i + 2
                while k + 1 < end, !(input[k] == .asterisk && input[k + 1] == .slash) { k += 1 }
                i = k + 1 < end ? k + 2 : end
                continue
            }
            if c == .backslash {
                i += 1
                guard i < end else { break }
                let d = input[i]
                if d.isASCIIHexDigit {
                    var value: UInt32 = 0
                    var digits = 0
                    while i < end, digits < 6, input[i].isASCIIHexDigit {
                        value = value << 4 | input[i].hexValue
                        digits += 1
                        i += 1
                    }
                    if i < end, input[i].isHTMLWhitespace {
                        i += input[i] == .carriageReturn && i + 1 < end && input[i + 1] == .lineFeed ? 2 : 1
                    }
                    appendDecodedScalar(value, to: &out)
                } else if d == .lineFeed || d == .carriageReturn || d == .formFeed {
                    i += d == .carriageReturn && i + 1 < end && input[i + 1] == .lineFeed ? 2 : 1
                } else {
                    let length = d < 0x80 ? 1 : d < 0xE0 ? 2 : d < 0xF0 ? 3 : 4
                    let next = min(i + length, end)
                    if length == 1 {
                        appendDecodedScalar(UInt32(d), to: &out)
                    } else {
                        out.append(contentsOf: input[i..<next])
                    }
                    i = next
                }
                continue
            }
            out.append(c.isHTMLWhitespace ? .space : c)
            i += 1
        }
        return out
    }

    private static func appendDecodedScalar(_ value: UInt32, to out: inout [UInt8]) {
        if value < 0x80, value > 0 {
            let b = UInt8(value)
            out.append(b.isHTMLWhitespace ? .space : b)
        } else {
            HTMLEntities.appendScalar(value, to: &out)
        }
    }

    // MARK: - Structure

    /// Skips one component value starting at `i`: a string, a bracketed block (with nested blocks and strings;
    /// inside a block only its own closing bracket ends it, as in CSS), or a single byte. `closed` is false when
    /// a string or block runs to `end`.
    static func skipComponent(_ b: [UInt8], _ i: Int, _ end: Int) -> (end: Int, closed: Bool) {
        let c = b[i]
        if c == .doubleQuote || c == .singleQuote {
            guard let close = b[(i + 1)..<end].firstIndex(of: c) else { return (end, false) }
            return (close + 1, true)
        }
        guard let closer = Self.closer(for: c) else { return (i + 1, true) }
        var expected: [UInt8] = [closer]
        var j = i + 1
        while j < end {
            let d = b[j]
            if d == .doubleQuote || d == .singleQuote {
                guard let close = b[(j + 1)..<end].firstIndex(of: d) else { return (end, false) }
                j = close + 1
                continue
            }
            if let nested = Self.closer(for: d) {
                expected.append(nested)
            } else if d == expected.last {
                expected.removeLast()
                if expected.isEmpty { return (j + 1, true) }
            }
            j += 1
        }
        return (end, false)
    }

    private static func closer(for c: UInt8) -> UInt8? {
        switch c {
        case .openParen: return .closeParen
        case .openBracket: return .closeBracket
        case .openBrace: return .closeBrace
        default: return nil
        }
    }

    private static let maximumNesting = 8

    /// Appends the allowlisted rules in `range`, separated by newlines. `keyframes` means the range is the body
    /// of `@keyframes` (keyframe selectors, no at-rules).
    private mutating func appendRules(_ b: [UInt8], _ range: Range<Int>, depth: Int, keyframes: Bool, into out: inout [UInt8]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            if b[i] == .space {
                i += 1
                continue
            }
            if Self.hasPrefix(b, i, end, "<!--") {
                i += 4
                continue
            }
            if Self.hasPrefix(b, i, end, "-->") {
                i += 3
                continue
            }
            let ruleStart = i
            var j = b[i] == .at ? i + 1 : i
            var atName = ""
            if b[i] == .at {
                while j < end, Self.isIdentByte(b[j]) { j += 1 }
                atName = lowercasedString(b[(i + 1)..<j])
            }
            let preludeStart = j
            while j < end, b[j] != .openBrace, !(b[ruleStart] == .at && b[j] == .semicolon) {
                j = Self.skipComponent(b, j, end).end
            }
            guard j < end else { return }  // a prelude without a block: dropped, and nothing follows it
            if b[j] == .semicolon {  // a statement at-rule (@import, @charset, @namespace...): dropped
                i = j + 1
                continue
            }
            let block = Self.skipComponent(b, j, end)
            let body = (j + 1)..<(block.closed ? block.end - 1 : end)
            i = block.end
            var rule: [UInt8] = []
            if b[ruleStart] != .at {
                guard let selector = Self.prelude(b, ruleStart..<j, allowEmpty: false) else { continue }
                let declarations = declarationList(b, body)
                guard !declarations.isEmpty else { continue }
                rule = selector + [.openBrace] + declarations + [.closeBrace]
            } else if keyframes || depth >= Self.maximumNesting {
                continue
            } else {
                guard let prelude = Self.prelude(b, preludeStart..<j, allowEmpty: true) else { continue }
                switch atName {
                case "media", "supports", "container":
                    guard !prelude.isEmpty else { continue }
                    var inner: [UInt8] = []
                    appendRules(b, body, depth: depth + 1, keyframes: false, into: &inner)
                    guard !inner.isEmpty else { continue }
                    rule = Array("@\(atName) ".utf8) + prelude + [.openBrace] + inner + [.closeBrace]
                case "font-face", "page":
                    let declarations = declarationList(b, body)
                    guard !declarations.isEmpty else { continue }
                    rule =
                        Array("@\(atName)".utf8) + (prelude.isEmpty ? [] : [.space] + prelude) + [.openBrace] + declarations + [.closeBrace]
                case "keyframes", "-webkit-keyframes", "-moz-keyframes", "-o-keyframes":
                    guard !prelude.isEmpty, prelude.allSatisfy(Self.isIdentByte) else { continue }
                    var inner: [UInt8] = []
                    appendRules(b, body, depth: depth + 1, keyframes: true, into: &inner)
                    guard !inner.isEmpty else { continue }
                    rule = Array("@\(atName) ".utf8) + prelude + [.openBrace] + inner + [.closeBrace]
                default:
                    continue
                }
            }
            if !out.isEmpty { out.append(.lineFeed) }
            out.append(contentsOf: rule)
        }
    }

    /// A selector or at-rule prelude with whitespace collapsed, or nil if it is unbalanced or holds anything
    /// that has no business there.
    private static func prelude(_ b: [UInt8], _ range: Range<Int>, allowEmpty: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        var expected: [UInt8] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let c = b[i]
            if c == .doubleQuote || c == .singleQuote {
                guard let close = b[(i + 1)..<range.upperBound].firstIndex(of: c) else { return nil }
                out.append(contentsOf: b[i...close])
                i = close + 1
                continue
            }
            if let closer = closer(for: c) {
                expected.append(closer)
            } else if c == .closeParen || c == .closeBracket || c == .closeBrace {
                guard expected.last == c else { return nil }
                expected.removeLast()
            }
            if c != .space || (out.last != .space && !out.isEmpty) { out.append(c) }
            i += 1
        }
        if out.last == .space { out.removeLast() }
        guard expected.isEmpty, allowEmpty || !out.isEmpty, !containsBanned(out, bannedInPreludes) else { return nil }
        return out
    }

    // MARK: - Declarations

    /// Declarations separated by top-level `;` -> the allowlisted ones as `name: value; name: value`.
    private mutating func declarationList(_ b: [UInt8], _ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let start = i
            var closed = true
            while i < end, b[i] != .semicolon {
                let next = Self.skipComponent(b, i, end)
                closed = closed && next.closed
                i = next.end
            }
            let segment = start..<i
            i += 1
            guard closed, let declaration = sanitizeDeclaration(b, segment) else { continue }
            if !out.isEmpty { out.append(contentsOf: [.semicolon, .space]) }
            out.append(contentsOf: declaration)
        }
        return out
    }

    private mutating func sanitizeDeclaration(_ b: [UInt8], _ segment: Range<Int>) -> [UInt8]? {
        var colon = segment.lowerBound
        while colon < segment.upperBound, b[colon] != .colon { colon = Self.skipComponent(b, colon, segment.upperBound).end }
        guard colon < segment.upperBound else { return nil }
        let name = Self.trimmed(b, segment.lowerBound..<colon)
        guard Self.isPropertyName(b[name]) else { return nil }
        let valueRange = Self.trimmed(b, (colon + 1)..<segment.upperBound)
        guard !valueRange.isEmpty, var value = rewriteValue(b, valueRange) else { return nil }
        if value.last == .space { value.removeLast() }
        let declaration = b[name].map(\.asciiLowercased) + [.colon, .space] + value
        guard !value.isEmpty, !Self.containsBanned(declaration, Self.bannedInDeclarations) else { return nil }
        return declaration
    }

    /// Copies a declaration value, collapsing whitespace, checking brackets and function names and rewriting
    /// every `url()`. Nil means drop the declaration.
    private mutating func rewriteValue(_ b: [UInt8], _ range: Range<Int>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var expected: [UInt8] = []
        var j = range.lowerBound
        let end = range.upperBound
        while j < end {
            let c = b[j]
            switch c {
            case .doubleQuote, .singleQuote:
                guard let close = b[(j + 1)..<end].firstIndex(of: c) else { return nil }
                out.append(contentsOf: b[j...close])
                j = close + 1
            case .space:
                if out.last != .space { out.append(.space) }
                j += 1
            case .openParen, .openBracket:
                expected.append(c == .openParen ? .closeParen : .closeBracket)
                out.append(c)
                j += 1
            case .closeParen, .closeBracket:
                guard expected.last == c else { return nil }
                expected.removeLast()
                out.append(c)
                j += 1
            case .openBrace, .closeBrace, .semicolon, .backslash, .lt:
                return nil
            default:
                guard Self.isIdentByte(c) else {
                    out.append(c)
                    j += 1
                    continue
                }
                let start = j
                while j < end, Self.isIdentByte(b[j]) { j += 1 }
                guard j < end, b[j] == .openParen else {
                    out.append(contentsOf: b[start..<j])
                    continue
                }
                let function = lowercasedString(b[start..<j])
                if function == "url" {
                    guard let (replacement, next) = rewriteURL(b, j + 1, end) else { return nil }
                    out.append(contentsOf: replacement)
                    j = next
                    continue
                }
                guard Self.allowedFunctions.contains(function) else { return nil }
                out.append(contentsOf: b[start...j])
                expected.append(.closeParen)
                j += 1
            }
        }
        return expected.isEmpty ? out : nil
    }

    /// Parses the argument of `url(` starting at `i` and returns its replacement (`url("...")` or `none`) and
    /// the index after the closing parenthesis; nil for a malformed url.
    private mutating func rewriteURL(_ b: [UInt8], _ i: Int, _ end: Int) -> ([UInt8], Int)? {
        var k = i
        while k < end, b[k] == .space { k += 1 }
        guard k < end else { return nil }
        let url: [UInt8]
        if b[k] == .doubleQuote || b[k] == .singleQuote {
            guard let close = b[(k + 1)..<end].firstIndex(of: b[k]) else { return nil }
            url = Array(b[(k + 1)..<close])
            k = close + 1
            while k < end, b[k] == .space { k += 1 }
            guard k < end, b[k] == .closeParen else { return nil }
        } else {
            let start = k
            while k < end, b[k] != .closeParen {
                let c = b[k]
                guard c != .doubleQuote, c != .singleQuote, c != .openParen else { return nil }
                k += 1
            }
            guard k < end else { return nil }
            let trimmed = Self.trimmed(b, start..<k)
            guard !b[trimmed].contains(.space) else { return nil }
            url = Array(b[trimmed])
        }
        switch SanitizerURLs.image(url, options: options) {
        case .use(let resolved):
            var out = Array("url(\"".utf8)
            for byte in resolved {
                if byte <= 0x20 || byte == 0x7F || Self.percentEncodedInURLs.contains(byte) {
                    out.append(UInt8(ascii: "%"))
                    out.append(Self.hexDigits[Int(byte >> 4)])
                    out.append(Self.hexDigits[Int(byte & 0xF)])
                } else {
                    out.append(byte)
                }
            }
            out.append(contentsOf: [.doubleQuote, .closeParen])
            return (out, k + 1)
        case .blockedRemote:
            blockedRemoteImages += 1
            return (Array("none".utf8), k + 1)
        case .drop:
            return (Array("none".utf8), k + 1)
        }
    }

    // MARK: - Tables and helpers

    /// Functions a value may call; any other function drops the declaration (so `image-set("http://...")`,
    /// `src()`, `attr()`, `var()`, `expression()` and IE filters cannot load or compute anything).
    private static let allowedFunctions: Set<String> = [
        "rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color", "color-mix", "calc", "min", "max",
        "clamp", "linear-gradient", "radial-gradient", "conic-gradient", "repeating-linear-gradient",
        "repeating-radial-gradient", "repeating-conic-gradient", "-webkit-linear-gradient", "-webkit-radial-gradient",
        "-moz-linear-gradient", "-moz-radial-gradient", "-o-linear-gradient", "-ms-linear-gradient", "-webkit-gradient",
        "from", "to", "color-stop", "rotate", "rotatex", "rotatey", "rotatez", "rotate3d", "scale", "scalex", "scaley",
        "scalez", "scale3d", "translate", "translatex", "translatey", "translatez", "translate3d", "skew", "skewx",
        "skewy", "matrix", "matrix3d", "perspective", "rect", "inset", "circle", "ellipse", "polygon", "local", "format",
        "counter", "counters", "cubic-bezier", "steps", "blur", "brightness", "contrast", "drop-shadow", "grayscale",
        "hue-rotate", "invert", "opacity", "saturate", "sepia", "minmax", "repeat", "fit-content", "env",
    ]

    private static let bannedInDeclarations: [[UInt8]] = [
        "expression", "javascript", "vbscript", "livescript", "behavior", "behaviour", "binding", "@import", "/*", "*/",
        "<!--", "-->", "\\", "<", "{", "}",
    ].map { Array($0.utf8) }

    private static let bannedInPreludes: [[UInt8]] =
        bannedInDeclarations + ["url(", ";", "@", "!"].map { Array($0.utf8) }

    private static let percentEncodedInURLs: Set<UInt8> = Set("\"'\\<>*{}()`".utf8)
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Letters, digits, `-`, `_` and any non-ASCII byte: what CSS identifiers and numbers are made of.
    private static func isIdentByte(_ c: UInt8) -> Bool {
        c.isASCIIAlphanumeric || c == .hyphen || c == UInt8(ascii: "_") || c >= 0x80
    }

    /// `-?[A-Za-z_][A-Za-z0-9_-]*`: plain and vendor-prefixed properties; custom properties (`--x`) are refused.
    private static func isPropertyName(_ name: ArraySlice<UInt8>) -> Bool {
        var rest = name
        if rest.first == .hyphen { rest = rest.dropFirst() }
        guard let first = rest.first, first.isASCIILetter || first == UInt8(ascii: "_"), name.count <= 64 else { return false }
        return rest.allSatisfy { $0.isASCIIAlphanumeric || $0 == .hyphen || $0 == UInt8(ascii: "_") }
    }

    private static func trimmed(_ b: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, b[lower] == .space { lower += 1 }
        while upper > lower, b[upper - 1] == .space { upper -= 1 }
        return lower..<upper
    }

    private static func hasPrefix(_ b: [UInt8], _ i: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard i + n <= end else { return false }
        return prefix.withUTF8Buffer { buffer in
            for k in 0..<n where b[i + k] != buffer[k] { return false }
            return true
        }
    }

    /// Case-insensitive (ASCII) substring test against a list of lowercase needles.
    private static func containsBanned(_ haystack: [UInt8], _ needles: [[UInt8]]) -> Bool {
        let lowered = haystack.map(\.asciiLowercased)
        for needle in needles where lowered.count >= needle.count {
            let first = needle[0]
            var i = 0
            let last = lowered.count - needle.count
            while i <= last {
                if lowered[i] == first, lowered[(i + 1)..<(i + needle.count)].elementsEqual(needle[1...]) { return true }
                i += 1
            }
        }
        return false
    }
}
