import Crypto
import Foundation

/// AES-256-GCM for secrets at rest (OAuth refresh tokens), under CRM_GMAIL_SECRET_KEY.
/// Sealed form: `v1:` + base64(nonce ‖ ciphertext ‖ tag). A wrong key or a tampered blob is an error,
/// never garbage.
public struct SecretBox: Sendable {
    let key: SymmetricKey

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badKey
        case malformed
        case cannotDecrypt
        public var description: String {
            switch self {
            case .badKey: return "the secret key must be 32 bytes (CRM_GMAIL_SECRET_KEY, base64)"
            case .malformed: return "the encrypted value is not in the v1 sealed format"
            case .cannotDecrypt: return "the encrypted value cannot be decrypted: wrong CRM_GMAIL_SECRET_KEY or the value was altered"
            }
        }
    }

    public init(key: Data) throws {
        guard key.count == 32 else { throw Failure.badKey }
        self.key = SymmetricKey(data: key)
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw Failure.malformed }
        return "v1:" + combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))), data.count > 28 else {
            throw Failure.malformed
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain = try AES.GCM.open(box, using: key)
            guard let s = String(data: plain, encoding: .utf8) else { throw Failure.cannotDecrypt }
            return s
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure.cannotDecrypt
        }
    }
}

/// The OAuth `state` parameter: bound to the CRM user, expiring, HMAC-signed with a key derived from
/// CRM_GMAIL_SECRET_KEY. Checked on the callback.
public struct OAuthStateSigner: Sendable {
    let key: SymmetricKey

    public enum Failure: Error, Equatable { case malformed, badSignature, expired, wrongUser }

    public init(secretKey: Data) {
        key = SymmetricKey(data: HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secretKey),
                                                       info: Data("gmail-capture oauth state".utf8), outputByteCount: 32))
    }

    /// `base64url(userId|expiry|nonce).base64url(hmac)`.
    public func make(userId: String, expires: Date, nonce: String) -> String {
        let payload = "\(userId)|\(Int(expires.timeIntervalSince1970))|\(nonce)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return b64(Data(payload.utf8)) + "." + b64(Data(mac))
    }

    /// Returns the user id when the state is authentic, unexpired and (when given) for `expectedUser`.
    public func verify(_ state: String, now: Date, expectedUser: String? = nil) throws -> String {
        let parts = state.split(separator: ".")
        guard parts.count == 2, let payload = unb64(String(parts[0])), let mac = unb64(String(parts[1])) else { throw Failure.malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { throw Failure.badSignature }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 3, let exp = Int(fields[1]) else { throw Failure.malformed }
        guard now.timeIntervalSince1970 < Double(exp) else { throw Failure.expired }
        let user = String(fields[0])
        if let e = expectedUser, e != user { throw Failure.wrongUser }
        return user
    }

    func b64(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    func unb64(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}

extension OAuthStateSigner {
    /// The user id a state claims (unverified; `verify` checks it). Used to find whose callback it is.
    public static func peekUser(_ state: String) throws -> String {
        let parts = state.split(separator: ".")
        guard parts.count == 2 else { throw Failure.malformed }
        var t = String(parts[0]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        guard let d = Data(base64Encoded: t), let s = String(data: d, encoding: .utf8), let user = s.split(separator: "|").first else { throw Failure.malformed }
        return String(user)
    }
}
