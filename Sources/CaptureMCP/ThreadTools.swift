import Foundation
import GmailCapture
import MCP

/// `get_thread`, `get_message` and `search_threads`: the tools that show email content, each piece of it
/// fenced, paginated within the budget (a long body is split across pages).
extension CaptureMCPServer {
    var budget: Budget { Budget(maxChars: options.maxChars) }

    /// How many participants (and, separately, attachments) of one message are listed: enough for any
    /// ordinary message, few enough that one message's headers always fit a page.
    var listCap: Int { max(3, options.maxChars / 800) }

    /// The stamp binding cursors to this call, and the cursor passed in (checked).
    func cursor(_ tool: String, _ args: Arguments, _ viewer: Viewer) throws(ToolError) -> (stamp: String, cursor: PageCursor?) {
        let stamp = PageCursor.stamp(tool: tool, arguments: args.values, viewer: viewer.email ?? "operator")
        guard let text = try args.string("cursor"), !text.isEmpty else { return (stamp, nil) }
        return (stamp, try PageCursor.decode(text, tool: tool, stamp: stamp))
    }

    // MARK: - get_thread

    func getThread(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.getThread
        try args.only(["threadId", "cursor"], tool: tool)
        guard let id = try args.integer("threadId", default: nil, 1...Int.max) else {
            throw ToolError("threadId is required: the thread's id (an integer)")
        }
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        guard let found = try await readModel.thread(id: Int64(id), for: viewer, surface: .mcp) else {
            throw ToolError("no such thread: \(id)")
        }
        let messages = found.messages
        var start = (index: 0, offset: 0)
        if let cursor {
            guard let email = cursor.email, let i = messages.firstIndex(where: { $0.id == email }) else {
                throw ToolError("thread \(id) changed since this cursor was issued; call get_thread again without a cursor")
            }
            start = (i, max(0, cursor.bodyOffset ?? 0))
        }
        return Prepared { fence in
            let summary = fencedSummary(found.thread, messages: messages, fence)
            var header =
                "Thread \(id): \(messages.count) message(s) visible to you · mailboxes: \(found.thread.mailboxes.joined(separator: ", "))"
            if !found.thread.investorIds.isEmpty { header += " · investors: \(found.thread.investorIds.joined(separator: ", "))" }
            let page = messagePage(
                messages, from: start, envelopeText: Budget.size(header) + 400,
                envelopeJSON: Budget.size(["thread": summary, "messages": [], "nextCursor": .string(String(repeating: "x", count: 300))]),
                fence: fence)
            let next = page.next.map { PageCursor(tool: tool, stamp: stamp, email: $0.email, bodyOffset: $0.offset).encoded() }
            let shown = Set(page.shown)
            header += "\nThis page: message(s) \(page.range)" + (start.offset > 0 ? " (continuing message \(start.index + 1)'s body)" : "")
            let text = header + "\n\n" + page.texts.joined(separator: "\n\n") + Self.footer(tool, next)
            return Answer(
                text: text,
                structured: ["thread": summary, "messages": .array(page.values), "nextCursor": next.map(Value.string) ?? .null],
                messages: shown.count, items: shown.count)
        }
    }

    /// The thread object with its subject fenced (sender and date of the first message showing it).
    func fencedSummary(_ t: CaptureDatabase.ThreadSummary, messages: [CaptureDatabase.ThreadMessage], _ fence: Fence) -> Value {
        var s = t
        let first = messages.first { $0.subject != nil }
        s.subject = fence.wrap(optional: t.subject.map { Self.clip($0, 2_000) }, from: first?.from?.address, date: first?.date ?? t.firstAt)
        return Self.value(s)
    }

