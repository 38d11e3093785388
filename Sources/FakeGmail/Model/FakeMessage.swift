import MIMEKit

/// A message stored in a fake mailbox: the raw RFC 822 bytes plus what the fake indexes for search
/// and threading. Rendering to Gmail's JSON happens in the wire layer.
struct FakeMessage: Sendable {
    let id: UInt64
    var threadId: UInt64
    /// Label ids in the order they were applied.
    var labelIds: [String]
    let internalDate: Int64
    let raw: [UInt8]
    /// Id of the last history record that touched this message.
    var historyId: UInt64
    let index: SearchIndex

    struct SearchIndex: Sendable {
        var from: String
        var to: String
        var cc: String
        var bcc: String
        var subject: String
        var rfc822MessageID: String?
        var references: [String]
        var hasAttachment: Bool
        /// Lowercased subject, addresses and text, for bare-word search.
        var text: String
        /// Gmail's snippet (see Snippet).
        var snippet: String
    }

    static func index(_ raw: [UInt8]) -> SearchIndex {
        let m = MIMEMessage.parse(raw)
        var problems: [String] = []
        func value(_ name: String) -> String {
            m.root.headers.all(name).map { $0.decodedText(problems: &problems) }.joined(separator: ", ")
        }
        func ids(_ name: String) -> [String] {
            m.root.headers.all(name).flatMap { MessageIDParser.parseList($0.unfoldedText, problems: &problems) }
        }
        var hasAttachment = false
        var text = ""
        for leaf in m.leaves() {
            let ct = leaf.contentType.mimeType
            if leaf.filename != nil || !(ct.hasPrefix("text/") || ct.hasPrefix("multipart/") || ct.hasPrefix("message/")) {
                hasAttachment = true
            } else if ct == "text/plain" && text.utf8.count < 64 * 1024 {
                text += " " + m.text(leaf, problems: &problems)
            } else if ct == "text/html" && text.utf8.count < 64 * 1024 {
                text += " " + HTMLText.text(fromHTML: m.text(leaf, problems: &problems))
            }
        }
        let subject = value("Subject")
        let from = value("From"), to = value("To"), cc = value("Cc"), bcc = value("Bcc")
        return SearchIndex(from: from, to: to, cc: cc, bcc: bcc, subject: subject,
                           rfc822MessageID: ids("Message-ID").first, references: ids("In-Reply-To") + ids("References"),
                           hasAttachment: hasAttachment,
                           text: [subject, from, to, cc, text].joined(separator: " ").lowercased(),
                           snippet: Snippet.make(m))
    }
}

/// A label (system or user).
struct FakeLabel: Sendable {
    var id: String
    var name: String
    var type: String  // "system" | "user"
    var messageListVisibility: String?
    var labelListVisibility: String?
}

enum SystemLabels {
    static let all = ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CHAT",
                      "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS"]
    /// System labels shown with visibility fields; the rest omit them, as Gmail does for several.
    static let withVisibility: Set<String> = ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT"]

    static func make() -> [String: FakeLabel] {
        var d: [String: FakeLabel] = [:]
        for id in all {
            let vis = withVisibility.contains(id)
            d[id] = FakeLabel(id: id, name: id, type: "system",
                              messageListVisibility: vis ? (id == "SPAM" || id == "TRASH" ? "hide" : "show") : nil,
                              labelListVisibility: vis ? (id == "UNREAD" ? "labelHide" : "labelShow") : nil)
        }
        return d
    }
}
