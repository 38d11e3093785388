import Foundation
import MIMEKit

/// A message stored in a fake mailbox: the raw RFC 822 bytes plus what the fake indexes for search
/// and threading. Rendering to Gmail's JSON happens in the wire layer.
struct FakeMessage: Sendable {
    let id: UInt64
    var threadId: UInt64
    /// Label ids in the order they were applied.
    var labelIds: [String]
    let internalDate: Int64
    /// Id of the last history record that touched this message.
    var historyId: UInt64
    /// The immutable bulk, shared by reference: copying a message (lists filter whole mailboxes)
    /// costs one retain instead of one per field.
    let content: Content

    final class Content: Sendable {
        let raw: [UInt8]
        let index: SearchIndex
        /// partId -> decoded size of the parts rendered with an attachmentId.
        let attachmentSizes: [String: Int]
        init(raw: [UInt8], index: SearchIndex) {
            self.raw = raw
            self.index = index
            attachmentSizes = index.hasAttachment ? PayloadRenderer.attachmentSizes(MIMEMessage.parse(raw)) : [:]
        }
    }

    init(id: UInt64, threadId: UInt64, labelIds: [String], internalDate: Int64, raw: [UInt8], historyId: UInt64, index: SearchIndex) {
        self.id = id
        self.threadId = threadId
        self.labelIds = labelIds
        self.internalDate = internalDate
        self.historyId = historyId
        content = Content(raw: raw, index: index)
    }

    var raw: [UInt8] { content.raw }
    var index: SearchIndex { content.index }

    struct SearchIndex: Sendable {
        var from: String
        var to: String
        var cc: String
        var bcc: String
        var subject: String
        var rfc822MessageID: String?
        var references: [String]
        var hasAttachment: Bool
        /// The distinct words (lowercased letters and digits) of the subject, addresses and text, each
        /// between spaces (`" deal memo q3 "`), for bare-word search. Gmail matches words, not
        /// substrings; phrases are confirmed against `searchText` of the raw message.
        var words: String
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
        for leaf in m.leaves() {
            let ct = leaf.contentType.mimeType
            if leaf.filename != nil || !(ct.hasPrefix("text/") || ct.hasPrefix("multipart/") || ct.hasPrefix("message/")) {
                hasAttachment = true
            }
        }
        let subject = value("Subject")
        let from = value("From"), to = value("To"), cc = value("Cc"), bcc = value("Bcc")
        return SearchIndex(
            from: from, to: to, cc: cc, bcc: bcc, subject: subject,
            rfc822MessageID: ids("Message-ID").first, references: ids("In-Reply-To") + ids("References"),
            hasAttachment: hasAttachment,
            words: distinctWords(searchText(m)),
            snippet: Snippet.make(m))
    }

    /// What bare-word search looks at, lowercased: subject, From, To, Cc, then the words of the text
    /// parts (or of the HTML parts when there is no text part: the two halves of a
    /// multipart/alternative say the same thing), up to 64 KiB.
    static func searchText(_ m: MIMEMessage) -> String {
        var problems: [String] = []
        func value(_ name: String) -> String {
            m.root.headers.all(name).map { $0.decodedText(problems: &problems) }.joined(separator: ", ")
        }
        var plain: [MIMEPart] = [], html: [MIMEPart] = []
        for leaf in m.leaves() {
            let ct = leaf.contentType.mimeType
            guard leaf.filename == nil else { continue }
            if ct == "text/plain" { plain.append(leaf) } else if ct == "text/html" { html.append(leaf) }
        }
        var text = ""
        for leaf in plain.isEmpty ? html : plain where text.utf8.count < 64 * 1024 {
            let body = m.text(leaf, problems: &problems)
            text += " " + (leaf.contentType.mimeType == "text/html" ? HTMLText.text(fromHTML: body) : body)
        }
        return [value("Subject"), value("From"), value("To"), value("Cc"), text].joined(separator: " ").lowercased()
    }

    /// Lowercased runs of letters and digits.
    static func words(_ s: String) -> [Substring] {
        // ASCII characters (CR LF included) are letters or digits exactly when alphanumeric; only other
        // characters need the Unicode property lookup (which was most of the fake's insert time).
        s.lowercased().split { c in
            if let a = c.asciiValue { return !((0x30...0x39).contains(a) || (0x61...0x7A).contains(a) || (0x41...0x5A).contains(a)) }
            return !(c.isLetter || c.isNumber)
        }
    }

    static func distinctWords(_ s: String) -> String {
        var seen = Set<Substring>()
        var out = " "
        for w in words(s) where seen.insert(w).inserted {
            out += w
            out += " "
        }
        return out
    }

    /// Whether the message contains the word, or the words in a row for a phrase.
    func matches(words query: String) -> Bool {
        let q = Self.words(query)
        guard !q.isEmpty else { return true }
        guard q.allSatisfy({ index.words.contains(" \($0) ") }) else { return false }
        if q.count == 1 { return true }
        let text = Self.words(Self.searchText(MIMEMessage.parse(raw)))
        guard text.count >= q.count else { return false }
        return (0...(text.count - q.count)).contains { i in text[i..<(i + q.count)].elementsEqual(q) }
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
    static let all = [
        "INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CHAT",
        "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS",
    ]
    /// System labels shown with visibility fields; the rest omit them, as Gmail does for several.
    static let withVisibility: Set<String> = ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT"]

    static func make() -> [String: FakeLabel] {
        var d: [String: FakeLabel] = [:]
        for id in all {
            let vis = withVisibility.contains(id)
            d[id] = FakeLabel(
                id: id, name: id, type: "system",
                messageListVisibility: vis ? (id == "SPAM" || id == "TRASH" ? "hide" : "show") : nil,
                labelListVisibility: vis ? (id == "UNREAD" ? "labelHide" : "labelShow") : nil)
        }
        return d
    }
}
