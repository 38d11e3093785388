import Foundation
import MIMEKit

/// Renders raw RFC 822 bytes into Gmail's `MessagePart` tree, following what real Gmail returns
/// (GMAIL_API_NOTES §5, checked against ../shared/gmail-real): root partId "", children "0", "1",
/// nested "0.1", a message/rfc822 part's single child "N.0"; lowercased mimeType; `filename` always
/// present; headers unfolded and RFC 2047-decoded (a TAB fold becomes one space, space folds are kept);
/// containers `{"size": 0}`; leaves carry `data` (text/plain or text/html without a filename, converted
/// to UTF-8) or an `attachmentId` (everything else), never both.
struct PayloadRenderer {
    let message: MIMEMessage
    /// Mints the attachmentId for a part (ids rotate per fetch, as Gmail's do).
    let attachmentId: (String) -> String
    /// Decoded sizes of attachment parts by partId, when known (see `attachmentSizes`): a fetch then
    /// does not decode megabytes of base64 only to count them.
    var knownSizes: [String: Int] = [:]

    /// The `body.size` of every part rendered with an attachmentId, computed once at insert.
    static func attachmentSizes(_ message: MIMEMessage) -> [String: Int] {
        var out: [String: Int] = [:]
        func visit(_ p: MIMEPart) {
            if !p.children.isEmpty { p.children.forEach(visit); return }
            let mimeType = p.contentType.mimeType
            if mimeType == "message/delivery-status" && !p.keptOpaque { return }
            if (mimeType == "text/plain" || mimeType == "text/html") && filename(p).isEmpty { return }
            out[p.partId] = p.keptOpaque ? message.rawBody(p).count : message.decodedBody(p).count
        }
        visit(message.root)
        return out
    }

    func payload() -> WireJSON { render(message.root) }

    func render(_ p: MIMEPart) -> WireJSON {
        let mimeType = p.contentType.mimeType
        let filename = Self.filename(p)
        var pairs: [(String, WireJSON)] = [
            ("partId", .string(p.partId)),
            ("mimeType", .string(mimeType)),
            ("filename", .string(filename)),
            ("headers", .array(p.headers.fields.map(Self.header))),
        ]
        if !p.children.isEmpty {
            pairs.append(("body", .object([("size", .number(0))])))
            pairs.append(("parts", .array(p.children.map(render))))
            return .object(pairs)
        }
        if mimeType == "message/delivery-status" && !p.keptOpaque {
            // Gmail expands a DSN: one text/plain child whose headers are the per-message fields and
            // whose data is the per-recipient block.
            let body = message.decodedBody(p)
            let parsed = HeaderBlock.parse(body)
            let rest = Array(body[min(parsed.bodyStart, body.count)...])
            let child: WireJSON = .object([
                ("partId", .string(p.partId.isEmpty ? "0" : p.partId + ".0")),
                ("mimeType", .string("text/plain")),
                ("filename", .string("")),
                ("headers", .array(parsed.block.fields.map(Self.header))),
                ("body", Self.inlineBody(rest, charset: nil)),
            ])
            pairs.append(("body", .object([("size", .number(0))])))
            pairs.append(("parts", .array([child])))
            return .object(pairs)
        }
        if (mimeType == "text/plain" || mimeType == "text/html") && filename.isEmpty {
            let decoded = p.keptOpaque ? Array(message.rawBody(p)) : message.decodedBody(p)
            pairs.append(("body", Self.inlineBody(decoded, charset: p.contentType.charset)))
            return .object(pairs)
        }
        let size = knownSizes[p.partId] ?? (p.keptOpaque ? message.rawBody(p).count : message.decodedBody(p).count)
        if size == 0 {
            pairs.append(("body", .object([("size", .number(0))])))
        } else {
            pairs.append(("body", .object([("attachmentId", .string(attachmentId(p.partId))), ("size", .number(Int64(size)))])))
        }
        return .object(pairs)
    }

    /// `{"size": <bytes in the original charset>, "data": <base64url of the UTF-8 text>}`.
    static func inlineBody(_ decoded: [UInt8], charset: String?) -> WireJSON {
        if decoded.isEmpty { return .object([("size", .number(0))]) }
        var utf8: [UInt8]
        let name = charset.map(Charset.canonicalName) ?? "US-ASCII"
        if name == "UTF-8" || name == "US-ASCII" {
            utf8 = decoded
        } else {
            utf8 = Array(Charset.decode(decoded, charset: charset).text.utf8)
        }
        if utf8.count >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF { utf8.removeFirst(3) }
        return .object([("size", .number(Int64(decoded.count))), ("data", .base64url(utf8))])
    }

    static func header(_ f: HeaderField) -> WireJSON {
        .object([("name", .string(f.name)), ("value", .string(headerValue(f)))])
    }