    /// Fills a page with messages from `start` (a message index and how much of its body was shown): whole
    /// messages while they fit; a message too large for an empty page is split at a line break near the
    /// end of what fits, the rest following on the next page.
    func messagePage(
        _ messages: [CaptureDatabase.ThreadMessage], from start: (index: Int, offset: Int), envelopeText: Int, envelopeJSON: Int,
        fence: Fence
    ) -> (texts: [String], values: [Value], shown: [Int64], range: String, next: (email: Int64, offset: Int)?) {
        var fill = PageFill(budget: budget, envelopeText: envelopeText, envelopeJSON: envelopeJSON)
        var texts: [String] = [], values: [Value] = [], shown: [Int64] = []
        var i = start.index, offset = start.offset
        var next: (email: Int64, offset: Int)?
        func add(_ r: (text: String, value: Value)) {
            fill.add(text: Budget.size(r.text) + 2, json: Budget.size(r.value))
            texts.append(r.text)
            values.append(r.value)
        }
        while i < messages.count {
            let m = messages[i]
            let body = Self.body(m)
            let total = body?.unicodeScalars.count ?? 0
            let label = messages.count > 1 ? "[\(i + 1)/\(messages.count)]" : ""
            let whole = renderMessage(m, label: label, body: body, from: offset, to: total, total: total, fence: fence)
            if fill.fits(text: Budget.size(whole.text) + 2, json: Budget.size(whole.value)) || (texts.isEmpty && total <= offset) {
                add(whole)
                shown.append(m.id)
                i += 1
                offset = 0
                continue
            }
            if !texts.isEmpty {
                next = (m.id, offset)
                break
            }
            // Alone on the page and too large: as much of the body as fits (binary search on its length).
            var best = 0
            var low = 1, high = total - offset - 1
            while low <= high {
                let mid = (low + high) / 2
                let r = renderMessage(m, label: label, body: body, from: offset, to: offset + mid, total: total, fence: fence)
                if fill.fits(text: Budget.size(r.text) + 2, json: Budget.size(r.value)) {
                    best = mid
                    low = mid + 1
                } else {
                    high = mid - 1
                }
            }
            if best == 0 { best = min(total - offset, 200) }  // cannot happen with the list caps; still, always progress
            // End at a line break in the last fifth of the chunk when there is one.
            let chunk = (body ?? "").scalars(offset, offset + best)
            var cut = best
            for (n, s) in chunk.unicodeScalars.enumerated().reversed() where n + 1 >= best * 4 / 5 {
                if s == "\n" {
                    cut = n + 1
                    break
                }
            }
            add(renderMessage(m, label: label, body: body, from: offset, to: offset + cut, total: total, fence: fence))
            shown.append(m.id)
            next = (m.id, offset + cut)
            break
        }
        let first = start.index + 1, last = start.index + max(1, Set(shown).count)
        return (texts, values, shown, first == last ? "\(first) of \(messages.count)" : "\(first)-\(last) of \(messages.count)", next)
    }

    /// The text a message shows at full level: its text body (else its HTML as stored).
    static func body(_ m: CaptureDatabase.ThreadMessage) -> String? {
        guard m.visibility == .full else { return nil }
        return m.textBody ?? m.htmlBody
    }

