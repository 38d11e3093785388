import Foundation
import MIMEKit

/// The Gmail methods in scope (the switch is exhaustive over `GmailMethod`, so a new method must be
/// served here). Each parses parameters, asks the model, renders a resource.
extension FakeGmail {
    func gmail(_ call: GmailCall, _ r: FakeRequest) throws -> WireJSON {
        guard let mb = model.mailbox(call.user) else { throw FakeGmailError.notFound }
        switch call.method {
        case .getProfile:
            return .object([
                ("emailAddress", .string(mb.email)), ("messagesTotal", .number(Int64(mb.messages.count))),
                ("threadsTotal", .number(Int64(mb.threads.count))), ("historyId", .string(String(mb.currentHistoryId))),
            ])
        case .messagesList:
            let found = try listMessages(mb, r)
            return try page(found, r, prefix: "m", anchor: { ($0.internalDate, $0.id) }, key: "messages", render: Resources.ref)
        case .messagesGet:
            let format = try formatParam(r, allowed: [.minimal, .metadata, .full, .raw])
            let m = try message(mb, call.params[0])
            model.fetchSequence += 1
            let seq = model.fetchSequence
            return Resources.message(m, format: format, metadataHeaders: r.queryValues("metadataHeaders")) { partId in
                self.mintAttachmentID(message: m.id, part: partId, seq: seq)
            }
        case .messagesAttachmentsGet:
            let m = try message(mb, call.params[0])
            let mime = MIMEMessage.parse(m.raw)
            guard let (msgID, partId) = parseAttachmentID(call.params[1]), msgID == m.id, let part = mime.part(withId: partId) else {
                throw FakeGmailError(code: 400, message: "Invalid attachment token", reason: "invalidArgument")
            }
            let bytes = mime.decodedBody(part)
            return .object([("size", .number(Int64(bytes.count))), ("data", .base64url(bytes))])
        case .historyList:
            guard let startText = r.queryValue("startHistoryId"), let start = UInt64(startText) else {
                throw FakeGmailError.badRequest("Missing/invalid parameter: startHistoryId")
            }
            var types: Set<HistoryRecord.Kind>?
            let rawTypes = r.queryValues("historyTypes")
            if !rawTypes.isEmpty {
                types = []
                for t in rawTypes {
                    guard let k = HistoryRecord.Kind(rawValue: t) else {
                        throw FakeGmailError.badRequest("Invalid value for historyTypes: \(t)")
                    }
                    types!.insert(k)
                }
            }
            let limit = try maxResults(r)
            var after: UInt64?
            if let tok = r.queryValue("pageToken") {
                guard tok.hasPrefix("h"), let v = UInt64(tok.dropFirst()) else { throw FakeGmailError.badRequest("Invalid pageToken") }
                after = v
            }
            let labelId = r.queryValue("labelId").map { mb.labelId(forNameOrId: $0) ?? $0 }
            switch model.history(mb, start: start, types: types, labelId: labelId, after: after, limit: limit) {
            case .expired:
                throw FakeGmailError.notFound
            case .records(let records, let more):
                var pairs: [(String, WireJSON)] = []
                if !records.isEmpty { pairs.append(("history", .array(records.map(Resources.historyRecord)))) }
                if more, let last = records.last { pairs.append(("nextPageToken", .string("h\(last.id)"))) }
                pairs.append(("historyId", .string(String(mb.currentHistoryId))))
                return .object(pairs)
            }
        case .threadsList:
            let found = try listMessages(mb, r)
            var seen = Set<UInt64>()
            var threads: [FakeMessage] = []  // newest message of each thread, newest first
            for m in found where !seen.contains(m.threadId) {
                seen.insert(m.threadId)
                threads.append(m)
            }
            return try page(threads, r, prefix: "t", anchor: { ($0.internalDate, $0.threadId) }, key: "threads") { m in
                let ids = mb.threads[m.threadId] ?? []
                let hid = ids.compactMap { mb.messages[$0]?.historyId }.max() ?? m.historyId
                return .object([("id", .string(m.threadId.gmailHex)), ("snippet", .string(m.snippet)), ("historyId", .string(String(hid)))])
            }
        case .threadsGet:
            guard let tid = parseGmailID(call.params[0]) else { throw FakeGmailError.invalidID }
            guard let ids = mb.threads[tid], !ids.isEmpty else { throw FakeGmailError.notFound }
            let format = try formatParam(r, allowed: [.minimal, .metadata, .full])
            let messages = ids.compactMap { mb.messages[$0] }.sorted { ($0.internalDate, $0.id) < ($1.internalDate, $1.id) }
            model.fetchSequence += 1
            let seq = model.fetchSequence
            let rendered = messages.map { m in
                Resources.message(m, format: format, metadataHeaders: r.queryValues("metadataHeaders")) { partId in
                    self.mintAttachmentID(message: m.id, part: partId, seq: seq)
                }
            }
            let hid = messages.map(\.historyId).max() ?? 0
            return .object([("id", .string(tid.gmailHex)), ("historyId", .string(String(hid))), ("messages", .array(rendered))])
        case .labelsList:
            let labels = mb.labels.values.sorted { a, b in
                if a.type != b.type { return a.type == "system" }
                if a.type == "system" {
                    return (SystemLabels.all.firstIndex(of: a.id) ?? 99) < (SystemLabels.all.firstIndex(of: b.id) ?? 99)
                }
                return a.id.localizedStandardCompare(b.id) == .orderedAscending
            }
            return .object([("labels", .array(labels.map { Resources.label($0, counts: nil) }))])
        case .watch:
            return try watch(mb, r)
        case .stop:
            stopWatch(mb)
            return .null
        case .labelsGet:
            guard let id = mb.labelId(forNameOrId: call.params[0]), let l = mb.labels[id] else { throw FakeGmailError.notFound }
            let with = mb.messages.values.filter { $0.labelIds.contains(id) }
            let unread = with.filter { $0.labelIds.contains("UNREAD") }
            return Resources.label(
                l, counts: (with.count, unread.count, Set(with.map(\.threadId)).count, Set(unread.map(\.threadId)).count))
        }
    }

