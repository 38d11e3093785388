public import Foundation
#if canImport(Glibc)
    import Glibc
#endif
public import MIMEKit
import Crypto

/// Turns what Gmail returns into a ``ParsedMessage``: a `format=full` payload tree, a `format=raw`
/// message, or bare RFC 822 bytes. Both front ends feed one assembler, so they interpret a message
/// the same way. Never throws on malformed mail; problems are recorded on the result.
public struct MessageParser: Sendable {
    public var limits: MIMELimits

    public init(limits: MIMELimits = .default) {
        self.limits = limits
    }

    public enum InputError: Error, Equatable, CustomStringConvertible {
        case notJSON(String)
        case noPayloadOrRaw
        case invalidRaw

        public var description: String {
            switch self {
            case .notJSON(let why): return "not a Gmail message JSON: \(why)"
            case .noPayloadOrRaw: return "Gmail message JSON has neither payload nor raw"
            case .invalidRaw: return "Gmail message raw field is not base64url"
            }
        }
    }

    // MARK: - Front ends

    /// Parses raw RFC 822 bytes (a .eml file or Gmail's decoded `raw`).
    public func parse(raw bytes: [UInt8]) -> ParsedMessage {
        let mime = MIMEMessage.parse(bytes, limits: limits)
        var problems = mime.problems.map(\.description)
        let root = RawSource.node(mime.root)
        var source = RawSource(message: mime)
        var result = Assembler.assemble(root: root, source: &source, problems: &problems)
        result.problems = problems
        return result
    }

    /// Parses a Gmail `Message` resource: the payload tree when present, else `raw`.
    /// - Parameter attachmentData: attachmentId → decoded bytes, to fill in sizes' SHA-256 where known.
    public func parse(gmail message: GmailMessageResource, attachmentData: [String: [UInt8]] = [:]) throws -> ParsedMessage {
        var result: ParsedMessage
        if let payload = message.payload {
            var problems: [String] = []
            let root = PayloadSource.node(payload, problems: &problems)
            var source = PayloadSource(attachmentData: attachmentData)
            source.index(payload)
            result = Assembler.assemble(root: root, source: &source, problems: &problems)
            result.problems = problems
        } else if let raw = message.raw {
            var report = Base64.DecodeReport()
            let bytes = Base64.decode(Array(raw.utf8), report: &report)
            if report.invalidCharacters > 0 { throw InputError.invalidRaw }
            result = parse(raw: bytes)
        } else {
            throw InputError.noPayloadOrRaw
        }
        result.gmailId = message.id
        result.threadId = message.threadId
        result.labelIds = message.labelIds ?? []
        result.internalDateMillis = message.internalDate.flatMap { Int64($0) }
        result.historyId = message.historyId
        result.sizeEstimate = message.sizeEstimate
        result.snippet = message.snippet
        return result
    }

    /// Parses Gmail message JSON bytes (a messages.get response).
    public func parse(gmailJSON data: Data, attachmentData: [String: [UInt8]] = [:]) throws -> ParsedMessage {
        let message: GmailMessageResource
        do {
            message = try JSONDecoder().decode(GmailMessageResource.self, from: data)
        } catch {
            throw InputError.notJSON(String(describing: error).prefix(200).description)
        }
        return try parse(gmail: message, attachmentData: attachmentData)
    }
}

// MARK: - The shared part model

/// One MIME entity, as either front end sees it; the assembler decides body vs attachment from this.
struct PartNode {
    var partId: String
    var mimeType: String
    var filename: String?
    var disposition: String?
    var contentId: String?
    var children: [PartNode]
    /// Index into the source's storage (raw: a MIMEPart path; payload: the part itself).
    var handle: Int
}

/// Where the assembler gets content from.
protocol PartContentSource {
    /// The part's text (charset converted, BOM removed).
    mutating func text(_ node: PartNode, problems: inout [String]) -> String
    /// Size, SHA-256 (when the bytes are at hand) and Gmail attachmentId.
    mutating func attachment(_ node: PartNode, problems: inout [String]) -> (size: Int, sha256: String?, attachmentId: String?)
    /// Headers of the root entity: (name, decoded value) in order, plus raw access for structured fields.
    func rootHeaders(problems: inout [String]) -> [(name: String, value: String, structuredBytes: [UInt8])]
}

enum Assembler {
    struct Collected {
        var texts: [PartNode] = []
        var htmls: [PartNode] = []
        var attachments: [PartNode] = []
        var calendar = false
    }

