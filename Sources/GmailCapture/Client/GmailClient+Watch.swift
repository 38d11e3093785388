public import Foundation
import CaptureParsing

/// `users.watch` and `users.stop`: Gmail push notifications to a Cloud Pub/Sub topic, through the same
/// send path as every other call (quota, token, retries, classification).
extension GmailClient {
    /// Starts (or renews) push notifications for `mailbox` to `topicName` (`projects/P/topics/T`),
    /// optionally only for changes touching `labelIds` (`labelFilterBehavior` INCLUDE).
    public func watch(mailbox: String, topicName: String, labelIds: [String] = []) async throws -> GmailWatchResponse {
        var body: [String: Any] = ["topicName": topicName]
        if !labelIds.isEmpty {
            body["labelIds"] = labelIds
            body["labelFilterBehavior"] = "INCLUDE"
        }
        let bytes = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
        return try await post(.watch, mailbox: mailbox, path: "watch", body: bytes, decode: Self.json(GmailWatchResponse.self))
    }

    /// Stops push notifications for `mailbox` (Gmail answers 204 with no body).
    public func stop(mailbox: String) async throws {
        // Gmail answers 204 with no body; a body, if any, must be JSON.
        try await post(.stop, mailbox: mailbox, path: "stop", body: []) { r in
            r.body.isEmpty || (try? JSONSerialization.jsonObject(with: Data(r.body))) != nil ? () : nil
        }
    }

    func post<T>(
        _ method: GmailMethod, mailbox: String, path: String, body: [UInt8], decode: (TransportResponse) -> T?
    ) async throws -> T {
        let target = url(mailbox, path, [])
        return try await perform(method: method, mailbox: mailbox, units: costs.cost(method), decode: decode) { token in
            TransportRequest(
                method: "POST", url: target,
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: body, operation: method)
        }
    }
}

/// What `users.watch` answers: the mailbox's current historyId and when the watch lapses (epoch ms).
/// Gmail writes both as strings; numbers are accepted too.
public struct GmailWatchResponse: Decodable, Sendable, Equatable {
    public var historyId: String
    /// Epoch milliseconds.
    public var expiration: Int64

    public init(historyId: String, expiration: Int64) {
        self.historyId = historyId
        self.expiration = expiration
    }

    public var expiresAt: Date { Date(timeIntervalSince1970: TimeInterval(expiration) / 1000) }

    enum CodingKeys: String, CodingKey { case historyId, expiration }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        historyId = try FlexibleNumber.decode(c, .historyId)
        guard let ms = Int64(try FlexibleNumber.decode(c, .expiration)) else {
            throw DecodingError.dataCorruptedError(forKey: .expiration, in: c, debugDescription: "expiration is not epoch milliseconds")
        }
        expiration = ms
    }
}

/// Google writes 64-bit numbers as JSON strings, Gmail's push notifications as JSON numbers: both read as text.
enum FlexibleNumber {
    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        if let s = try? c.decode(String.self, forKey: key) {
            guard UInt64(s) != nil else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not an unsigned integer")
            }
            return s
        }
        return String(try c.decode(UInt64.self, forKey: key))
    }
}
