public import Foundation
import MIMEKit

extension MessageParser {
    /// How a file on disk is to be read.
    public enum InputKind: String, Sendable, CaseIterable {
        /// JSON when the first non-blank byte is `{`, else raw RFC 822.
        case auto
        /// Raw RFC 822 (.eml).
        case raw
        /// A Gmail `Message` JSON (format=full or raw), or an export `{"full": ..., "raw": ..., "attachments": ...}`.
        case gmailJSON = "gmail-json"
    }

    /// Parses bytes read from a file (`CaptureFiles` reads them): JSON or raw RFC 822 as `input` says.
    /// Malformed mail still parses (problems listed); JSON that is not a Gmail message or export throws.
    public func parse(bytes: [UInt8], input: InputKind = .auto) throws -> ParsedMessage {
        var kind = input
        if kind == .auto {
            let first = bytes.first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
            kind = first == UInt8(ascii: "{") ? .gmailJSON : .raw
        }
        switch kind {
        case .raw, .auto: return parse(raw: bytes)
        case .gmailJSON: return try parseGmailExport(Data(bytes))
        }
    }

    /// Parses a Gmail Message JSON, or an export object holding `full` (preferred) or `raw` plus `attachments`.
    public func parseGmailExport(_ data: Data) throws -> ParsedMessage {
        struct Export: Decodable {
            var full: GmailMessageResource?
            var raw: GmailMessageResource?
            var attachments: [String: GmailMessagePartBody]?
        }
        if let export = try? JSONDecoder().decode(Export.self, from: data), export.full != nil || export.raw != nil {
            var attachmentData: [String: [UInt8]] = [:]
            for (id, body) in export.attachments ?? [:] {
                if let d = body.data { attachmentData[id] = Base64.decode(Array(d.utf8)) }
            }
            if let full = export.full, full.payload != nil {
                return try parse(gmail: full, attachmentData: attachmentData)
            }
            return try parse(gmail: export.raw ?? export.full!, attachmentData: attachmentData)
        }
        return try parse(gmailJSON: data)
    }
}
