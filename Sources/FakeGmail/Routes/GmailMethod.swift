/// The Gmail API methods the fake serves, by Google's method id (the raw value, as the journal, the
/// request counters and the quota tables name them). Dispatch, the route switch and the quota costs
/// are keyed by this type, so a misspelt method is a compile error and a new method must be routed.
///
/// FakeGmail's own definition: GmailCapture has a separate `GmailMethod` for the client. The two
/// modules share nothing but MIMEKit, so the fake stays an independent reading of Google's API (a
/// client mistake in a shared table could not hide behind the fake agreeing with it).
public enum GmailMethod: String, Sendable, CaseIterable, Codable {
    case getProfile = "gmail.users.getProfile"
    case messagesList = "gmail.users.messages.list"
    case messagesGet = "gmail.users.messages.get"
    case messagesAttachmentsGet = "gmail.users.messages.attachments.get"
    case historyList = "gmail.users.history.list"
    case threadsList = "gmail.users.threads.list"
    case threadsGet = "gmail.users.threads.get"
    case labelsList = "gmail.users.labels.list"
    case labelsGet = "gmail.users.labels.get"
    case watch = "gmail.users.watch"
    case stop = "gmail.users.stop"

    static let idPrefix = "gmail.users."

    /// The id without `gmail.users.` (`messages.get`), as fault rules may name it.
    public var shortName: String { String(rawValue.dropFirst(Self.idPrefix.count)) }

    /// A method by its full id (`gmail.users.messages.get`) or its short form (`messages.get`).
    public init?(id: String) {
        if let m = GmailMethod(rawValue: id) {
            self = m
        } else if let m = GmailMethod(rawValue: Self.idPrefix + id) {
            self = m
        } else {
            return nil
        }
    }
}

/// What a request to the fake is, as the request counters, the journal and fault matching see it:
/// a Gmail method, the batch envelope, a part refused inside a batch, the token endpoint, the consent
/// page, or an unsupported Gmail resource. The string forms are the wire names in `stats()` and the
/// journal (unchanged; this type only keeps them out of the code paths).
enum FakeEndpoint: Sendable, Equatable {
    case gmail(GmailMethod)
    /// `POST /batch/gmail/v1`, the envelope itself.
    case batch
    /// A batch part refused before dispatch (the per-user concurrency cap); journaled, not counted.
    case batchPart
    /// `POST /token`.
    case oauthToken
    /// `GET /o/oauth2/v2/auth`.
    case oauthConsent
    /// A path under `/gmail/v1/users/{id}/` the fake does not serve (the resource is the first segment).
    case unsupported(resource: String)
    /// A Cloud Pub/Sub REST method (`pubsub.projects.subscriptions.pull`), by its discovery id.
    case pubsub(String)

    /// The name in the journal.
    var journalName: String {
        switch self {
        case .gmail(let m): return m.rawValue
        case .batch: return "batch"
        case .batchPart: return "batch.part"
        case .oauthToken: return "oauth2.token"
        case .oauthConsent: return "oauth2.auth"
        case .unsupported(let resource): return GmailMethod.idPrefix + resource
        case .pubsub(let id): return id
        }
    }

    /// The key in `stats().requests`.
    var counterName: String {
        switch self {
        case .unsupported: return journalName + ".unsupported"
        default: return journalName
        }
    }
}