    /// One message (body characters `from..<to` of `total`) as text and as structured content, every piece
    /// of email content fenced; participants and attachments listed up to `listCap` each.
    func renderMessage(
        _ m: CaptureDatabase.ThreadMessage, label: String, body: String?, from: Int, to: Int, total: Int, fence: Fence
    ) -> (text: String, value: Value) {
        let cap = listCap
        let sender = m.from?.address, date = m.date ?? m.sentAt
        let split = body != nil && (from > 0 || to < total)
        let chunk = body.map { from == 0 && to >= total ? $0 : $0.scalars(from, to) }

        // Text: our words outside the block, the email's inside it.
        var meta = label.isEmpty ? "" : label + " "
        meta +=
            "message \(m.messageId.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) } ?? "(no Message-ID)") · \(date ?? "no date") · \(m.direction) · shared with you at \(m.visibility.rawValue) · held by \(m.owners.joined(separator: ", "))"
        if !m.investorLinks.isEmpty {
            meta += "\ninvestors: " + m.investorLinks.map { "\($0.investorId) (\($0.rule.rawValue))" }.joined(separator: ", ")
        }
        func person(_ p: CaptureDatabase.ThreadMessage.Participant) -> String {
            p.name.map { "\(Self.clip($0, 200)) <\(p.address)>" } ?? p.address
        }
        func list(_ ps: [CaptureDatabase.ThreadMessage.Participant]) -> String {
            ps.prefix(cap).map(person).joined(separator: ", ") + (ps.count > cap ? " … and \(ps.count - cap) more (not listed)" : "")
        }
        var inner: [String] = []
        if from == 0 {
            if let f = m.from { inner.append("From: \(person(f))") }
            if !m.to.isEmpty { inner.append("To: \(list(m.to))") }
            if !m.cc.isEmpty { inner.append("Cc: \(list(m.cc))") }
            if let s = m.subject { inner.append("Subject: \(Self.clip(s, 2_000))") }
            if m.visibility == .subject, let s = m.snippet { inner.append("Snippet: \(Self.clip(s, 2_000))") }
            if !m.attachments.isEmpty {
                inner.append(
                    "Attachments: "
                        + m.attachments.prefix(cap).map {
                            "\(Self.clip($0.filename ?? "(no name)", 500)) (\($0.mimeType), \($0.size) bytes, \($0.state.rawValue), attachment id \($0.id))"
                        }.joined(separator: "; ")
                        + (m.attachments.count > cap ? " … and \(m.attachments.count - cap) more (not listed)" : ""))
            }
        }
        if let chunk {
            if !inner.isEmpty { inner.append("") }
            inner.append(chunk)
        }
        var text = meta + (from > 0 ? " (continued)" : "") + "\n" + fence.wrap(inner.joined(separator: "\n"), from: sender, date: date)
        switch m.visibility {
        case .metadata: text += "\n(Shared with you at metadata level: no subject, snippet, body or attachments.)"
        case .subject: text += "\n(Shared with you at subject level: no body or attachments.)"
        case .full: break
        }
        if split {
            text +=
                "\n(Body characters \(from + 1)-\(to) of \(total); "
                + (to < total ? "the rest follows on the next page.)" : "end of the body.)")
        }

        // Structured: the CLI's keys, email content fenced.
        var c = m
        func fenced(_ p: CaptureDatabase.ThreadMessage.Participant) -> CaptureDatabase.ThreadMessage.Participant {
            var q = p
            q.name = fence.wrap(optional: p.name.map { Self.clip($0, 200) }, from: sender, date: date)
            return q
        }
        c.subject = fence.wrap(optional: m.subject.map { Self.clip($0, 2_000) }, from: sender, date: date)
        c.snippet = fence.wrap(optional: m.snippet.map { Self.clip($0, 2_000) }, from: sender, date: date)
        c.textBody = fence.wrap(optional: chunk, from: sender, date: date)
        c.htmlBody = nil
        c.participants = m.participants.prefix(cap).map(fenced)
        c.from = m.from.map(fenced)
        c.to = m.to.prefix(cap).map(fenced)
        c.cc = m.cc.prefix(cap).map(fenced)
        c.attachments = m.attachments.prefix(cap).map {
            var a = $0
            a.filename = fence.wrap(optional: $0.filename.map { Self.clip($0, 500) }, from: sender, date: date)
            return a
        }
        var object = Self.value(c).objectValue ?? [:]
        object["textBodyPart"] =
            split ? ["offset": .int(from), "length": .int(to - from), "total": .int(total)] : .null
        let omitted: [String: Value] = [
            "participants": .int(max(0, m.participants.count - cap)), "to": .int(max(0, m.to.count - cap)),
            "cc": .int(max(0, m.cc.count - cap)), "attachments": .int(max(0, m.attachments.count - cap)),
        ].filter { $0.value != .int(0) }
        if !omitted.isEmpty { object["omitted"] = .object(omitted) }
        return (text, .object(object))
    }

    // MARK: - get_message

    func getMessage(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.getMessage
        try args.only(["messageId", "cursor"], tool: tool)
        let id = try args.requiredString("messageId", "the RFC Message-ID, as in messageIds of a thread")
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        guard let found = try await readModel.message(rfcId: id, for: viewer, surface: .mcp) else {
            throw ToolError("no such message: \(id)")
        }
        if let e = cursor?.email, e != found.message.id {
            throw ToolError("this cursor belongs to another message; call get_message again without it")
        }
        return Prepared { fence in
            let header = "Message \(id) in thread \(found.threadId) (open the whole conversation with get_thread)"
            let page = messagePage(
                [found.message], from: (0, max(0, cursor?.bodyOffset ?? 0)), envelopeText: Budget.size(header) + 400,
                envelopeJSON: Budget.size([
                    "threadId": .int(Int(found.threadId)), "message": .null, "nextCursor": .string(String(repeating: "x", count: 300)),
                ]),
                fence: fence)
            let next = page.next.map { PageCursor(tool: tool, stamp: stamp, email: $0.email, bodyOffset: $0.offset).encoded() }
            return Answer(
                text: header + "\n\n" + page.texts.joined(separator: "\n\n") + Self.footer(tool, next),
                structured: [
                    "threadId": .int(Int(found.threadId)), "message": page.values.first ?? .null,
                    "nextCursor": next.map(Value.string) ?? .null,
                ],
                messages: 1, items: 1)
        }
    }

    // MARK: - search_threads

