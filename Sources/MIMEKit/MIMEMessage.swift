import Foundation
/// Hard limits for the MIME parser. Inputs beyond them still parse; what was cut is reported.
public struct MIMELimits: Sendable, Hashable {
    /// Deepest nesting of multiparts and embedded messages that is descended into.
    public var maxDepth: Int
    /// Most entities (parts) created for one message.
    public var maxParts: Int
    /// Most header bytes kept per entity.
    public var maxHeaderBytes: Int

    public init(maxDepth: Int = 64, maxParts: Int = 10_000, maxHeaderBytes: Int = 256 * 1024) {
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderBytes = maxHeaderBytes
    }

    public static let `default` = MIMELimits()
}

/// Something malformed that the parser tolerated, and where.
public struct MIMEProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Part path in Gmail's partId form ("" is the message itself, "1.0" the first child of part 1).
    public var part: String
    public var message: String

    public init(part: String, message: String) {
        self.part = part
        self.message = message
    }

    public var description: String { part.isEmpty ? message : "part \(part): \(message)" }
}

/// One MIME entity: the message itself, a body part, or an embedded message.
public struct MIMEPart: Sendable {
    /// Child indices from the root (`[]` is the root; `[1, 0]` is the first child of the second child).
    public var path: [Int]
    public var headers: HeaderBlock
    /// The effective content type (defaults applied: text/plain, or message/rfc822 in a digest).
    public var contentType: ContentType
    /// False when the entity had no usable Content-Type field.
    public var hasDeclaredContentType: Bool
    /// Where the raw header block lies in the message bytes.
    public var headerRange: Range<Int>
    /// Where the raw (still transfer-encoded) body lies in the message bytes.
    public var bodyRange: Range<Int>
    /// Multipart children; for message/rfc822, exactly one child: the embedded message's root.
    public var children: [MIMEPart]
    public var preambleRange: Range<Int>?
    public var epilogueRange: Range<Int>?
    /// True when this entity was meant to be a container but was kept opaque (limits, no boundary).
    public var keptOpaque: Bool

    /// The partId Gmail would give this entity ("" for the root, "0", "1.0", ...).
    public var partId: String { path.map(String.init).joined(separator: ".") }

    /// Lowercased Content-Transfer-Encoding, nil when absent.
    public var transferEncoding: String? {
        headers.first("Content-Transfer-Encoding").map { HeaderParameters.parse($0.unfoldedBytes).value }
    }

    /// Parsed Content-Disposition, nil when absent.
    public var contentDisposition: HeaderParameters? {
        headers.first("Content-Disposition").map { HeaderParameters.parse($0.unfoldedBytes) }
    }

    /// The attachment file name: Content-Disposition `filename`, else Content-Type `name` (decoded).
    public var filename: String? {
        if let f = contentDisposition?["filename"], !f.isEmpty { return f }
        if let n = contentType.parameters["name"], !n.isEmpty { return n }
        return nil
    }

    /// Content-ID without angle brackets.
    public var contentID: String? {
        guard let raw = headers.first("Content-ID")?.unfoldedText else { return nil }
        var t = raw.trimmingASCIIWhitespace()
        if t.hasPrefix("<") { t.removeFirst() }
        if t.hasSuffix(">") { t.removeLast() }
        return t.isEmpty ? nil : t
    }

    /// True for multipart/* and message/rfc822 entities that were descended into.
    public var isContainer: Bool { !children.isEmpty || (contentType.isMultipart && !keptOpaque) }
}

/// A parsed MIME message over its raw bytes (RFC 5322 + RFC 2045-2049), zero-copy: parts hold ranges.
///
/// ```swift
/// let message = MIMEMessage.parse(bytes)
/// for part in message.leaves() { let body = message.decodedBody(part) }
/// ```
public struct MIMEMessage: Sendable {
    public let bytes: [UInt8]
    public var root: MIMEPart
    public var problems: [MIMEProblem]
    public var limits: MIMELimits

