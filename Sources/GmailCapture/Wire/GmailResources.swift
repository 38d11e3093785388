import Foundation
import CaptureParsing

// GmailCapture's decoding of the Gmail resources it reads (field names from gmail.v1.json).

public struct GmailProfile: Codable, Sendable, Equatable {
    public var emailAddress: String
    public var messagesTotal: Int?
    public var threadsTotal: Int?
    public var historyId: String
}

public struct GmailMessageRef: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var threadId: String?
    public var labelIds: [String]?
}

public struct GmailMessageList: Codable, Sendable, Equatable {
    public var messages: [GmailMessageRef]?
    public var nextPageToken: String?
    public var resultSizeEstimate: Int?
}

public struct GmailHistoryRecord: Codable, Sendable, Equatable {
    public struct Added: Codable, Sendable, Equatable { public var message: GmailMessageRef }
    public struct LabelChange: Codable, Sendable, Equatable {
        public var message: GmailMessageRef
        public var labelIds: [String]?
    }
    public var id: String
    public var messages: [GmailMessageRef]?
    public var messagesAdded: [Added]?
    public var messagesDeleted: [Added]?
    public var labelsAdded: [LabelChange]?
    public var labelsRemoved: [LabelChange]?
}

public struct GmailHistoryList: Codable, Sendable, Equatable {
    public var history: [GmailHistoryRecord]?
    public var nextPageToken: String?
    public var historyId: String
}

public struct GmailLabel: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var type: String?
}

public struct GmailLabelList: Codable, Sendable, Equatable {
    public var labels: [GmailLabel]?
}
