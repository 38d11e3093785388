import Foundation
import CaptureParsing

/// What Gmail publishes to the topic: `{"emailAddress", "historyId"}` (historyId a JSON number as Gmail
/// sends it, or a string as the push guide shows it). Only a hint: the stored cursor decides what a sync fetches.
public struct GmailPushNotification: Decodable, Sendable, Equatable {
    public var emailAddress: String
    public var historyId: String

    public init(emailAddress: String, historyId: String) {
        self.emailAddress = emailAddress
        self.historyId = historyId
    }

    enum CodingKeys: String, CodingKey { case emailAddress, historyId }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        emailAddress = try c.decode(String.self, forKey: .emailAddress)
        historyId = try FlexibleNumber.decode(c, .historyId)
    }

    /// Decodes a message's data bytes (after base64), or nil when they are not a Gmail notification.
    public static func decode(data: [UInt8]) -> GmailPushNotification? {
        guard let n = try? JSONDecoder().decode(GmailPushNotification.self, from: Data(data)),
            AddressNormalizer.canonical(n.emailAddress) != nil
        else { return nil }
        return n
    }
}

/// A Pub/Sub push request body, as far as the receiver reads it.
public enum PushEnvelope {
    /// Why a body is not a push request (the route answers 400: Pub/Sub retries, and a fixed
    /// subscription makes the redelivery succeed).
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// What a body holds.
    public enum Content: Sendable, Equatable {
        /// A Gmail notification, with the Pub/Sub message id (nil for an unwrapped push).
        case notification(GmailPushNotification, messageId: String?)
        /// A well-formed Pub/Sub message whose data is not a Gmail notification: it can never succeed,
        /// so it is acknowledged (204) and dropped.
        case notGmail(messageId: String?)
    }

    /// Reads the wrapped envelope `{"message": {"data", "messageId"|"message_id", …}, "subscription"}`, or an
    /// unwrapped push (`noWrapper`: the body is the data itself).
    public static func parse(_ body: [UInt8]) throws -> Content {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw Malformed(description: "the body is not a JSON object")
        }
        if object["message"] == nil, object["emailAddress"] != nil {
            guard let n = GmailPushNotification.decode(data: body) else { return .notGmail(messageId: nil) }
            return .notification(n, messageId: nil)
        }
        guard let message = object["message"] as? [String: Any] else {
            throw Malformed(description: "the body has no \"message\" object (a Pub/Sub push envelope)")
        }
        let id = (message["messageId"] as? String) ?? (message["message_id"] as? String)
        guard let text = message["data"] as? String else {
            // A message without data cannot be a Gmail notification (and never will be).
            return .notGmail(messageId: id)
        }
        guard let data = decodeBase64(text) else { throw Malformed(description: "message.data is not base64") }
        guard let n = GmailPushNotification.decode(data: data) else { return .notGmail(messageId: id) }
        return .notification(n, messageId: id)
    }

    /// Standard or URL-safe base64, padded or not; nil when it is neither.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        s = s.filter { !$0.isWhitespace }
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map { Array($0) }
    }
}
