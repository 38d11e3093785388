import Crypto
import Foundation

/// Signs the URLs a sandboxed mail frame may load without a cookie (inline images) and the link warning
/// page: an HMAC-SHA256 over the URL's purpose, its parameters and its expiry, so a URL cannot be made
/// for another message, part, destination or viewer, nor used after it expires. The key is random per
/// server process unless one is given (signed URLs then end with the process, which only costs a reload).
struct URLSigner: Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey = SymmetricKey(size: .bits256)) {
        self.key = key
    }

    /// The signature (base64url, no padding) of `parts` valid until `expires` (Unix seconds).
    func signature(_ parts: [String], expires: Int64) -> String {
        let message = (parts + [String(expires)]).map { "\($0.utf8.count):\($0)" }.joined()
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Self.base64url(Data(mac))
    }

    /// Whether `signature` signs `parts` and `expires`, and `expires` is not past `now` (constant time).
    func verify(_ parts: [String], expires: Int64, signature: String, now: Date) -> Bool {
        guard Double(expires) > now.timeIntervalSince1970, let given = Self.decode(signature) else { return false }
        let message = (parts + [String(expires)]).map { "\($0.utf8.count):\($0)" }.joined()
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(message.utf8), using: key)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