    func message(_ mb: Mailbox, _ idText: String) throws -> FakeMessage {
        guard let id = parseGmailID(idText) else { throw FakeGmailError.invalidID }
        guard let m = mb.messages[id] else { throw FakeGmailError.notFound }
        return m
    }

    func formatParam(_ r: FakeRequest, allowed: [Resources.Format]) throws -> Resources.Format {
        guard let f = r.queryValue("format") else { return .full }
        guard let v = Resources.Format(rawValue: f.lowercased()), allowed.contains(v) else {
            throw FakeGmailError.badRequest("Invalid value at 'format' (\(f))")
        }
        return v
    }

    func maxResults(_ r: FakeRequest) throws -> Int {
        guard let s = r.queryValue("maxResults") else { return 100 }
        guard let n = Int(s), n >= 0 else { throw FakeGmailError.badRequest("Invalid value for maxResults: \(s)") }
        return n == 0 ? 100 : min(n, 500)
    }

    func listMessages(_ mb: Mailbox, _ r: FakeRequest) throws -> [FakeMessage] {
        var query: SearchQuery?
        if let q = r.queryValue("q"), !q.trimmingCharacters(in: .whitespaces).isEmpty {
            do { query = try SearchQuery.parse(q, now: model.clock.nowMillis) } catch let e as SearchQuery.ParseError {
                throw FakeGmailError.badRequest(e.message)
            }
        }
        let include = r.queryValue("includeSpamTrash").map { $0 == "true" || $0 == "1" } ?? false
        let labelIds = r.queryValues("labelIds").flatMap { $0.split(separator: ",").map(String.init) }
        return model.list(mb, query: query, labelIds: labelIds, includeSpamTrash: include)
    }

    /// Pages a newest-first list. The token names the last item returned (`prefix` + its internalDate
    /// + `-` + the hex id `anchor` gives), so a page stays correct when mail arrives between calls.
    func page(
        _ items: [FakeMessage], _ r: FakeRequest, prefix: String, anchor: (FakeMessage) -> (Int64, UInt64), key: String,
        render: (FakeMessage) -> WireJSON
    ) throws -> WireJSON {
        let limit = try maxResults(r)
        let token = { (m: FakeMessage) -> String in
            let a = anchor(m); return prefix + String(a.0) + "-" + a.1.gmailHex
        }
        var start = 0
        if let t = r.queryValue("pageToken") {
            let parts = t.hasPrefix(prefix) ? t.dropFirst(prefix.count).split(separator: "-") : []
            guard parts.count == 2, let date = Int64(parts[0]), let id = UInt64(parts[1], radix: 16) else {
                throw FakeGmailError.badRequest("Invalid pageToken")
            }
            if let i = items.firstIndex(where: { anchor($0) == (date, id) }) {
                start = i + 1
            } else {
                // The anchor may have been deleted: resume after the first item older than it.
                start = items.firstIndex { ($0.internalDate, $0.id) < (date, id) } ?? items.count
            }
        }
        return finish(items, start: start, limit: limit, token: token, key: key, render: render)
    }

    private func finish(
        _ items: [FakeMessage], start: Int, limit: Int, token: (FakeMessage) -> String, key: String,
        render: (FakeMessage) -> WireJSON
    ) -> WireJSON {
        let slice = items[min(start, items.count)..<min(start + limit, items.count)]
        var pairs: [(String, WireJSON)] = []
        if !slice.isEmpty { pairs.append((key, .array(slice.map(render)))) }
        if start + limit < items.count, let last = slice.last { pairs.append(("nextPageToken", .string(token(last)))) }
        pairs.append(("resultSizeEstimate", .number(Int64(items.count))))
        return .object(pairs)
    }

    /// An opaque, Gmail-looking attachment id naming the message and part; a new one per fetch.
    func mintAttachmentID(message: UInt64, part: String, seq: UInt64) -> String {
        let payload = "\(message.gmailHex)|\(part)|\(seq)|"
        var bytes = Array(payload.utf8)
        var filler = FakeRandom(seed: message ^ (seq &* 0x9E37_79B9) ^ UInt64(part.hashValueStable))
        while bytes.count < 96 { bytes.append(UInt8(truncatingIfNeeded: filler.next())) }
        return "ANGjdJ" + Base64.encode(bytes, urlSafe: true, padded: false)
    }

    func parseAttachmentID(_ s: String) -> (UInt64, String)? {
        guard s.hasPrefix("ANGjdJ") else { return nil }
        let bytes = Base64.decode(String(s.dropFirst(6)))
        let fields = bytes.split(separator: UInt8(ascii: "|"), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3, let id = UInt64(String(decoding: fields[0], as: UTF8.self), radix: 16) else { return nil }
        return (id, String(decoding: fields[1], as: UTF8.self))
    }
}

extension String {
    /// A hash that is the same in every run (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }
}
