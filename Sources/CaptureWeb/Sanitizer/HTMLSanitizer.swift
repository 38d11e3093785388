/// An allowlist sanitiser for captured (hostile) email HTML.
///
/// The input is tokenized the way a browser would read it, and the output is written only from those tokens:
/// allowlisted elements with allowlisted, re-escaped, double-quoted attributes, escaped text, and `<style>`
/// elements whose CSS was re-serialised by `CSSSanitizer`. Nothing of the input passes through unexamined, so
/// the browser's parse of the output contains only what the sanitiser decided to emit. Runs in linear time and
/// without recursion over the HTML (element nesting lives in an explicit stack).
public struct HTMLSanitizer: Sendable {
    public struct Options: Sendable {
        /// `cid:` reference (the part after `cid:`, percent-decoded, without angle brackets) -> URL to use for an
        /// `<img src>` (or CSS `url()`), or nil to drop that image.
        public var inlineImage: @Sendable (String) -> String?
        /// An absolute http, https or mailto link -> the href to put in the output (the server's warning page),
        /// or nil to drop the href.
        public var link: @Sendable (String) -> String?
        /// When false (the default), remote images (http/https `<img src>`, CSS `url(http...)`, `background=`
        /// attributes) are removed and counted.
        public var allowRemoteImages: Bool

        public init(
            inlineImage: @escaping @Sendable (String) -> String? = { _ in nil },
            link: @escaping @Sendable (String) -> String? = { _ in nil },
            allowRemoteImages: Bool = false
        ) {
            self.inlineImage = inlineImage
            self.link = link
            self.allowRemoteImages = allowRemoteImages
        }
    }

    public struct Result: Sendable, Equatable {
        /// The sanitised body fragment (no `<html>`/`<head>`/`<body>` wrappers), safe to put inside a `<body>`.
        public var html: String
        /// How many remote images / CSS remote `url()`s were blocked (so the UI can offer "load remote images").
        public var blockedRemoteImages: Int

        public init(html: String, blockedRemoteImages: Int) {
            self.html = html
            self.blockedRemoteImages = blockedRemoteImages
        }
    }

    public var options: Options

    public init(options: Options) {
        self.options = options
    }

    public func sanitize(_ html: String) -> Result {
        var run = SanitizerRun(options: options, input: Self.preprocess(html))
        var tokenizer = HTMLTokenizer(bytes: run.input)
        while let token = tokenizer.next() {
            run.handle(token)
        }
        return run.finish()
    }

