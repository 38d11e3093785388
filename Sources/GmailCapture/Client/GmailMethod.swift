/// What a call to Google is: a Gmail API method by Google's method id, or one of the three non-Gmail
/// operations the client performs (the batch envelope, the OAuth token endpoint, the consent page).
/// The raw value is the wire name; `description` prints it too, so errors, logs and metrics read
/// `gmail.users.messages.get` exactly as they did when methods were strings. Quota costs, error
/// classification and request labels are keyed by this type, so a misspelt method is a compile error.
///
/// GmailCapture's own definition: FakeGmail has a separate `GmailMethod` for what it serves. The two
/// modules share nothing but MIMEKit, so the fake stays an independent reading of Google's API (a
/// client mistake in a shared table could not hide behind the fake agreeing with it).
public enum GmailMethod: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case getProfile = "gmail.users.getProfile"
    case messagesList = "gmail.users.messages.list"
    case messagesGet = "gmail.users.messages.get"
    case messagesAttachmentsGet = "gmail.users.messages.attachments.get"
    case historyList = "gmail.users.history.list"
    case threadsList = "gmail.users.threads.list"
    case threadsGet = "gmail.users.threads.get"
    case labelsList = "gmail.users.labels.list"
    case labelsGet = "gmail.users.labels.get"
    /// `POST users/{userId}/watch`: push notifications to a Pub/Sub topic.
    case watch = "gmail.users.watch"
    /// `POST users/{userId}/stop`.
    case stop = "gmail.users.stop"
    /// `POST /batch/gmail/v1`, the multipart envelope (each part is charged as the method it carries).
    case batch = "batch"
    /// The OAuth 2.0 token endpoint (JWT bearer grant, code exchange, refresh).
    case oauthToken = "oauth2.token"
    /// The OAuth 2.0 consent page (`/o/oauth2/v2/auth`).
    case oauthAuthorize = "oauth2.auth"

    public var description: String { rawValue }
}