    static func assemble<S: PartContentSource>(root: PartNode, source: inout S, problems: inout [String]) -> ParsedMessage {
        var m = ParsedMessage()
        fillHeaders(&m, source: source, problems: &problems)
        let c = collect(root, inAlternative: false)
        m.hasCalendar = c.calendar
        if !c.texts.isEmpty {
            m.textBody = c.texts.map { normalizeLineEnds(source.text($0, problems: &problems)) }.joined(separator: "\n")
        }
        if !c.htmls.isEmpty {
            m.htmlBody = c.htmls.map { normalizeLineEnds(source.text($0, problems: &problems)) }.joined(separator: "\n")
        }
        if m.textBody == nil, let html = m.htmlBody {
            m.textBody = HTMLText.text(fromHTML: html)
        }
        for node in c.attachments {
            let info = source.attachment(node, problems: &problems)
            let inline = node.disposition == "inline" || (node.disposition == nil && node.contentId != nil)
            m.attachments.append(
                ParsedAttachment(
                    partId: node.partId, filename: node.filename, mimeType: node.mimeType,
                    size: info.size, contentId: node.contentId, inline: inline,
                    attachmentId: info.attachmentId, sha256: info.sha256))
        }
        return m
    }

    static func isBodyText(_ n: PartNode) -> Bool {
        n.children.isEmpty && (n.mimeType == "text/plain" || n.mimeType == "text/html")
            && (n.filename ?? "").isEmpty && n.disposition != "attachment"
    }

    static func isCalendar(_ n: PartNode) -> Bool {
        n.mimeType == "text/calendar" || n.mimeType == "application/ics"
    }

    static func collect(_ n: PartNode, inAlternative: Bool) -> Collected {
        var c = Collected()
        if n.mimeType == "message/delivery-status" || n.mimeType == "message/global-delivery-status" {
            return c  // report metadata: neither body nor a file
        }
        if n.mimeType.hasPrefix("message/") && !n.children.isEmpty {
            // An embedded (forwarded) message: its files are attachments, its text is not our body.
            for child in n.children {
                let inner = collect(child, inAlternative: false)
                c.attachments += inner.attachments + inner.texts.filter { !($0.filename ?? "").isEmpty }
                c.calendar = c.calendar || inner.calendar
            }
            return c
        }
        if n.children.isEmpty {
            if isBodyText(n) {
                if n.mimeType == "text/plain" { c.texts.append(n) } else { c.htmls.append(n) }
            } else if isCalendar(n) {
                c.calendar = true
                if !inAlternative || n.disposition == "attachment" || !(n.filename ?? "").isEmpty { c.attachments.append(n) }
            } else if inAlternative && n.mimeType.hasPrefix("text/") && (n.filename ?? "").isEmpty && n.disposition != "attachment" {
                // Another rendition of the body (text/enriched, text/watch-html): not a file.
            } else {
                c.attachments.append(n)
            }
            return c
        }
        switch n.mimeType {
        case "multipart/alternative":
            var bestText: [PartNode]?
            var bestHTML: [PartNode]?
            for child in n.children {
                let inner = collect(child, inAlternative: true)
                if !inner.texts.isEmpty && bestText == nil { bestText = inner.texts }  // plain: first wins
                if !inner.htmls.isEmpty { bestHTML = inner.htmls }  // richest: last wins
                c.attachments += inner.attachments
                c.calendar = c.calendar || inner.calendar
            }
            c.texts = bestText ?? []
            c.htmls = bestHTML ?? []
        case "multipart/related":
            for (k, child) in n.children.enumerated() {
                let inner = collect(child, inAlternative: false)
                if k == 0 {
                    c.texts += inner.texts
                    c.htmls += inner.htmls
                } else {
                    // Resources of the root document: attachments even when they are text.
                    c.attachments += inner.texts + inner.htmls
                }
                c.attachments += inner.attachments
                c.calendar = c.calendar || inner.calendar
            }
        default:
            for child in n.children {
                let inner = collect(child, inAlternative: false)
                c.texts += inner.texts
                c.htmls += inner.htmls
                c.attachments += inner.attachments
                c.calendar = c.calendar || inner.calendar
            }
        }
        return c
    }

