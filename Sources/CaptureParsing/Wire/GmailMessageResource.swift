import Foundation

// GmailCapture's own view of Gmail's wire resources (gmail.v1.json). Deliberately not shared with
// FakeGmail: the fake renders these shapes independently, so a disagreement shows up in tests.

/// `Message` (users.messages.get). int64 fields are JSON strings on the wire.
public struct GmailMessageResource: Codable, Sendable, Equatable {
    public var id: String?
    public var threadId: String?
    public var labelIds: [String]?
    public var snippet: String?
    public var historyId: String?
    public var internalDate: String?
    public var sizeEstimate: Int?
    public var payload: GmailMessagePart?
    public var raw: String?

    public init(
        id: String? = nil, threadId: String? = nil, labelIds: [String]? = nil, snippet: String? = nil,
        historyId: String? = nil, internalDate: String? = nil, sizeEstimate: Int? = nil,
        payload: GmailMessagePart? = nil, raw: String? = nil
    ) {
        self.id = id
        self.threadId = threadId
        self.labelIds = labelIds
        self.snippet = snippet
        self.historyId = historyId
        self.internalDate = internalDate
        self.sizeEstimate = sizeEstimate
        self.payload = payload
        self.raw = raw
    }
}

/// `MessagePart`: one node of the payload tree.
public struct GmailMessagePart: Codable, Sendable, Equatable {
    public var partId: String?
    public var mimeType: String?
    public var filename: String?
    public var headers: [GmailHeader]?
    public var body: GmailMessagePartBody?
    public var parts: [GmailMessagePart]?
}

/// `MessagePartHeader`.
public struct GmailHeader: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
}

/// `MessagePartBody` (also the attachments.get response).
public struct GmailMessagePartBody: Codable, Sendable, Equatable {
    public var attachmentId: String?
    public var size: Int?
    public var data: String?
}