    /// Parses raw RFC 822 bytes (CRLF or LF line ends). Never throws; problems are recorded.
    public static func parse(_ bytes: [UInt8], limits: MIMELimits = .default) -> MIMEMessage {
        var builder = Builder(limits: limits)
        let root = bytes.withUnsafeBufferPointer { buf in
            builder.parseEntity(buf, start: 0, end: buf.count, path: [], depth: 0, defaultType: .textPlain)
        }
        return MIMEMessage(bytes: bytes, root: root, problems: builder.problems, limits: limits)
    }

    /// Every entity in depth-first order (root first).
    public func allParts() -> [MIMEPart] {
        var out: [MIMEPart] = []
        func visit(_ p: MIMEPart) {
            out.append(p)
            p.children.forEach(visit)
        }
        visit(root)
        return out
    }

    /// Leaf entities (no children) in depth-first order.
    public func leaves() -> [MIMEPart] { allParts().filter { $0.children.isEmpty } }

    /// The raw, still transfer-encoded body bytes of a part.
    public func rawBody(_ part: MIMEPart) -> ArraySlice<UInt8> { bytes[part.bodyRange] }

    /// The raw bytes of a whole entity (headers and body), e.g. an embedded message.
    public func rawEntity(_ part: MIMEPart) -> ArraySlice<UInt8> { bytes[part.headerRange.lowerBound..<part.bodyRange.upperBound] }

    /// The body after Content-Transfer-Encoding decoding (base64, quoted-printable; others as is).
    public func decodedBody(_ part: MIMEPart, problems: inout [String]) -> [UInt8] {
        let raw = rawBody(part)
        switch part.transferEncoding {
        case "base64"?:
            var report = Base64.DecodeReport()
            let out = Base64.decode(raw, report: &report)
            if report.invalidCharacters > 0 { problems.append("base64 body has \(report.invalidCharacters) invalid character(s); skipped") }
            if report.truncatedQuantum { problems.append("base64 body ends with a truncated quantum") }
            return out
        case "quoted-printable"?:
            var malformed = 0
            let out = QuotedPrintable.decode(raw, malformed: &malformed)
            if malformed > 0 { problems.append("quoted-printable body has \(malformed) malformed escape(s); kept literally") }
            return out
        case nil, "7bit"?, "8bit"?, "binary"?:
            return Array(raw)
        case let other?:
            problems.append("unknown Content-Transfer-Encoding \"\(other)\"; body kept as is")
            return Array(raw)
        }
    }