    static func fillHeaders<S: PartContentSource>(_ m: inout ParsedMessage, source: S, problems: inout [String]) {
        let headers = source.rootHeaders(problems: &problems)
        m.headers = headers.map { ParsedMessage.Header(name: $0.name, value: collapseWhitespace($0.value)) }
        let lower = headers.map { $0.name.lowercased() }
        func indices(_ name: String) -> [Int] { lower.indices.filter { lower[$0] == name } }
        func first(_ name: String) -> (name: String, value: String, structuredBytes: [UInt8])? {
            lower.firstIndex(of: name).map { headers[$0] }
        }
        func addresses(_ name: String) -> [MailAddress] {
            indices(name).flatMap { AddressParser.parseList(headers[$0].structuredBytes, problems: &problems) }
        }
        if let s = first("subject") { m.subject = collapseWhitespace(s.value) }
        m.from = addresses("from").first
        if indices("from").count > 1 { problems.append("more than one From field") }
        m.sender = addresses("sender").first
        m.replyTo = addresses("reply-to")
        m.to = addresses("to")
        m.cc = addresses("cc")
        m.bcc = addresses("bcc")
        m.deliveredTo = addresses("delivered-to")
        let ids = indices("message-id")
        if ids.count > 1 { problems.append("duplicate Message-ID field; the first is used") }
        if let id = ids.first { m.messageId = MessageIDParser.parseList(headers[id].value, limit: 1, problems: &problems).first }
        if let irt = first("in-reply-to") { m.inReplyTo = MessageIDParser.parseList(irt.value, problems: &problems).first }
        if let refs = first("references") { m.references = MessageIDParser.parseList(refs.value, problems: &problems) }
        if let d = first("date") {
            let r = DateParser.parse(d.value)
            m.date = r.date
            if let p = r.problem { problems.append(p) }
        }
    }

    static func normalizeLineEnds(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u -> String in
            guard memchr(u.baseAddress!, 13, u.count) != nil else { return String(decoding: u, as: UTF8.self) }
            // Runs between CRs are copied at once (memchr finds the next CR).
            return String(unsafeUninitializedCapacity: u.count) { out in
                let src = u.baseAddress!
                let dst = out.baseAddress!
                var o = 0
                var i = 0
                while i < u.count {
                    let next = memchr(src + i, 13, u.count - i).map { UnsafeRawPointer($0) - UnsafeRawPointer(src) } ?? u.count
                    if next > i {
                        (dst + o).update(from: src + i, count: next - i)
                        o += next - i
                        i = next
                    }
                    if i == u.count { break }
                    dst[o] = 10
                    o += 1
                    i += (i + 1 < u.count && src[i + 1] == 10) ? 2 : 1
                }
                return o
            }
        }
    }

    static func collapseWhitespace(_ s: String) -> String {
        var s = s
        return s.withUTF8 { u -> String in
            if u.isEmpty { return "" }
            return String(unsafeUninitializedCapacity: u.count) { out in
                var o = 0
                var pending = false
                for c in u {
                    if c == 32 || c == 9 || c == 10 || c == 13 {
                        pending = o > 0
                    } else {
                        if pending { out[o] = 32; o += 1; pending = false }
                        out[o] = c; o += 1
                    }
                }
                return o
            }
        }
    }
}

func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
    let digest: SHA256.Digest
    if let d = bytes.withContiguousStorageIfAvailable({ SHA256.hash(data: UnsafeRawBufferPointer($0)) }) {
        digest = d
    } else {
        digest = SHA256.hash(data: Array(bytes))
    }
    return hex(digest)
}

func hex(_ digest: SHA256.Digest) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

// MARK: - Raw front end

struct RawSource: PartContentSource {
    let message: MIMEMessage
    var byPath: [String: MIMEPart] = [:]

    init(message: MIMEMessage) {
        self.message = message
        for p in message.allParts() { byPath[p.partId] = p }
    }

    static func node(_ p: MIMEPart) -> PartNode {
        var disposition: String? = nil
        if let d = p.contentDisposition, !d.value.isEmpty { disposition = d.value }
        let isContainer = !p.children.isEmpty
        return PartNode(
            partId: p.partId, mimeType: p.contentType.mimeType,
            filename: isContainer && p.contentType.isMultipart ? nil : p.filename,
            disposition: disposition, contentId: p.contentID,
            children: p.children.map(node), handle: 0)
    }

    mutating func text(_ node: PartNode, problems: inout [String]) -> String {
        guard let p = byPath[node.partId] else { return "" }
        var local: [String] = []
        let t = message.text(p, problems: &local)
        problems += local.map { node.partId.isEmpty ? $0 : "part \(node.partId): \($0)" }
        return t
    }

