public import Foundation

/// One message as the relationship figures see it: metadata only (never content).
///
/// Addresses are canonical (`AddressNormalizer.canonical`), Message-IDs normalised without brackets
/// (`MessageIdentity.normalizedMessageID`). One value per stored message: the copies in several
/// teammates' mailboxes are one message whose `holders` lists those mailboxes.
public struct InteractionMessage: Sendable, Equatable {
    public var id: Int64
    public var threadId: Int64
    /// The Date header, else the earliest internalDate among its mailbox copies.
    public var at: Date
    /// Normalised, no brackets.
    public var messageId: String?
    /// Normalised.
    public var inReplyTo: String?
    /// Normalised, in header order (oldest ancestor first).
    public var references: [String]
    /// Canonical address (`AddressNormalizer.canonical`).
    public var from: String?
    /// Canonical, in header order.
    public var to: [String]
    public var cc: [String]
    public var bcc: [String]
    /// Teammates (lowercased mailbox addresses) whose mailboxes hold it, sorted.
    public var holders: [String]

    public init(
        id: Int64, threadId: Int64, at: Date, messageId: String? = nil, inReplyTo: String? = nil, references: [String] = [],
        from: String?, to: [String] = [], cc: [String] = [], bcc: [String] = [], holders: [String]
    ) {
        self.id = id
        self.threadId = threadId
        self.at = at
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.holders = holders
    }
}