    func searchThreads(_ args: Arguments, _ viewer: Viewer) async throws -> Prepared {
        let tool = ToolCatalog.searchThreads
        try args.only(["query", "limit", "cursor"], tool: tool)
        let query = try args.requiredString("query", "search words and operators, e.g. investor:inv-42 \"term sheet\" after:2024-01-01")
        let limit = try args.integer("limit", default: 20, 1...50) ?? 20
        let (stamp, cursor) = try self.cursor(tool, args, viewer)
        let skip = max(0, cursor?.offset ?? 0)
        let page = try await readModel.search(query, for: viewer, limit: limit, cursor: cursor?.search, surface: .mcp)
        let results = Array(page.results.dropFirst(skip))
        let senders = try await readModel.senders(ofMessageIds: results.compactMap(\.matchedMessageId), for: viewer)
        return Prepared { fence in
            let estimate = "Search \"\(query)\": \(results.count) thread(s) you may see, best match first"
            let filled = listPage(
                count: results.count, headerText: estimate,
                emptyJSON: Budget.size(["results": [], "nextCursor": .string(String(repeating: "x", count: 300))])
            ) { i in
                let r = results[i]
                let who = r.matchedMessageId.flatMap { senders[ReadModelIds.bare($0)] }
                var f = r
                f.subject = fence.wrap(optional: r.subject.map { Self.clip($0, 2_000) }, from: who?.from, date: who?.date ?? r.lastAt)
                f.snippet = fence.wrap(Self.clip(r.snippet, 2_000), from: who?.from, date: who?.date ?? r.lastAt)
                var inner: [String] = []
                if let s = r.subject { inner.append("Subject: \(Self.clip(s, 2_000))") }
                inner.append("Snippet: \(Self.clip(r.snippet, 2_000))")
                var line = "thread \(r.threadId) · last \(r.lastAt ?? "unknown")"
                if let mid = r.matchedMessageId { line += " · best match: message \(mid)" }
                line += " · mailboxes: \(r.mailboxes.joined(separator: ", "))"
                if !r.investorIds.isEmpty { line += " · investors: \(r.investorIds.joined(separator: ", "))" }
                return (
                    line + "\n" + fence.wrap(inner.joined(separator: "\n"), from: who?.from, date: who?.date ?? r.lastAt), Self.value(f)
                )
            }
            let next: String?
            if filled.count < results.count {
                next = PageCursor(tool: tool, stamp: stamp, offset: skip + filled.count, search: cursor?.search).encoded()
            } else {
                next = page.nextCursor.map { PageCursor(tool: tool, stamp: stamp, offset: 0, search: $0).encoded() }
            }
            let header =
                filled.count == 0
                ? "Search \"\(query)\": no (more) threads you may see match."
                : "Search \"\(query)\": \(filled.count) thread(s) you may see, best match first"
            let text = header + (filled.texts.isEmpty ? "" : "\n\n" + filled.texts.joined(separator: "\n\n")) + Self.footer(tool, next)
            return Answer(
                text: text, structured: ["results": .array(filled.values), "nextCursor": next.map(Value.string) ?? .null],
                messages: filled.count, items: filled.count)
        }
    }

    // MARK: - Shared rendering

    /// Fills a page with list items (rendered lazily) while they fit; at least one.
    func listPage(
        count: Int, from start: Int = 0, headerText: String, emptyJSON: Int, item: (Int) -> (text: String, value: Value)
    ) -> (texts: [String], values: [Value], count: Int) {
        var fill = PageFill(budget: budget, envelopeText: Budget.size(headerText) + 400, envelopeJSON: emptyJSON)
        var texts: [String] = [], values: [Value] = []
        var i = start
        while i < count {
            let (t, v) = item(i)
            let tt = Budget.size(t) + 2, tj = Budget.size(v)
            if !fill.fits(text: tt, json: tj) && !texts.isEmpty { break }
            fill.add(text: tt, json: tj)
            texts.append(t)
            values.append(v)
            i += 1
        }
        return (texts, values, texts.count)
    }

    static func footer(_ tool: String, _ next: String?) -> String {
        guard let next else { return "\n\n(Last page.)" }
        return "\n\nMore follows: call \(tool) again with the same arguments and cursor: \(next)"
    }

    /// At most `max` characters; a longer value is shortened visibly (never silently).
    static func clip(_ s: String, _ max: Int) -> String {
        let n = s.unicodeScalars.count
        guard n > max else { return s }
        return s.scalars(0, max) + " …[\(n - max) more characters not shown]"
    }

    /// Any encodable value as an MCP `Value` (its JSON).
    static func value<T: Encodable>(_ x: T) -> Value {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(x), let v = try? JSONDecoder().decode(Value.self, from: data) else { return .null }
        return v
    }
}

/// Message-ID spelling shared with the read model: without angle brackets or surrounding whitespace.
enum ReadModelIds {
    static func bare(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
    }
}