    /// UTF-8 bytes with NUL characters dropped and CR / CRLF turned into LF, as HTML's input stream does.
    static func preprocess(_ html: String) -> [UInt8] {
        let utf8 = html.utf8
        guard utf8.contains(where: { $0 == 0 || $0 == .carriageReturn }) else { return Array(utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var previousWasCR = false
        for b in utf8 {
            if b == 0 { continue }
            if b == .lineFeed, previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = b == .carriageReturn
            bytes.append(previousWasCR ? .lineFeed : b)
        }
        return bytes
    }
}

// MARK: - Element and attribute tables

enum SanitizerTables {
    /// Elements kept (with allowlisted attributes). `style` is handled apart.
    static let allowedElements: Set<String> = [
        "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby",
        "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
    ]

    static let voidElements: Set<String> = ["br", "hr", "img", "col", "wbr"]

    /// Dangerous containers: dropped with everything inside them, up to their matching end tag. (Raw-text
    /// elements, `script` `style` `title` `textarea` `xmp` `iframe` `noembed` `noframes` `noscript` `plaintext`,
    /// arrive from the tokenizer with their content in one token.)
    static let droppedContainers: Set<String> = [
        "frameset", "object", "applet", "template", "svg", "math", "select", "option", "optgroup", "datalist", "button",
        "form", "audio", "video", "canvas", "map", "portal", "dialog",
    ]

    /// Start tags that make a browser leave SVG / MathML content (`font` only with color, face or size).
    static let foreignContentBreakouts: Set<String> = [
        "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed", "h1", "h2",
        "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre",
        "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
    ]

    /// Elements that may stay open in the head without ending it.
    static let headElements: Set<String> = [
        "style", "meta", "title", "link", "base", "script", "noscript", "template", "basefont", "bgsound", "noframes",
    ]

    /// Start tags that close an open `p` (HTML's "close a p element" list, restricted to what is kept).
    static let closesParagraph: Set<String> = [
        "address", "blockquote", "center", "details", "div", "dl", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "li", "dd", "dt", "ol", "p", "pre", "summary", "table", "ul",
    ]

    static let headings: Set<String> = ["h1", "h2", "h3", "h4", "h5", "h6"]

    /// Elements that must sit inside a table: their start tags are ignored (children kept) elsewhere, as browsers do.
    static let tableParts: Set<String> = ["caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr", "td", "th"]
    static let tableStructure: Set<String> = tableParts.union(["table"])

    static let globalAttributes: Set<String> = [
        "style", "class", "id", "dir", "lang", "title", "align", "valign", "width", "height", "bgcolor", "color",
        "border", "cellpadding", "cellspacing", "colspan", "rowspan", "face", "size", "alt", "start", "datetime",
        "nowrap", "span", "headers", "scope", "abbr",
    ]

    static let typeAttributeElements: Set<String> = ["ol", "ul", "li"]

    /// Elements on which browsers paint a `background` attribute (body is unwrapped, so it is not here).
    static let backgroundAttributeElements: Set<String> = ["table", "thead", "tbody", "tfoot", "tr", "td", "th"]

    // Scope boundaries, as index stacks in `OpenElements`:
    /// HTML's default scope boundaries among kept elements.
    static let scopeBoundaries: Set<String> = ["table", "td", "th", "caption"]
    /// "Special" elements other than address, div and p: they stop the search for an li / dd / dt to close.
    static let listItemStops: Set<String> = [
        "blockquote", "caption", "center", "colgroup", "dd", "details", "dl", "dt", "figcaption", "figure", "h1", "h2",
        "h3", "h4", "h5", "h6", "li", "ol", "pre", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    ]
    /// What a new cell looks through to find an open cell to close.
    static let cellStops: Set<String> = ["td", "th", "tr", "table", "tbody", "thead", "tfoot"]
    /// What a new row looks through to find an open row to close.
    static let rowStops: Set<String> = ["tr", "table", "tbody", "thead", "tfoot"]
    static let listContainers: Set<String> = ["ol", "ul"]
}

// MARK: - The open element stack

/// The stack of open, kept elements, with per-name and per-boundary index stacks so that every scope question
/// ("is there an open p not hidden behind a table cell?") is answered in constant time.
struct OpenElements {
    private(set) var names: [String] = []
    private var positions: [String: [Int]] = [:]
    private var scopeBoundaries: [Int] = []
    private var listItemStops: [Int] = []
    private var cellStops: [Int] = []
    private var rowStops: [Int] = []
    private var listContainers: [Int] = []

    var count: Int { names.count }

    mutating func push(_ name: String) {
        let index = names.count
        names.append(name)
        positions[name, default: []].append(index)
        if SanitizerTables.scopeBoundaries.contains(name) { scopeBoundaries.append(index) }
        if SanitizerTables.listItemStops.contains(name) { listItemStops.append(index) }
        if SanitizerTables.cellStops.contains(name) { cellStops.append(index) }
        if SanitizerTables.rowStops.contains(name) { rowStops.append(index) }
        if SanitizerTables.listContainers.contains(name) { listContainers.append(index) }
    }

    mutating func pop() -> String {
        let name = names.removeLast()
        let index = names.count
        positions[name]?.removeLast()
        if scopeBoundaries.last == index { scopeBoundaries.removeLast() }
        if listItemStops.last == index { listItemStops.removeLast() }
        if cellStops.last == index { cellStops.removeLast() }
        if rowStops.last == index { rowStops.removeLast() }
        if listContainers.last == index { listContainers.removeLast() }
        return name
    }

    func lastIndex(of name: String) -> Int? { positions[name]?.last }

    /// The index of the innermost open `name` if no default-scope boundary (table, td, th, caption) is above it.
    func inScope(_ name: String) -> Int? {
        guard let index = lastIndex(of: name), (scopeBoundaries.last ?? -1) <= index else { return nil }
        return index
    }

    /// The innermost open `name` if no `table` is above it.
    func inTableScope(_ name: String) -> Int? {
        guard let index = lastIndex(of: name), (lastIndex(of: "table") ?? -1) <= index else { return nil }
        return index
    }

    /// The open li (or dd/dt) a new li (or dd/dt) closes: the innermost "special" element, if it is one of `targets`.
    func listItemToClose(_ targets: Set<String>) -> Int? {
        guard let index = listItemStops.last, targets.contains(names[index]) else { return nil }
        return index
    }

    func cellToClose() -> Int? {
        guard let index = cellStops.last, names[index] == "td" || names[index] == "th" else { return nil }
        return index
    }

    func rowToClose() -> Int? {
        guard let index = rowStops.last, names[index] == "tr" else { return nil }
        return index
    }

    /// The innermost open li for an `</li>`: in scope, and not hidden behind a nested list either.
    func listItemInScope() -> Int? {
        guard let index = inScope("li"), (listContainers.last ?? -1) < index else { return nil }
        return index
    }
}

// MARK: - One sanitising pass

struct SanitizerRun {
    let options: HTMLSanitizer.Options
    let input: [UInt8]
    private var out: [UInt8] = []
    private var css: CSSSanitizer
    private var blockedImages = 0
    private var open = OpenElements()
    /// Inside a dropped container: its name, how many of it are open, and how many tables opened inside it.
    private var skipping: (name: String, depth: Int, tables: Int)?
    private var inHead = false
    private var sawBody = false

    init(options: HTMLSanitizer.Options, input: [UInt8]) {
        self.options = options
        self.input = input
        self.css = CSSSanitizer(options: options)
        out.reserveCapacity(input.count + input.count / 8)
    }

    mutating func handle(_ token: HTMLToken) {
        if let skip = skipping {
            guard endsSkip(token, skip) else { return }
            skipping = nil
        }
        switch token {
        case .text(let range):
            if inHead {
                guard !input[range].allSatisfy(\.isHTMLWhitespace) else { return }
                inHead = false
            }
            if !sawBody, !input[range].allSatisfy(\.isHTMLWhitespace) { sawBody = true }
            appendText(range)
        case .rawTextElement(let tag, let content):
            if inHead, !SanitizerTables.headElements.contains(tag.name) { inHead = false }
            if tag.name == "style" { appendStyleElement(tag, content) }
        case .startTag(let tag):
            startTag(tag)
        case .endTag(let name):
            endTag(name)
        }
    }

    mutating func finish() -> HTMLSanitizer.Result {
        while open.count > 0 { popAndClose() }
        return HTMLSanitizer.Result(
            html: String(decoding: out, as: UTF8.self), blockedRemoteImages: blockedImages + css.blockedRemoteImages)
    }

    // MARK: Dropped containers

    /// Updates the skip state for a token inside a dropped container; true if the token ends the skip and must
    /// be handled normally.
    private mutating func endsSkip(_ token: HTMLToken, _ skip: (name: String, depth: Int, tables: Int)) -> Bool {
        let foreign = skip.name == "svg" || skip.name == "math"
        switch token {
        case .startTag(let tag):
            if foreign, SanitizerTables.foreignContentBreakouts.contains(tag.name) { return true }
            if foreign, tag.name == "font", tag.attributes.contains(where: { ["color", "face", "size"].contains($0.name) }) { return true }
            if tag.name == skip.name, !(foreign && tag.selfClosing) {
                skipping = (skip.name, skip.depth + 1, skip.tables)
            } else if tag.name == "table" {
                skipping = (skip.name, skip.depth, skip.tables + 1)
            }
            return false
        case .endTag(let name):
            if name == skip.name {
                if skip.depth > 1 {
                    skipping = (skip.name, skip.depth - 1, skip.tables)
                    return false
                }
                skipping = nil
                return false  // the container's own end tag is consumed
            }
            if foreign, name == "p" || name == "br" { return true }
            if name == "table", skip.tables > 0 {
                skipping = (skip.name, skip.depth, skip.tables - 1)
                return false
            }
            // A table-structure end tag for a table outside the container closes the container, as in browsers.
            return skip.tables == 0 && SanitizerTables.tableStructure.contains(name) && open.lastIndex(of: name) != nil
        case .text, .rawTextElement:
            return false
        }
    }

    // MARK: Start tags

    private mutating func startTag(_ tag: HTMLTag) {
        let name = tag.name
        switch name {
        case "html":
            return
        case "head":
            if !sawBody { inHead = true }
            return
        case "body":
            inHead = false
            sawBody = true
            return
        default:
            break
        }
        if inHead, !SanitizerTables.headElements.contains(name) { inHead = false }
        if SanitizerTables.droppedContainers.contains(name) {
            if (name == "svg" || name == "math") && tag.selfClosing { return }
            skipping = (name, 1, 0)
            return
        }
        // Unknown elements and dangerous void ones (meta, link, base, input, embed, frame...): the tag is dropped.
        guard SanitizerTables.allowedElements.contains(name) else { return }
        sawBody = true
        if SanitizerTables.tableParts.contains(name), open.lastIndex(of: "table") == nil { return }
        closeImplicitly(before: name)
        guard let attributes = sanitizedAttributes(tag) else { return }
        out.append(.lt)
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: attributes)
        out.append(.gt)
        if !SanitizerTables.voidElements.contains(name) { open.push(name) }
    }

    /// The implied end tags a start tag causes (HTML's tree construction, for the elements that are kept).
    private mutating func closeImplicitly(before name: String) {
        switch name {
        case "li":
            if let index = open.listItemToClose(["li"]) { closeDown(to: index) }
        case "dd", "dt":
            if let index = open.listItemToClose(["dd", "dt"]) { closeDown(to: index) }
        case "td", "th":
            if let index = open.cellToClose() { closeDown(to: index) }
        case "tr":
            if let index = open.rowToClose() { closeDown(to: index) }
        case "tbody", "thead", "tfoot", "caption", "colgroup":
            if let table = open.lastIndex(of: "table") { closeDown(to: table + 1) }
        case "a":
            if let index = open.inScope("a") { closeDown(to: index) }
        default:
            break
        }
        if SanitizerTables.closesParagraph.contains(name), let index = open.inScope("p") { closeDown(to: index) }
        if SanitizerTables.headings.contains(name), let top = open.names.last, SanitizerTables.headings.contains(top) {
            popAndClose()
        }
    }

    // MARK: End tags

    private mutating func endTag(_ name: String) {
        switch name {
        case "head":
            inHead = false
            return
        case "html", "body":
            return
        case "br":  // "</br>" is read as "<br>"
            startTag(HTMLTag(name: "br", attributes: [], selfClosing: false))
            return
        default:
            break
        }
        let index: Int?
        if name == "table" {
            index = open.lastIndex(of: name)
        } else if name == "li" {
            index = open.listItemInScope()
        } else if SanitizerTables.tableParts.contains(name) {
            index = open.inTableScope(name)
        } else {
            index = open.inScope(name)
        }
        if let index { closeDown(to: index) }
    }

    /// Pops and closes open elements until only `index` of them remain.
    private mutating func closeDown(to index: Int) {
        while open.count > index { popAndClose() }
    }

    private mutating func popAndClose() {
        let name = open.pop()
        out.append(.lt)
        out.append(.slash)
        out.append(contentsOf: name.utf8)
        out.append(.gt)
    }

    // MARK: Attributes

    /// The serialised attributes (each as ` name="value"`) or nil if the element must be dropped (an `img`
    /// without a usable `src`).
    private mutating func sanitizedAttributes(_ tag: HTMLTag) -> [UInt8]? {
        var result: [UInt8] = []
        var seen: [String] = []
        var imageSource: [UInt8]?
        if tag.name == "img" {
            guard let src = tag.attributes.first(where: { $0.name == "src" }) else { return nil }
            switch SanitizerURLs.image(HTMLEntities.decode(input, src.value), options: options) {
            case .use(let url):
                imageSource = url
            case .blockedRemote:
                blockedImages += 1
                return nil
            case .drop:
                return nil
            }
        }
        for attribute in tag.attributes {
            let name = attribute.name
            guard !seen.contains(name) else { continue }
            switch name {
            case "href" where tag.name == "a":
                seen.append(name)
                if let url = SanitizerURLs.link(HTMLEntities.decode(input, attribute.value), options: options) {
                    appendAttribute(name, decoded: url, to: &result)
                }
            case "src" where tag.name == "img":
                seen.append(name)
                appendAttribute(name, decoded: imageSource ?? [], to: &result)
            case "background" where SanitizerTables.backgroundAttributeElements.contains(tag.name):
                seen.append(name)
                switch SanitizerURLs.image(HTMLEntities.decode(input, attribute.value), options: options) {
                case .use(let url): appendAttribute(name, decoded: url, to: &result)
                case .blockedRemote: blockedImages += 1
                case .drop: break
                }
            case "style":
                seen.append(name)
                let declarations = css.sanitizeDeclarations(HTMLEntities.decode(input, attribute.value))
                if !declarations.isEmpty { appendAttribute(name, decoded: declarations, to: &result) }
            case "type" where SanitizerTables.typeAttributeElements.contains(tag.name):
                seen.append(name)
                appendAttribute(name, raw: attribute.value, to: &result)
            default:
                guard name != "type", SanitizerTables.globalAttributes.contains(name) else { continue }
                seen.append(name)
                appendAttribute(name, raw: attribute.value, to: &result)
            }
        }
        if tag.name == "a" {
            result.append(contentsOf: #" target="_blank" rel="noopener noreferrer""#.utf8)
        }
        return result
    }

    /// ` name="value"` from a decoded value: every `&`, `"`, `<` and `>` escaped.
    private func appendAttribute(_ name: String, decoded value: [UInt8], to result: inout [UInt8]) {
        result.append(.space)
        result.append(contentsOf: name.utf8)
        result.append(contentsOf: [.equals, .doubleQuote])
        for b in value {
            switch b {
            case .ampersand: result.append(contentsOf: "&amp;".utf8)
            case .doubleQuote: result.append(contentsOf: "&quot;".utf8)
            case .lt: result.append(contentsOf: "&lt;".utf8)
            case .gt: result.append(contentsOf: "&gt;".utf8)
            default: result.append(b)
            }
        }
        result.append(.doubleQuote)
    }

    /// ` name="value"` from a raw value: well-formed character references pass through, everything else is escaped.
    private func appendAttribute(_ name: String, raw range: Range<Int>, to result: inout [UInt8]) {
        result.append(.space)
        result.append(contentsOf: name.utf8)
        result.append(contentsOf: [.equals, .doubleQuote])
        Self.appendEscaped(input, range, quotes: true, to: &result)
        result.append(.doubleQuote)
    }

    // MARK: Text and style

    private mutating func appendText(_ range: Range<Int>) {
        Self.appendEscaped(input, range, quotes: false, to: &out)
    }

    /// Escapes `<`, `>`, stray `&` (and `"` when `quotes`), copying well-formed character references as they are.
    private static func appendEscaped(_ input: [UInt8], _ range: Range<Int>, quotes: Bool, to result: inout [UInt8]) {
        var i = range.lowerBound
        var runStart = i
        let end = range.upperBound
        while i < end {
            let b = input[i]
            let replacement: StaticString
            switch b {
            case .lt: replacement = "&lt;"
            case .gt: replacement = "&gt;"
            case .doubleQuote where quotes: replacement = "&quot;"
            case .ampersand:
                if let length = HTMLEntities.wellFormedReferenceLength(in: input, at: i, end: end) {
                    i += length
                    continue
                }
                replacement = "&amp;"
            default:
                i += 1
                continue
            }
            result.append(contentsOf: input[runStart..<i])
            replacement.withUTF8Buffer { result.append(contentsOf: $0) }
            i += 1
            runStart = i
        }
        result.append(contentsOf: input[runStart..<end])
    }

    /// `<style>` with re-serialised CSS, or nothing when no rule survives or the sheet is not CSS.
    private mutating func appendStyleElement(_ tag: HTMLTag, _ content: Range<Int>) {
        var media: [UInt8]?
        for attribute in tag.attributes {
            let value = HTMLEntities.decode(input, attribute.value)
            let lowered = String(decoding: value.map(\.asciiLowercased), as: UTF8.self).trimmingASCIIWhitespace
            if attribute.name == "type", !lowered.isEmpty, lowered != "text/css" { return }
            if attribute.name == "media", media == nil, !lowered.isEmpty, lowered != "all", lowered != "screen" {
                guard !value.contains(where: { $0 == .openBrace || $0 == .closeBrace || $0 == .semicolon }) else { return }
                media = value
            }
        }
        var sheet: [UInt8] = []
        if let media {
            // Wrap in @media, letting the CSS sanitiser vet the query like any other prelude.
            var wrapped = Array("@media ".utf8) + media + [.openBrace]
            wrapped.append(contentsOf: input[content])
            wrapped.append(contentsOf: [.lineFeed, .closeBrace])
            sheet = css.sanitizeStylesheet(wrapped[...])
        } else {
            sheet = css.sanitizeStylesheet(input[content])
        }
        guard !sheet.isEmpty else { return }
        out.append(contentsOf: "<style>".utf8)
        out.append(contentsOf: sheet)
        out.append(contentsOf: "</style>".utf8)
    }
}

extension String {
    fileprivate var trimmingASCIIWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\u{0C}" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" || c == "\u{0C}" { s.removeLast() }
        return String(s)
    }
}
