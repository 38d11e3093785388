import Foundation
import MIMEKit

extension ParsedMessage {
    /// The stable JSON shape of `gmail-capture parse --json` (documented in the README), without `file`.
    ///
    /// Keys: subject, from, to, cc, bcc, replyTo, date (ISO 8601 UTC), messageId, inReplyTo, references,
    /// textBody, htmlBody, attachments [{filename, mimeType, size, sha256, contentId, inline}], problems.
    public var cliJSON: [(String, JSONValue)] {
        [
            ("subject", .optional(subject)),
            ("from", from.map(Self.addressJSON) ?? .null),
            ("to", .array(to.map(Self.addressJSON))),
            ("cc", .array(cc.map(Self.addressJSON))),
            ("bcc", .array(bcc.map(Self.addressJSON))),
            ("replyTo", .array(replyTo.map(Self.addressJSON))),
            ("date", .optional(date.map(DateParser.iso8601))),
            ("messageId", .optional(messageId)),
            ("inReplyTo", .optional(inReplyTo)),
            ("references", .array(references.map(JSONValue.string))),
            ("textBody", .optional(textBody)),
            ("htmlBody", .optional(htmlBody)),
            (
                "attachments",
                .array(
                    attachments.map { a in
                        .object([
                            ("filename", .optional(a.filename)),
                            ("mimeType", .string(a.mimeType)),
                            ("size", .int(Int64(a.size))),
                            ("sha256", .optional(a.sha256)),
                            ("contentId", .optional(a.contentId)),
                            ("inline", .bool(a.inline)),
                        ])
                    })
            ),
            ("problems", .array(problems.map(JSONValue.string))),
        ]
    }

    static func addressJSON(_ a: MailAddress) -> JSONValue {
        .object([("name", .optional(a.name)), ("address", .string(a.address))])
    }

    /// A short human-readable summary (the non-JSON output of `gmail-capture parse`).
    public var summary: String {
        func addr(_ a: MailAddress) -> String { a.name.map { "\($0) <\(a.address)>" } ?? a.address }
        var lines: [String] = []
        lines.append("Subject:  \(subject ?? "(none)")")
        lines.append("From:     \(from.map(addr) ?? "(none)")")
        if !to.isEmpty { lines.append("To:       \(to.map(addr).joined(separator: ", "))") }
        if !cc.isEmpty { lines.append("Cc:       \(cc.map(addr).joined(separator: ", "))") }
        lines.append("Date:     \(date.map(DateParser.iso8601) ?? "(none)")")
        lines.append("Message-ID: \(messageId ?? "(none)")")
        if let t = textBody {
            let preview = t.split(whereSeparator: \.isNewline).prefix(3).joined(separator: " / ")
            lines.append("Text:     \(t.count) chars: \(preview.prefix(120))")
        }
        if let h = htmlBody { lines.append("HTML:     \(h.count) chars") }
        for a in attachments {
            lines.append("Attachment \(a.partId): \(a.filename ?? "(no name)") \(a.mimeType) \(a.size) bytes\(a.inline ? " inline" : "")")
        }
        if hasCalendar { lines.append("Calendar: yes") }
        for p in problems { lines.append("Problem:  \(p)") }
        return lines.joined(separator: "\n")
    }
}
