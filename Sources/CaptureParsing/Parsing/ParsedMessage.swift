public import Foundation
public import MIMEKit

/// The canonical form of one email, whether it came from Gmail's `format=full` payload or from raw
/// RFC 822 bytes. Both front ends produce the same value for the same message.
public struct ParsedMessage: Sendable, Equatable, Codable {
    // Gmail metadata (nil when parsing a bare .eml).
    public var gmailId: String?
    public var threadId: String?
    public var labelIds: [String] = []
    /// Gmail's internalDate (epoch milliseconds), when known.
    public var internalDateMillis: Int64?
    public var historyId: String?
    public var sizeEstimate: Int?
    /// Gmail's snippet, only when the message came from Gmail.
    public var snippet: String?

    // RFC 5322 identity and threading.
    /// Message-ID without angle brackets.
    public var messageId: String?
    public var inReplyTo: String?
    public var references: [String] = []

    public var subject: String?
    public var from: MailAddress?
    public var sender: MailAddress?
    public var replyTo: [MailAddress] = []
    public var to: [MailAddress] = []
    public var cc: [MailAddress] = []
    public var bcc: [MailAddress] = []
    public var deliveredTo: [MailAddress] = []
    /// The Date header in UTC.
    public var date: Date?
    /// Every header in order, encoded-words decoded, unfolded, whitespace runs collapsed.
    public var headers: [Header] = []

    /// The text/plain body (LF line ends), else text derived from the HTML body.
    public var textBody: String?
    public var htmlBody: String?
    public var attachments: [ParsedAttachment] = []
    /// True when the message carries a text/calendar (or application/ics) part.
    public var hasCalendar = false
    /// What was malformed and how it was handled.
    public var problems: [String] = []

    public init() {}

    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
}

/// One attachment (or inline resource) of a message.
public struct ParsedAttachment: Sendable, Equatable, Codable {
    /// Gmail-style part path ("1", "0.1.2").
    public var partId: String
    /// Decoded file name (RFC 2231 / RFC 2047); data only, never used as a path.
    public var filename: String?
    /// Lowercased `type/subtype`.
    public var mimeType: String
    /// Size in bytes after transfer decoding.
    public var size: Int
    /// Content-ID without angle brackets.
    public var contentId: String?
    /// True for `Content-Disposition: inline` or an undispositioned part with a Content-ID.
    public var inline: Bool
    /// Gmail's (ephemeral) attachment id, when the data was not inline.
    public var attachmentId: String?
    /// Lowercase hex SHA-256 of the decoded bytes, when they were available.
    public var sha256: String?

    public init(
        partId: String, filename: String?, mimeType: String, size: Int, contentId: String?, inline: Bool,
        attachmentId: String?, sha256: String?
    ) {
        self.partId = partId
        self.filename = filename
        self.mimeType = mimeType
        self.size = size
        self.contentId = contentId
        self.inline = inline
        self.attachmentId = attachmentId
        self.sha256 = sha256
    }
}