    /// Gmail's unfolding (observed on ../shared/gmail-real): a fold indented with exactly one TAB becomes
    /// one space (trailing blanks before the line break dropped); any other fold only loses its line
    /// break, keeping the indentation verbatim. Then encoded-words are decoded, and RFC 2231 parameter
    /// continuations (`filename*0=..; filename*1=..`) are rewritten as one quoted parameter, as Gmail does.
    static func headerValue(_ f: HeaderField) -> String {
        let raw = f.rawValue
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            if c == 13 || c == 10 {
                var j = i
                while j < raw.count, raw[j] == 13 || raw[j] == 10 { j += 1 }
                if j < raw.count, raw[j] == 9, j + 1 < raw.count, raw[j + 1] != 32, raw[j + 1] != 9 {
                    while let last = out.last, last == 32 || last == 9 { out.removeLast() }
                    out.append(32)
                    j += 1
                }
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        var a = 0
        while a < out.count, out[a] == 32 || out[a] == 9 { a += 1 }
        var e = out.count
        while e > a, out[e - 1] == 32 || out[e - 1] == 9 { e -= 1 }
        var problems: [String] = []
        let text = EncodedWord.decode(out[a..<e], problems: &problems)
        let lower = f.name.lowercased()
        if (lower == "content-disposition" || lower == "content-type") && text.contains("*0=") {
            return joinContinuations(text)
        }
        return text
    }

    /// `attachment; filename*0=a; filename*1=b` -> `attachment; filename="ab"` (non-extended continuations only).
    static func joinContinuations(_ value: String) -> String {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for ch in value {
            if ch == "\"" { quoted.toggle() }
            if ch == ";" && !quoted { pieces.append(current); current = "" } else { current.append(ch) }
        }
        pieces.append(current)
        var out: [String] = [pieces[0].trimmingCharacters(in: .whitespaces)]
        var joined: [String: (index: Int, parts: [(Int, String)])] = [:]
        for p in pieces.dropFirst() {
            let t = p.trimmingCharacters(in: .whitespaces)
            guard let eq = t.firstIndex(of: "=") else { out.append(t); continue }
            let name = String(t[..<eq])
            var v = String(t[t.index(after: eq)...])
            if let star = name.firstIndex(of: "*"), !name.hasSuffix("*"), let n = Int(name[name.index(after: star)...]) {
                let base = String(name[..<star])
                if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                if joined[base] == nil { joined[base] = (out.count, []); out.append("") }
                joined[base]!.parts.append((n, v))
            } else {
                out.append(t)
            }
        }
        for (base, entry) in joined {
            out[entry.index] = base + "=\"" + entry.parts.sorted { $0.0 < $1.0 }.map(\.1).joined() + "\""
        }
        return out.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Gmail's `filename`: Content-Disposition `filename`, else Content-Type `name`, decoded; a quoted
    /// RFC 2231 extended value (`filename*="UTF-8''x.pdf"`), which Gmail does not decode, gives "".
    static func filename(_ p: MIMEPart) -> String {
        if !p.children.isEmpty { return "" }
        let sources: [(String, String)] = [("Content-Disposition", "filename"), ("Content-Type", "name")]
        for (header, param) in sources {
            guard let f = p.headers.first(header) else { continue }
            let text = f.unfoldedText.lowercased()
            let parsed = HeaderParameters.parse(f.unfoldedBytes)
            guard let value = parsed[param], !value.isEmpty else { continue }
            if quotedExtendedOnly(text, param) { continue }
            return value
        }
        return ""
    }

    static func quotedExtendedOnly(_ lowerHeader: String, _ param: String) -> Bool {
        guard let r = lowerHeader.range(of: param + "*=") else { return false }
        let after = lowerHeader[r.upperBound...].drop { $0 == " " || $0 == "\t" }
        let plain = lowerHeader.range(of: "; " + param + "=") != nil || lowerHeader.range(of: ";" + param + "=") != nil
        return after.first == "\"" && !plain
    }
}

/// Gmail's snippet: the message's first displayable text (text/plain, else text rendered from HTML),
/// whitespace collapsed, cut to at most 200 characters at a word boundary (no ellipsis), then
/// HTML-escaped; "" when there is no text.
enum Snippet {
    static func make(_ m: MIMEMessage) -> String {
        var problems: [String] = []
        var text: String?
        var html: String?
        func visit(_ p: MIMEPart) {
            if text != nil && html != nil { return }
            let ct = p.contentType.mimeType
            if !p.children.isEmpty {
                p.children.forEach(visit)
                return
            }
            let isAttachment = p.filename != nil || p.contentDisposition?.value == "attachment"
            if isAttachment { return }
            if ct == "text/plain" && text == nil {
                text = m.text(p, problems: &problems)
            } else if ct == "text/html" && html == nil {
                html = m.text(p, problems: &problems)
            }
        }
        visit(m.root)
        // Gmail's snippet follows the rendered HTML when there is an HTML body (observed on real mail
        // where text/plain and text/html differ), else the plain text.
        let source = html.map { HTMLText.text(fromHTML: $0, linkURLs: false, imageAlt: true) } ?? text ?? ""
        return escape(truncate(collapse(source, upTo: 201)))
    }

    /// Whitespace runs to one space, trimmed; stops after `upTo` characters of the result (truncation
    /// only looks at the first 201, and bodies run to megabytes).
    static func collapse(_ s: String, upTo cap: Int = .max) -> String {
        var out = ""
        var count = 0
        var pendingSpace = false
        for ch in s {
            if ch.isWhitespace {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace {
                if count == cap { break }
                out.append(" ")
                count += 1
                pendingSpace = false
            }
            if count == cap { break }
            out.append(ch)
            count += 1
        }
        return out
    }

    static func truncate(_ s: String, limit: Int = 200) -> String {
        guard s.count > limit else { return s }
        let head = s.prefix(limit + 1)
        if let space = head.lastIndex(of: " "), space > head.startIndex {
            return String(head[..<space])
        }
        return String(s.prefix(limit))
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
