import Foundation
/// HTML to readable plain text, for mail that has only an HTML body.
///
/// A small tokenizer, not a regex: block elements become line breaks (paragraphs and headings a blank
/// line), list items get `- ` or `N. `, table cells are separated by spaces, links keep their text
/// followed by ` (url)` when the url differs from the text, entities are decoded, `script`, `style`,
/// `head`, `template` and comments (including Outlook's conditional comments) are dropped, runs of
/// whitespace collapse to one space, `pre` keeps its whitespace, and at most one blank line separates
/// blocks.
public enum HTMLText {
    /// - Parameter linkURLs: append ` (url)` after link text that differs from its target.
    ///   - imageAlt: render an image's `alt` text in its place.
    public static func text(fromHTML html: String, linkURLs: Bool = true, imageAlt: Bool = false) -> String {
        var r = Renderer(Array(html.utf8))
        r.linkURLs = linkURLs
        r.imageAlt = imageAlt
        r.run()
        return r.finish()
    }

    static let paragraphTags: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
        "blockquote", "pre", "hr", "figure", "address", "fieldset", "form",
    ]
    static let lineTags: Set<String> = [
        "div", "tr", "li", "dt", "dd", "section", "article", "header", "footer", "nav",
        "aside", "main", "figcaption", "caption", "center", "tbody", "thead", "tfoot", "body", "html", "title", "summary", "details",
        "legend", "option",
    ]
    static let skipTags: Set<String> = ["script", "style", "head", "template", "svg", "object", "iframe", "xml", "title"]
    static let voidTags: Set<String> = [
        "br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr", "param", "track",
    ]

    struct Renderer {
        let b: [UInt8]
        var i = 0
        var out: [UInt8] = []
        var pendingSpace = false
        var pendingNewlines = 0
        var pre = 0
        var lists: [(ordered: Bool, counter: Int)] = []
        var links: [(href: String, start: Int)] = []
        var cellInRow = 0
        var linkURLs = true
        var imageAlt = false

        init(_ b: [UInt8]) { self.b = b }

        var atLineStart: Bool { out.isEmpty || out.last == 10 }

        mutating func flushBreaks() {
            if pendingNewlines > 0 {
                if !out.isEmpty {
                    // Trim trailing spaces of the current line.
                    while out.last == 32 { out.removeLast() }
                    var existing = 0
                    var k = out.count - 1
                    while k >= 0, out[k] == 10 { existing += 1; k -= 1 }
                    let want = min(pendingNewlines, 2)
                    if want > existing { out += [UInt8](repeating: 10, count: want - existing) }
                }
                pendingNewlines = 0
                pendingSpace = false
            }
        }

        mutating func emitByte(_ c: UInt8) {
            if pre > 0 {
                flushBreaks()
                if c == 13 { return }
                out.append(c)
                return
            }
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 12 {
                if !atLineStart || pendingNewlines > 0 { pendingSpace = true }
                return
            }
            flushBreaks()
            if pendingSpace && !atLineStart { out.append(32) }
            pendingSpace = false
            out.append(c)
        }

        mutating func emitString(_ s: String) { for c in s.utf8 { emitByte(c) } }

        mutating func lineBreak(_ n: Int) {
            if out.isEmpty { pendingNewlines = 0; pendingSpace = false; return }
            pendingNewlines = max(pendingNewlines, n)
            pendingSpace = false
        }

        mutating func run() {
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "<") {
                    if handleTag() { continue }
                    emitByte(c); i += 1
                } else if c == UInt8(ascii: "&") {
                    let (text, next) = decodeEntity(at: i)
                    for ch in text.utf8 { emitByte(ch) }
                    i = next
                } else {
                    emitByte(c); i += 1
                }
            }
        }

        mutating func finish() -> String {
            var s = out
            // Trim trailing spaces per line and surrounding blank lines.
            var lines = s.split(separator: 10, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
                var l = line
                while l.last == 32 || l.last == 9 { l.removeLast() }
                return l
            }
            while let f = lines.first, f.isEmpty { lines.removeFirst() }
            while let l = lines.last, l.isEmpty { lines.removeLast() }
            s = []
            for (n, l) in lines.enumerated() {
                if n > 0 { s.append(10) }
                s += l
            }
            return String(decoding: s, as: UTF8.self).replacingNBSP()
        }

        /// Handles a tag at `i` ('<'). Returns false when '<' is literal text.
        mutating func handleTag() -> Bool {
            guard i + 1 < b.count else { return false }
            let n = b[i + 1]
            if n == UInt8(ascii: "!") {
                if i + 3 < b.count, b[i + 2] == UInt8(ascii: "-"), b[i + 3] == UInt8(ascii: "-") {
                    i = find("-->", from: i + 4).map { $0 + 3 } ?? b.count
                } else {
                    i = find(">", from: i + 2).map { $0 + 1 } ?? b.count
                }
                return true
            }
            if n == UInt8(ascii: "?") { i = find(">", from: i + 2).map { $0 + 1 } ?? b.count; return true }
            var closing = false
            var j = i + 1
            if n == UInt8(ascii: "/") { closing = true; j += 1 }
            guard j < b.count, isAlpha(b[j]) else { return false }
            let nameStart = j
            while j < b.count, isAlnum(b[j]) || b[j] == UInt8(ascii: "-") || b[j] == UInt8(ascii: ":") { j += 1 }
            let name = String(decoding: b[nameStart..<j], as: UTF8.self).lowercased()
            // Attributes until '>' (quotes respected).
            var attrs: [String: String] = [:]
            while j < b.count, b[j] != UInt8(ascii: ">") {
                if b[j] == 32 || b[j] == 9 || b[j] == 10 || b[j] == 13 || b[j] == UInt8(ascii: "/") { j += 1; continue }
                let aStart = j
                while j < b.count, b[j] != UInt8(ascii: "="), b[j] != UInt8(ascii: ">"), b[j] != 32, b[j] != 9, b[j] != 10, b[j] != 13 {
                    j += 1
                }
                let aName = String(decoding: b[aStart..<j], as: UTF8.self).lowercased()
                while j < b.count, b[j] == 32 || b[j] == 9 || b[j] == 10 || b[j] == 13 { j += 1 }
                var value = ""
                if j < b.count, b[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < b.count, b[j] == 32 || b[j] == 9 || b[j] == 10 || b[j] == 13 { j += 1 }
                    if j < b.count, b[j] == UInt8(ascii: "\"") || b[j] == UInt8(ascii: "'") {
                        let q = b[j]
                        let vStart = j + 1
                        j = vStart
                        while j < b.count, b[j] != q { j += 1 }
                        value = String(decoding: b[vStart..<min(j, b.count)], as: UTF8.self)
                        if j < b.count { j += 1 }
                    } else {
                        let vStart = j
                        while j < b.count, b[j] != 32, b[j] != 9, b[j] != 10, b[j] != 13, b[j] != UInt8(ascii: ">") { j += 1 }
                        value = String(decoding: b[vStart..<j], as: UTF8.self)
                    }
                }
                if !aName.isEmpty, attrs[aName] == nil { attrs[aName] = value }
            }
            i = min(j + 1, b.count)
            if closing { closeTag(name) } else { openTag(name, attrs) }
            return true
        }

        mutating func openTag(_ name: String, _ attrs: [String: String]) {
            if HTMLText.skipTags.contains(name) {
                // Skip to the matching close tag.
                if let end = findCloseTag(name, from: i) { i = end } else { i = b.count }
                return
            }
            switch name {
            case "br":
                if out.isEmpty && pendingNewlines == 0 { return }
                flushBreaks()
                while out.last == 32 { out.removeLast() }
                pendingNewlines = 1
                if out.last == 10 { pendingNewlines = 2 }
                pendingSpace = false
            case "li":
                lineBreak(1)
                flushBreaks()
                if var l = lists.popLast() {
                    l.counter += 1
                    lists.append(l)
                    emitPrefix(l.ordered ? "\(l.counter). " : "- ")
                } else {
                    emitPrefix("- ")
                }
            case "ul", "ol":
                lists.append((name == "ol", Int(attrs["start"] ?? "").map { $0 - 1 } ?? 0))
                lineBreak(lists.count > 1 ? 1 : 2)
            case "pre":
                lineBreak(2); pre += 1
            case "tr":
                lineBreak(1); cellInRow = 0
            case "td", "th":
                if cellInRow > 0 { pendingSpace = true }
                cellInRow += 1
            case "a":
                links.append((HTMLText.decodeEntities(attrs["href"] ?? ""), out.count))
            case "img":
                if imageAlt, let alt = attrs["alt"], !alt.trimmingASCIIWhitespace().isEmpty {
                    pendingSpace = pendingSpace || !atLineStart
                    emitString(HTMLText.decodeEntities(alt))
                    pendingSpace = true
                }
            default:
                if HTMLText.paragraphTags.contains(name) { lineBreak(2) } else if HTMLText.lineTags.contains(name) { lineBreak(1) }
            }
        }

        mutating func emitPrefix(_ s: String) {
            flushBreaks()
            out += Array(s.utf8)
            pendingSpace = false
        }

        mutating func closeTag(_ name: String) {
            switch name {
            case "ul", "ol":
                if !lists.isEmpty { lists.removeLast() }
                lineBreak(lists.isEmpty ? 2 : 1)
            case "pre":
                pre = max(0, pre - 1); lineBreak(2)
            case "a":
                guard let link = links.popLast(), linkURLs else { return }
                let text = String(decoding: out[min(link.start, out.count)...], as: UTF8.self).trimmingASCIIWhitespace()
                let href = link.href.trimmingASCIIWhitespace()
                let lower = href.lowercased()
                guard !href.isEmpty, !lower.hasPrefix("#"), !lower.hasPrefix("javascript:"), !lower.hasPrefix("cid:") else { return }
                var shown = href
                if lower.hasPrefix("mailto:") { shown = String(href.dropFirst(7)) }
                let bare = { (s: String) -> String in
                    var t = s.lowercased()
                    for p in ["https://", "http://", "mailto:"] where t.hasPrefix(p) { t = String(t.dropFirst(p.count)) }
                    while t.hasSuffix("/") { t.removeLast() }
                    return t
                }
                if bare(text) == bare(shown) { return }
                if text.isEmpty { emitString(shown); return }
                emitString(" (\(shown))")
            default:
                if HTMLText.paragraphTags.contains(name) {
                    lineBreak(2)
                } else if HTMLText.lineTags.contains(name) || name == "td" && false {
                    lineBreak(1)
                }
            }
        }

        func find(_ s: String, from: Int) -> Int? {
            let pat = Array(s.utf8)
            var k = from
            while k + pat.count <= b.count {
                if b[k] == pat[0] {
                    var ok = true
                    for m in 1..<pat.count where b[k + m] != pat[m] { ok = false; break }
                    if ok { return k }
                }
                k += 1
            }
            return nil
        }

        /// Index after `</name ...>` (case-insensitive), or nil.
        func findCloseTag(_ name: String, from: Int) -> Int? {
            let pat = Array(("</" + name).utf8)
            var k = from
            while k + pat.count <= b.count {
                if b[k] == UInt8(ascii: "<"), b[k + 1] == UInt8(ascii: "/") {
                    var ok = true
                    for m in 2..<pat.count where (b[k + m] | 0x20) != pat[m] { ok = false; break }
                    let after = k + pat.count
                    if ok, after == b.count || !isAlnum(b[after]) {
                        return find(">", from: after).map { $0 + 1 } ?? b.count
                    }
                }
                k += 1
            }
            return nil
        }

        func decodeEntity(at start: Int) -> (String, Int) {
            HTMLText.entity(b, at: start)
        }
    }

    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) }

    /// Decodes HTML character references in a string (attribute values, snippets).
    public static func decodeEntities(_ s: String) -> String {
        let b = Array(s.utf8)
        guard b.contains(UInt8(ascii: "&")) else { return s }
        var out = ""
        var i = 0
        var run: [UInt8] = []
        while i < b.count {
            if b[i] == UInt8(ascii: "&") {
                out += String(decoding: run, as: UTF8.self); run.removeAll()
                let (t, n) = entity(b, at: i)
                out += t
                i = n
            } else {
                run.append(b[i]); i += 1
            }
        }
        out += String(decoding: run, as: UTF8.self)
        return out
    }

    /// Decodes one character reference at `start` ('&'); returns the text and the index after it.
    static func entity(_ b: [UInt8], at start: Int) -> (String, Int) {
        var j = start + 1
        if j < b.count, b[j] == UInt8(ascii: "#") {
            j += 1
            var hex = false
            if j < b.count, b[j] | 0x20 == UInt8(ascii: "x") { hex = true; j += 1 }
            let numStart = j
            while j < b.count, j - numStart < 8, hex ? QuotedPrintable.hexValue(b[j]) != nil : (b[j] >= 48 && b[j] <= 57) { j += 1 }
            guard j > numStart, let v = UInt32(String(decoding: b[numStart..<j], as: UTF8.self), radix: hex ? 16 : 10) else {
                return ("&", start + 1)
            }
            if j < b.count, b[j] == UInt8(ascii: ";") { j += 1 }
            var scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            if v == 0 { scalar = "\u{FFFD}" }
            if v >= 0x80 && v < 0xA0 {  // Windows-1252 numeric references, as browsers do
                return (Charset.windows1252([UInt8(v)]), j)
            }
            return (String(Character(scalar)), j)
        }
        let nameStart = j
        while j < b.count, j - nameStart < 32, isAlnum(b[j]) { j += 1 }
        let name = String(decoding: b[nameStart..<j], as: UTF8.self)
        if let v = namedEntities[name] {
            if j < b.count, b[j] == UInt8(ascii: ";") { j += 1 }
            return (v, j)
        }
        return ("&", start + 1)
    }

    static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "AMP": "&", "LT": "<", "GT": ">", "QUOT": "\"",
        "copy": "©", "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’",
        "ldquo": "“", "rdquo": "”", "sbquo": "‚", "bdquo": "„", "laquo": "«", "raquo": "»", "bull": "•", "middot": "·",
        "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶", "deg": "°", "plusmn": "±", "times": "×",
        "divide": "÷", "frac12": "½", "frac14": "¼", "frac34": "¾", "sup2": "²", "sup3": "³", "micro": "µ", "iexcl": "¡", "iquest": "¿",
        "agrave": "à", "aacute": "á", "acirc": "â", "atilde": "ã", "auml": "ä", "aring": "å", "aelig": "æ", "ccedil": "ç",
        "egrave": "è", "eacute": "é", "ecirc": "ê", "euml": "ë", "igrave": "ì", "iacute": "í", "icirc": "î", "iuml": "ï",
        "ntilde": "ñ", "ograve": "ò", "oacute": "ó", "ocirc": "ô", "otilde": "õ", "ouml": "ö", "oslash": "ø", "ugrave": "ù",
        "uacute": "ú", "ucirc": "û", "uuml": "ü", "yacute": "ý", "yuml": "ÿ", "szlig": "ß", "Agrave": "À", "Aacute": "Á",
        "Acirc": "Â", "Atilde": "Ã", "Auml": "Ä", "Aring": "Å", "AElig": "Æ", "Ccedil": "Ç", "Egrave": "È", "Eacute": "É",
        "Ecirc": "Ê", "Euml": "Ë", "Ntilde": "Ñ", "Ouml": "Ö", "Oslash": "Ø", "Uuml": "Ü", "Uacute": "Ú", "Oacute": "Ó", "Iacute": "Í",
        "zwnj": "\u{200C}", "zwj": "\u{200D}", "shy": "\u{00AD}", "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}",
        "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "hearts": "♥", "check": "✓", "dagger": "†", "permil": "‰", "prime": "′",
    ]
}

extension String {
    /// No-break spaces become plain spaces in extracted text.
    func replacingNBSP() -> String {
        guard self.unicodeScalars.contains("\u{00A0}") else { return self }
        return String(String.UnicodeScalarView(self.unicodeScalars.map { $0 == "\u{00A0}" ? " " : $0 }))
    }
}
