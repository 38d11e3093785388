/// Character references: recognising well-formed ones (to pass them through in output) and decoding them
/// (to judge URLs and CSS as a browser would see them).
enum HTMLEntities {
    /// The length of a well-formed character reference starting at the `&` at `i`: `&name;` (a letter then up to
    /// 31 letters or digits), `&#123;` or `&#x1F;` (1 to 8 digits). Nil if there is none.
    static func wellFormedReferenceLength(in bytes: [UInt8], at i: Int, end: Int) -> Int? {
        var j = i + 1
        guard j < end else { return nil }
        if bytes[j] == .hash {
            j += 1
            guard j < end else { return nil }
            let hex = bytes[j] | 0x20 == UInt8(ascii: "x")
            if hex { j += 1 }
            let start = j
            while j < end, j - start <= 8, hex ? bytes[j].isASCIIHexDigit : bytes[j].isASCIIDigit { j += 1 }
            guard j > start, j - start <= 8, j < end, bytes[j] == .semicolon else { return nil }
            return j + 1 - i
        }
        guard bytes[j].isASCIILetter else { return nil }
        let start = j
        while j < end, j - start < 32, bytes[j].isASCIIAlphanumeric { j += 1 }
        guard j < end, bytes[j] == .semicolon else { return nil }
        return j + 1 - i
    }

    /// Decodes character references in an attribute value as a browser would for the references it knows:
    /// numeric ones (with or without `;`), the named ones in `named` (with `;`), and `&amp` `&lt` `&gt` `&quot`
    /// without `;` when not followed by a letter, digit or `=`. Unknown references are left as they are.
    static func decode(_ bytes: [UInt8], _ range: Range<Int>) -> [UInt8] {
        guard bytes[range].contains(.ampersand) else { return Array(bytes[range]) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = bytes[i]
            guard c == .ampersand, i + 1 < end else {
                out.append(c)
                i += 1
                continue
            }
            if bytes[i + 1] == .hash {
                var j = i + 2
                let hex = j < end && bytes[j] | 0x20 == UInt8(ascii: "x")
                if hex { j += 1 }
                let start = j
                var value: UInt32 = 0
                while j < end, hex ? bytes[j].isASCIIHexDigit : bytes[j].isASCIIDigit {
                    value = min(value &* (hex ? 16 : 10) &+ bytes[j].hexValue, 0x110000)
                    j += 1
                }
                guard j > start else {
                    out.append(c)
                    i += 1
                    continue
                }
                if j < end, bytes[j] == .semicolon { j += 1 }
                appendScalar(value, to: &out)
                i = j
                continue
            }
            var j = i + 1
            while j < end, j - i <= 32, bytes[j].isASCIIAlphanumeric { j += 1 }
            let name = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
            if j < end, bytes[j] == .semicolon, let scalar = named[name] {
                appendScalar(scalar, to: &out)
                i = j + 1
                continue
            }
            if let scalar = legacy[name], j == end || !(bytes[j].isASCIIAlphanumeric || bytes[j] == .equals) {
                appendScalar(scalar, to: &out)
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// Appends a code point as UTF-8; NUL, surrogates and values past U+10FFFF become U+FFFD.
    static func appendScalar(_ value: UInt32, to out: inout [UInt8]) {
        let scalar = value == 0 ? nil : Unicode.Scalar(value)
        out.append(contentsOf: UTF8.encode(scalar ?? "\u{FFFD}")!)
    }

    private static let legacy: [String: UInt32] = ["amp": 38, "lt": 60, "gt": 62, "quot": 34, "AMP": 38, "LT": 60, "GT": 62, "QUOT": 34]

    /// A working subset of the HTML named references: ASCII punctuation (so schemes and CSS cannot hide behind
    /// them), Latin-1 and common typography. An unknown name is left undecoded, which is safe: the sanitiser
    /// re-escapes what it decoded, so the browser sees exactly the text the sanitiser judged.
    private static let named: [String: UInt32] = {
        var table: [String: UInt32] = [
            "amp": 38, "AMP": 38, "lt": 60, "LT": 60, "gt": 62, "GT": 62, "quot": 34, "QUOT": 34, "apos": 39,
            "Tab": 9, "NewLine": 10, "excl": 33, "num": 35, "dollar": 36, "percnt": 37, "lpar": 40, "rpar": 41,
            "ast": 42, "midast": 42, "plus": 43, "comma": 44, "period": 46, "sol": 47, "colon": 58, "semi": 59,
            "equals": 61, "quest": 63, "commat": 64, "lsqb": 91, "lbrack": 91, "bsol": 92, "rsqb": 93, "rbrack": 93,
            "Hat": 94, "lowbar": 95, "UnderBar": 95, "grave": 96, "DiacriticalGrave": 96, "lcub": 123, "lbrace": 123,
            "verbar": 124, "vert": 124, "VerticalLine": 124, "rcub": 125, "rbrace": 125, "hyphen": 8208, "dash": 8208,
            "ensp": 8194, "emsp": 8195, "thinsp": 8201, "zwnj": 8204, "zwj": 8205, "lrm": 8206, "rlm": 8207,
            "ndash": 8211, "mdash": 8212, "lsquo": 8216, "rsquo": 8217, "sbquo": 8218, "ldquo": 8220, "rdquo": 8221,
            "bdquo": 8222, "dagger": 8224, "Dagger": 8225, "bull": 8226, "hellip": 8230, "permil": 8240, "prime": 8242,
            "Prime": 8243, "lsaquo": 8249, "rsaquo": 8250, "euro": 8364, "trade": 8482, "larr": 8592, "uarr": 8593,
            "rarr": 8594, "darr": 8595, "OElig": 338, "oelig": 339, "Scaron": 352, "scaron": 353, "Yuml": 376,
            "fnof": 402, "circ": 710, "tilde": 732, "starf": 9733, "star": 9734, "hearts": 9829, "check": 10003,
            "COPY": 169, "REG": 174,
        ]
        let latin1 = [
            "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not",
            "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1",
            "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml",
            "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH",
            "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc",
            "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig",
            "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
            "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml",
            "yacute", "thorn", "yuml",
        ]
        for (offset, name) in latin1.enumerated() { table[name] = 160 + UInt32(offset) }
        return table
    }()
}
