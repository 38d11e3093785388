import Foundation
import MIMEKit

/// Gmail resources as JSON, keys in Gmail's observed order; int64 values as strings.
enum Resources {
    enum Format: String { case minimal, metadata, full, raw }

    static func message(_ m: FakeMessage, format: Format, metadataHeaders: [String], attachmentId: (String) -> String) -> WireJSON {
        var pairs: [(String, WireJSON)] = [("id", .string(m.id.gmailHex)), ("threadId", .string(m.threadId.gmailHex))]
        if !m.labelIds.isEmpty { pairs.append(("labelIds", .array(m.labelIds.map(WireJSON.string)))) }
        pairs.append(("snippet", .string(m.snippet)))
        switch format {
        case .minimal:
            pairs.append(("sizeEstimate", .number(Int64(m.raw.count))))
        case .raw:
            pairs.append(("sizeEstimate", .number(Int64(m.raw.count))))
            pairs.append(("raw", .string(Base64.encode(m.raw, urlSafe: true, padded: true))))
        case .metadata:
            let mime = MIMEMessage.parse(m.raw)
            let wanted = Set(metadataHeaders.map { $0.lowercased() })
            let headers = mime.root.headers.fields.filter { wanted.isEmpty || wanted.contains($0.name.lowercased()) }
            pairs.append(
                (
                    "payload",
                    .object([
                        ("mimeType", .string(mime.root.contentType.mimeType)),
                        ("headers", .array(headers.map(PayloadRenderer.header))),
                    ])
                ))
            pairs.append(("sizeEstimate", .number(Int64(m.raw.count))))
        case .full:
            let mime = MIMEMessage.parse(m.raw)
            let payload = withoutActuallyEscaping(attachmentId) {
                PayloadRenderer(message: mime, attachmentId: $0, knownSizes: m.content.attachmentSizes).payload()
            }
            pairs.append(("payload", payload))
            pairs.append(("sizeEstimate", .number(Int64(m.raw.count))))
        }
        pairs.append(("historyId", .string(String(m.historyId))))
        pairs.append(("internalDate", .string(String(m.internalDate))))
        return .object(pairs)
    }

    static func ref(_ m: FakeMessage) -> WireJSON {
        .object([("id", .string(m.id.gmailHex)), ("threadId", .string(m.threadId.gmailHex))])
    }

    static func historyRecord(_ r: HistoryRecord) -> WireJSON {
        let ref: [(String, WireJSON)] = [("id", .string(r.messageId.gmailHex)), ("threadId", .string(r.threadId.gmailHex))]
        let withLabels: WireJSON = .object(ref + (r.labelIds.isEmpty ? [] : [("labelIds", .array(r.labelIds.map(WireJSON.string)))]))
        var pairs: [(String, WireJSON)] = [("id", .string(String(r.id))), ("messages", .array([.object(ref)]))]
        switch r.kind {
        case .messageAdded:
            pairs.append(("messagesAdded", .array([.object([("message", withLabels)])])))
        case .messageDeleted:
            pairs.append(("messagesDeleted", .array([.object([("message", .object(ref))])])))
        case .labelAdded:
            pairs.append(
                ("labelsAdded", .array([.object([("message", withLabels), ("labelIds", .array(r.changedLabelIds.map(WireJSON.string)))])])))
        case .labelRemoved:
            pairs.append(
                (
                    "labelsRemoved",
                    .array([.object([("message", withLabels), ("labelIds", .array(r.changedLabelIds.map(WireJSON.string)))])])
                ))
        }
        return .object(pairs)
    }

    static func label(_ l: FakeLabel, counts: (total: Int, unread: Int, threads: Int, threadsUnread: Int)?) -> WireJSON {
        var pairs: [(String, WireJSON)] = [("id", .string(l.id)), ("name", .string(l.name))]
        if let v = l.messageListVisibility { pairs.append(("messageListVisibility", .string(v))) }
        if let v = l.labelListVisibility { pairs.append(("labelListVisibility", .string(v))) }
        pairs.append(("type", .string(l.type)))
        if let c = counts {
            pairs += [
                ("messagesTotal", .number(Int64(c.total))), ("messagesUnread", .number(Int64(c.unread))),
                ("threadsTotal", .number(Int64(c.threads))), ("threadsUnread", .number(Int64(c.threadsUnread))),
            ]
        }
        return .object(pairs)
    }
}

extension FakeMessage {
    /// Gmail's snippet of this message (computed once per message).
    var snippet: String { index.snippet }
}