    /// Streams the transfer-decoded body to `body` in chunks (base64 is decoded incrementally, so a large
    /// attachment is never held whole); returns the decoded size. Used to hash attachments.
    public func forEachDecodedChunk(_ part: MIMEPart, problems: inout [String], _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        if part.transferEncoding == "base64" {
            var report = Base64.DecodeReport()
            let count = bytes.withUnsafeBufferPointer { buf in
                Base64.decodeChunked(UnsafeBufferPointer(rebasing: buf[part.bodyRange]), report: &report, body)
            }
            if report.invalidCharacters > 0 { problems.append("base64 body has \(report.invalidCharacters) invalid character(s); skipped") }
            if report.truncatedQuantum { problems.append("base64 body ends with a truncated quantum") }
            return count
        }
        if part.transferEncoding == nil || ["7bit", "8bit", "binary"].contains(part.transferEncoding!) || part.keptOpaque {
            bytes.withUnsafeBufferPointer { buf in body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[part.bodyRange]))) }
            return part.bodyRange.count
        }
        let decoded = part.keptOpaque ? Array(rawBody(part)) : decodedBody(part, problems: &problems)
        decoded.withUnsafeBytes { body($0) }
        return decoded.count
    }

    /// Decoded body without problem collection.
    public func decodedBody(_ part: MIMEPart) -> [UInt8] {
        var p: [String] = []
        return decodedBody(part, problems: &p)
    }

    /// The body as text: transfer-decoded, converted from the part's charset, BOM removed.
    public func text(_ part: MIMEPart, problems: inout [String]) -> String {
        var body = decodedBody(part, problems: &problems)
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { body.removeFirst(3) }
        let decoded = Charset.decode(body, charset: part.contentType.charset)
        if let p = decoded.problem { problems.append(p) }
        var t = decoded.text
        if t.unicodeScalars.first == "\u{FEFF}" { t.unicodeScalars.removeFirst() }
        return t
    }

    /// Finds a part by Gmail-style partId.
    public func part(withId id: String) -> MIMEPart? {
        allParts().first { $0.partId == id }
    }

    struct Builder {
        let limits: MIMELimits
        var problems: [MIMEProblem] = []
        var partCount = 0
        var depthReported = false
        var countReported = false

        init(limits: MIMELimits) { self.limits = limits }

        mutating func note(_ path: [Int], _ message: String) {
            problems.append(MIMEProblem(part: path.map(String.init).joined(separator: "."), message: message))
        }

        mutating func parseEntity(
            _ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int, path: [Int], depth: Int,
            defaultType: ContentType
        ) -> MIMEPart {
            partCount += 1
            let parsed = HeaderBlock.parse(buf, from: start, to: end, maxBytes: limits.maxHeaderBytes)
            for p in parsed.problems { note(path, p) }
            let headers = parsed.block
            var contentType = defaultType
            var declared = false
            if let ctField = headers.first("Content-Type") {
                let (ct, params) = ContentType.parse(ctField.unfoldedBytes)
                for p in params.problems { note(path, "Content-Type: \(p)") }
                if let ct {
                    contentType = ct
                    declared = true
                } else {
                    note(path, "unparseable Content-Type \"\(String(ctField.unfoldedText.prefix(60)))\"; using \(defaultType.mimeType)")
                }
                if headers.all("Content-Type").count > 1 { note(path, "duplicate Content-Type; the first is used") }
            }
            var part = MIMEPart(
                path: path, headers: headers, contentType: contentType, hasDeclaredContentType: declared,
                headerRange: start..<min(parsed.bodyStart, end), bodyRange: min(parsed.bodyStart, end)..<end,
                children: [], preambleRange: nil, epilogueRange: nil, keptOpaque: false)

            let isEmbedded = contentType.type == "message" && (contentType.subtype == "rfc822" || contentType.subtype == "global")
            guard contentType.isMultipart || isEmbedded else { return part }
            if depth >= limits.maxDepth {
                if !depthReported {
                    note(path, "nesting deeper than \(limits.maxDepth) levels; kept as one opaque part"); depthReported = true
                }
                part.keptOpaque = true
                return part
            }
            if partCount >= limits.maxParts {
                if !countReported { note(path, "more than \(limits.maxParts) parts; the rest kept opaque"); countReported = true }
                part.keptOpaque = true
                return part
            }
            if isEmbedded {
                if let te = part.transferEncoding, te == "base64" || te == "quoted-printable" {
                    note(path, "message/\(contentType.subtype) with \(te) transfer encoding kept opaque")
                    part.keptOpaque = true
                    return part
                }
                let child = parseEntity(
                    buf, start: part.bodyRange.lowerBound, end: end, path: path + [0], depth: depth + 1, defaultType: .textPlain)
                part.children = [child]
                return part
            }
            guard let boundary = contentType.boundary, !boundary.isEmpty else {
                note(path, "multipart without a boundary parameter; kept as text")
                part.keptOpaque = true
                part.contentType = .textPlain
                return part
            }
            let split = splitMultipart(buf, bodyStart: part.bodyRange.lowerBound, end: end, boundary: Array(boundary.utf8))
            if split.parts.isEmpty {
                note(path, "multipart body has no boundary delimiter; kept as text")
                part.keptOpaque = true
                part.contentType = .textPlain
                return part
            }
            if !split.closed { note(path, "missing final boundary --\(boundary)--") }
            part.preambleRange = split.preamble
            part.epilogueRange = split.epilogue
            let childDefault: ContentType = contentType.subtype == "digest" ? .messageRFC822 : .textPlain
            var children: [MIMEPart] = []
            for (n, range) in split.parts.enumerated() {
                if partCount >= limits.maxParts {
                    if !countReported { note(path, "more than \(limits.maxParts) parts; the rest dropped"); countReported = true }
                    break
                }
                children.append(
                    parseEntity(
                        buf, start: range.lowerBound, end: range.upperBound, path: path + [n],
                        depth: depth + 1, defaultType: childDefault))
            }
            part.children = children
            return part
        }

        struct Split {
            var parts: [Range<Int>] = []
            var preamble: Range<Int>?
            var epilogue: Range<Int>?
            var closed = false
        }

        /// Splits a multipart body at delimiter lines `--boundary` (RFC 2046 §5.1.1). A delimiter must start a
        /// line and be followed only by optional `--` and whitespace; the line break before it belongs to it.
        func splitMultipart(_ buf: UnsafeBufferPointer<UInt8>, bodyStart: Int, end: Int, boundary: [UInt8]) -> Split {
            var result = Split()
            let dlen = boundary.count + 2
            var pos = bodyStart
            var openStart: Int?  // content start of the current part
            var lastLineStartBeforeDelim = bodyStart
            while pos < end {
                guard let p = memchrIndex(buf, UInt8(ascii: "-"), from: pos, to: end) else { break }
                let atLineStart = p == bodyStart || buf[p - 1] == 10
                if !atLineStart {
                    // Skip to the next line.
                    guard let nl = memchrIndex(buf, 10, from: p, to: end) else { break }
                    pos = nl + 1
                    continue
                }
                if p + dlen <= end, buf[p + 1] == UInt8(ascii: "-"), matches(buf, at: p + 2, boundary) {
                    var q = p + dlen
                    var isClose = false
                    if q + 1 < end, buf[q] == UInt8(ascii: "-"), buf[q + 1] == UInt8(ascii: "-") { isClose = true; q += 2 }
                    var r = q
                    while r < end, buf[r] == 32 || buf[r] == 9 { r += 1 }
                    let lineOK = r == end || buf[r] == 10 || (buf[r] == 13 && (r + 1 == end || buf[r + 1] == 10))
                    if lineOK {
                        // Content before the delimiter ends before the line break that precedes it.
                        var contentEnd = p
                        if contentEnd > bodyStart, buf[contentEnd - 1] == 10 { contentEnd -= 1 }
                        if contentEnd > bodyStart, buf[contentEnd - 1] == 13 { contentEnd -= 1 }
                        if let s = openStart {
                            result.parts.append(s..<max(s, contentEnd))
                        } else if contentEnd > bodyStart {
                            result.preamble = bodyStart..<contentEnd
                        }
                        let nl = memchrIndex(buf, 10, from: r, to: end)
                        let next = nl.map { $0 + 1 } ?? end
                        if isClose {
                            result.closed = true
                            if next < end { result.epilogue = next..<end }
                            openStart = nil
                            return result
                        }
                        openStart = next
                        pos = next
                        lastLineStartBeforeDelim = next
                        continue
                    }
                }
                guard let nl = memchrIndex(buf, 10, from: p, to: end) else { break }
                pos = nl + 1
            }
            _ = lastLineStartBeforeDelim
            if let s = openStart {
                // Missing close delimiter: the last part runs to the end (trailing line break trimmed).
                var e = end
                if e > s, buf[e - 1] == 10 { e -= 1 }
                if e > s, buf[e - 1] == 13 { e -= 1 }
                result.parts.append(s..<e)
            }
            return result
        }

        @inline(__always)
        func matches(_ buf: UnsafeBufferPointer<UInt8>, at i: Int, _ b: [UInt8]) -> Bool {
            if i + b.count > buf.count { return false }
            for k in 0..<b.count where buf[i + k] != b[k] { return false }
            return true
        }
    }
}
