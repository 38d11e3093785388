/// One attribute of a tag: its lowercased name and the byte range of its raw (undecoded) value in the input.
struct HTMLAttribute {
    var name: String
    var value: Range<Int>
}

/// A start tag as the tokenizer read it. Attributes are in source order, duplicates included.
struct HTMLTag {
    var name: String
    var attributes: [HTMLAttribute]
    var selfClosing: Bool
}

/// What the tokenizer hands the sanitiser. Comments, doctypes, CDATA sections, processing instructions and
/// bogus comments are consumed and never reported.
enum HTMLToken {
    /// Character data, raw: entities are not decoded.
    case text(Range<Int>)
    case startTag(HTMLTag)
    case endTag(String)
    /// A raw-text element's start tag together with its content, up to (not including) its end tag, which the
    /// tokenizer reports next as an ordinary end tag. `plaintext` runs to the end of the input.
    case rawTextElement(HTMLTag, content: Range<Int>)
}

/// A forgiving, linear-time HTML tokenizer over UTF-8 bytes, following the WHATWG tokenizer states closely
/// enough that tags, attributes, comments and raw text split where a browser would split them.
///
/// The input must already be preprocessed: no NUL bytes and no carriage returns (see `HTMLSanitizer`).
struct HTMLTokenizer {
    /// Elements whose content is not markup: it runs to the matching end tag (or, for `plaintext`, to the end).
    static let rawTextElements: Set<String> = [
        "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext",
    ]

    let bytes: [UInt8]
    private var position = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func next() -> HTMLToken? {
        let count = bytes.count
        while position < count {
            guard bytes[position] == .lt, startsMarkup(at: position) else {
                return .text(scanText())
            }
            let next = bytes[position + 1]
            if next.isASCIILetter {
                guard let (tag, end) = scanTag(nameStart: position + 1) else {
                    position = count  // EOF inside a tag: the tag is dropped, as browsers do
                    return nil
                }
                position = end
                if Self.rawTextElements.contains(tag.name) {
                    let content = rawTextContent(of: tag.name, from: end)
                    position = content.upperBound
                    return .rawTextElement(tag, content: content)
                }
                return .startTag(tag)
            }
            if next == .slash {
                let afterSlash = bytes[position + 2]  // startsMarkup guarantees it exists
                if afterSlash.isASCIILetter {
                    guard let (tag, end) = scanTag(nameStart: position + 2) else {
                        position = count
                        return nil
                    }
                    position = end
                    return .endTag(tag.name)
                }
                if afterSlash == .gt {
                    position += 3  // "</>" is ignored
                    continue
                }
                skipBogusComment(from: position + 2)
                continue
            }
            if next == .bang, hasPrefix("<!--", at: position) {
                skipComment()
                continue
            }
            // "<!DOCTYPE", "<![CDATA[" (outside foreign content) and "<?...": bogus comments ending at the first '>'.
            skipBogusComment(from: position + 2)
        }
        return nil
    }

    /// Whether the `<` at `i` opens markup rather than being a literal `<` in text.
    private func startsMarkup(at i: Int) -> Bool {
        guard i + 1 < bytes.count else { return false }
        let next = bytes[i + 1]
        if next.isASCIILetter || next == .bang || next == .question { return true }
        return next == .slash && i + 2 < bytes.count
    }

    private mutating func scanText() -> Range<Int> {
        let start = position
        var i = position + (bytes[position] == .lt ? 1 : 0)
        let count = bytes.count
        while i < count {
            if bytes[i] == .lt && startsMarkup(at: i) { break }
            i += 1
        }
        position = i
        return start..<i
    }

    /// Reads a tag from its name to its closing `>`. Returns nil if the input ends first.
    private func scanTag(nameStart: Int) -> (HTMLTag, Int)? {
        let count = bytes.count
        var i = nameStart
        while i < count, !bytes[i].isHTMLWhitespace, bytes[i] != .slash, bytes[i] != .gt { i += 1 }
        let name = lowercasedString(bytes[nameStart..<i])
        var attributes: [HTMLAttribute] = []
        var selfClosing = false
        while true {
            while i < count, bytes[i].isHTMLWhitespace { i += 1 }
            guard i < count else { return nil }
            let c = bytes[i]
            if c == .gt {
                i += 1
                break
            }
            if c == .slash {
                i += 1
                if i < count, bytes[i] == .gt {
                    selfClosing = true
                    i += 1
                    break
                }
                continue
            }
            // Attribute name: the first character is taken whatever it is (even '='), as the spec does.
            let nameStart = i
            i += 1
            while i < count, !bytes[i].isHTMLWhitespace, bytes[i] != .slash, bytes[i] != .gt, bytes[i] != .equals { i += 1 }
            let attributeName = lowercasedString(bytes[nameStart..<i])
            while i < count, bytes[i].isHTMLWhitespace { i += 1 }
            guard i < count else { return nil }
            var value = i..<i
            if bytes[i] == .equals {
                i += 1
                while i < count, bytes[i].isHTMLWhitespace { i += 1 }
                guard i < count else { return nil }
                let quote = bytes[i]
                if quote == .doubleQuote || quote == .singleQuote {
                    guard let close = bytes[(i + 1)...].firstIndex(of: quote) else { return nil }
                    value = (i + 1)..<close
                    i = close + 1
                } else if quote != .gt {
                    let valueStart = i
                    while i < count, !bytes[i].isHTMLWhitespace, bytes[i] != .gt { i += 1 }
                    guard i < count else { return nil }
                    value = valueStart..<i
                }
            }
            attributes.append(HTMLAttribute(name: attributeName, value: value))
        }
        return (HTMLTag(name: name, attributes: attributes, selfClosing: selfClosing), i)
    }