    mutating func attachment(_ node: PartNode, problems: inout [String]) -> (size: Int, sha256: String?, attachmentId: String?) {
        guard let p = byPath[node.partId] else { return (0, nil, nil) }
        var local: [String] = []
        var hasher = SHA256()
        let count: Int
        if p.keptOpaque {
            count = p.bodyRange.count
            message.bytes.withUnsafeBufferPointer {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0[p.bodyRange])))
            }
        } else {
            count = message.forEachDecodedChunk(p, problems: &local) { hasher.update(bufferPointer: $0) }
        }
        problems += local.map { "part \(node.partId): \($0)" }
        return (count, hex(hasher.finalize()), nil)
    }

    func rootHeaders(problems: inout [String]) -> [(name: String, value: String, structuredBytes: [UInt8])] {
        message.root.headers.fields.map { f in
            let unfolded = f.unfoldedBytes
            return (f.name, EncodedWord.decode(unfolded, problems: &problems), unfolded)
        }
    }
}

// MARK: - Gmail payload front end

struct PayloadSource: PartContentSource {
    var attachmentData: [String: [UInt8]]
    var parts: [String: GmailMessagePart] = [:]
    var rootPart: GmailMessagePart?

    init(attachmentData: [String: [UInt8]]) {
        self.attachmentData = attachmentData
    }

    static func node(_ p: GmailMessagePart, problems: inout [String]) -> PartNode {
        let headers = p.headers ?? []
        func header(_ n: String) -> String? { headers.first { $0.name.lowercased() == n }?.value }
        var disposition: String?
        if let d = header("content-disposition") {
            let v = HeaderParameters.parse(Array(d.utf8)).value
            if !v.isEmpty { disposition = v }
        }
        var cid: String?
        if let c = header("content-id") {
            var t = c.trimmingASCIIWhitespace()
            if t.hasPrefix("<") { t.removeFirst() }
            if t.hasSuffix(">") { t.removeLast() }
            cid = t.isEmpty ? nil : t
        }
        var filename = (p.filename ?? "").isEmpty ? nil : p.filename
        if filename == nil, (p.parts ?? []).isEmpty {
            // Gmail leaves `filename` empty for some forms it does not decode (a quoted RFC 2231 value,
            // `filename*="UTF-8''a%20b.pdf"`); recover it from the part's own headers as the raw path does.
            let fromDisposition = header("content-disposition").flatMap { HeaderParameters.parse(Array($0.utf8))["filename"] }
            let fromType = header("content-type").flatMap { HeaderParameters.parse(Array($0.utf8))["name"] }
            filename = [fromDisposition, fromType].compactMap { $0 }.first { !$0.isEmpty }
        }
        return PartNode(
            partId: p.partId ?? "", mimeType: (p.mimeType ?? "text/plain").lowercased(), filename: filename,
            disposition: disposition, contentId: cid,
            children: (p.parts ?? []).map { node($0, problems: &problems) }, handle: 0)
    }

    func find(_ id: String) -> GmailMessagePart? { parts[id] }

    mutating func text(_ node: PartNode, problems: inout [String]) -> String {
        guard let body = lookup(node.partId)?.body else { return "" }
        if let data = body.data {
            var t = String(decoding: Base64.decode(Array(data.utf8)), as: UTF8.self)
            if t.unicodeScalars.first == "\u{FEFF}" { t.unicodeScalars.removeFirst() }
            return t
        }
        if let id = body.attachmentId, let bytes = attachmentData[id] {
            return String(decoding: bytes, as: UTF8.self)
        }
        if (body.size ?? 0) > 0 { problems.append("part \(node.partId): text body not inline and not fetched") }
        return ""
    }

    mutating func attachment(_ node: PartNode, problems: inout [String]) -> (size: Int, sha256: String?, attachmentId: String?) {
        guard let body = lookup(node.partId)?.body else { return (0, nil, nil) }
        if let data = body.data {
            let bytes = Base64.decode(Array(data.utf8))
            return (body.size ?? bytes.count, sha256Hex(bytes), nil)
        }
        if let id = body.attachmentId, let bytes = attachmentData[id] {
            return (body.size ?? bytes.count, sha256Hex(bytes), id)
        }
        return (body.size ?? 0, nil, body.attachmentId)
    }

    func rootHeaders(problems: inout [String]) -> [(name: String, value: String, structuredBytes: [UInt8])] {
        (rootPart?.headers ?? []).map { ($0.name, $0.value, Array($0.value.utf8)) }
    }

    mutating func index(_ root: GmailMessagePart) {
        rootPart = root
        func visit(_ p: GmailMessagePart) {
            parts[p.partId ?? ""] = p
            (p.parts ?? []).forEach(visit)
        }
        visit(root)
    }

    func lookup(_ id: String) -> GmailMessagePart? { parts[id] }
}