    /// The content of a raw-text element that starts at `start`: up to the first `</name` followed by whitespace,
    /// `/` or `>` (case-insensitive), or to the end of the input.
    private func rawTextContent(of name: String, from start: Int) -> Range<Int> {
        let count = bytes.count
        guard name != "plaintext" else { return start..<count }
        let nameBytes = Array(name.utf8)
        var i = start
        while let lt = bytes[i..<count].firstIndex(of: .lt) {
            let nameEnd = lt + 2 + nameBytes.count
            if nameEnd < count, bytes[lt + 1] == .slash {
                var matches = true
                for (k, b) in nameBytes.enumerated() where bytes[lt + 2 + k].asciiLowercased != b {
                    matches = false
                    break
                }
                let after = bytes[nameEnd]
                if matches, after.isHTMLWhitespace || after == .slash || after == .gt {
                    return start..<lt
                }
            }
            i = lt + 1
        }
        return start..<count
    }

    /// `<!--` ... `-->` (or `--!>`); `<!-->` and `<!--->` are empty comments; an unterminated comment runs to the end.
    private mutating func skipComment() {
        let count = bytes.count
        var k = position + 4
        if k < count, bytes[k] == .gt {
            position = k + 1
            return
        }
        if k + 1 < count, bytes[k] == .hyphen, bytes[k + 1] == .gt {
            position = k + 2
            return
        }
        while k + 2 < count {
            if bytes[k] == .hyphen, bytes[k + 1] == .hyphen {
                if bytes[k + 2] == .gt {
                    position = k + 3
                    return
                }
                if bytes[k + 2] == .bang, k + 3 < count, bytes[k + 3] == .gt {
                    position = k + 4
                    return
                }
            }
            k += 1
        }
        position = count
    }

    private mutating func skipBogusComment(from start: Int) {
        if let gt = bytes[min(start, bytes.count)...].firstIndex(of: .gt) {
            position = gt + 1
        } else {
            position = bytes.count
        }
    }

    private func hasPrefix(_ prefix: StaticString, at i: Int) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        return prefix.withUTF8Buffer { buffer in
            for k in 0..<n where bytes[i + k] != buffer[k] { return false }
            return true
        }
    }
}

func lowercasedString(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.lazy.map(\.asciiLowercased), as: UTF8.self)
}

extension UInt8 {
    static let tab = UInt8(ascii: "\t")
    static let lineFeed = UInt8(ascii: "\n")
    static let formFeed: UInt8 = 0x0C
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let bang = UInt8(ascii: "!")
    static let doubleQuote = UInt8(ascii: "\"")
    static let hash = UInt8(ascii: "#")
    static let ampersand = UInt8(ascii: "&")
    static let singleQuote = UInt8(ascii: "'")
    static let openParen = UInt8(ascii: "(")
    static let closeParen = UInt8(ascii: ")")
    static let asterisk = UInt8(ascii: "*")
    static let hyphen = UInt8(ascii: "-")
    static let slash = UInt8(ascii: "/")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let lt = UInt8(ascii: "<")
    static let equals = UInt8(ascii: "=")
    static let gt = UInt8(ascii: ">")
    static let question = UInt8(ascii: "?")
    static let at = UInt8(ascii: "@")
    static let openBracket = UInt8(ascii: "[")
    static let backslash = UInt8(ascii: "\\")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    var isASCIILetter: Bool { (self | 0x20) >= 0x61 && (self | 0x20) <= 0x7A }
    var isASCIIDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isASCIIAlphanumeric: Bool { isASCIILetter || isASCIIDigit }
    var isASCIIHexDigit: Bool { isASCIIDigit || ((self | 0x20) >= 0x61 && (self | 0x20) <= 0x66) }
    /// HTML's ASCII whitespace: tab, LF, FF, CR, space.
    var isHTMLWhitespace: Bool { self == .space || self == .tab || self == .lineFeed || self == .formFeed || self == .carriageReturn }
    var asciiLowercased: UInt8 { self >= 0x41 && self <= 0x5A ? self | 0x20 : self }
    var hexValue: UInt32 {
        if isASCIIDigit { return UInt32(self - 0x30) }
        return UInt32((self | 0x20) - 0x61 + 10)
    }
}
