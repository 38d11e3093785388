import Crypto
public import Foundation
import CaptureParsing

/// AES-256-GCM for secrets at rest (OAuth refresh tokens), under a key derived from
/// CRM_GMAIL_SECRET_KEY with HKDF (separate from the key that signs the OAuth `state`).
///
/// Sealed form: `v2:` + base64(nonce ‖ ciphertext ‖ tag), with the mailbox (lowercased) as AES-GCM
/// additional data, so a sealed token copied onto another mailbox's row does not open. Rows written
/// before v2 (`v1:`, the raw key, no binding) still open; `needsReseal` tells the caller to write them
/// again as v2. A wrong key, a tampered blob or the wrong mailbox is an error, never garbage.
public struct SecretBox: Sendable {
    let key: SymmetricKey
    /// The raw CRM_GMAIL_SECRET_KEY, only to open `v1:` rows.
    let legacyKey: SymmetricKey

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badKey
        case malformed
        case cannotDecrypt
        public var description: String {
            switch self {
            case .badKey: return "the secret key must be 32 bytes (CRM_GMAIL_SECRET_KEY, base64)"
            case .malformed: return "the encrypted value is not in the v1 or v2 sealed format"
            case .cannotDecrypt:
                return
                    "the encrypted value cannot be decrypted: wrong CRM_GMAIL_SECRET_KEY, the value was altered, or it belongs to another mailbox"
            }
        }
    }

    public init(key: Data) throws {
        guard key.count == 32 else { throw Failure.badKey }
        legacyKey = SymmetricKey(data: key)
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: legacyKey, info: Data("gmail-capture refresh-token sealing v2".utf8), outputByteCount: 32)
    }

    /// Seals `plaintext` for one mailbox (`v2:`).
    public func seal(_ plaintext: String, for mailbox: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Self.context(mailbox))
        guard let combined = box.combined else { throw Failure.malformed }
        return "v2:" + combined.base64EncodedString()
    }

    /// Opens a `v2:` value sealed for `mailbox`, or a legacy `v1:` value.
    public func open(_ sealed: String, for mailbox: String) throws -> String {
        let v2 = sealed.hasPrefix("v2:")
        guard v2 || sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))), data.count > 28 else {
            throw Failure.malformed
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain =
                v2 ? try AES.GCM.open(box, using: key, authenticating: Self.context(mailbox)) : try AES.GCM.open(box, using: legacyKey)
            guard let s = String(data: plain, encoding: .utf8) else { throw Failure.cannotDecrypt }
            return s
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure.cannotDecrypt
        }
    }

    /// True for values in an older format, to be sealed again as v2.
    public static func needsReseal(_ sealed: String) -> Bool { !sealed.hasPrefix("v2:") }

    static func context(_ mailbox: String) -> Data { Data("gmail-capture refresh token for \(mailbox.lowercased())".utf8) }

    /// A `v1:` value as releases before v2 wrote it (tests of the upgrade path).
    package func sealLegacyV1(_ plaintext: String) throws -> String {
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: legacyKey).combined else { throw Failure.malformed }
        return "v1:" + combined.base64EncodedString()
    }
}

/// The OAuth `state` parameter: bound to the CRM user, expiring, HMAC-signed with a key derived from
/// CRM_GMAIL_SECRET_KEY. Checked on the callback.
public struct OAuthStateSigner: Sendable {
    let key: SymmetricKey

    public enum Failure: Error, Equatable { case malformed, badSignature, expired, wrongUser }

    public init(secretKey: Data) {
        key = SymmetricKey(
            data: HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: secretKey),
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
        try claims(state, now: now, expectedUser: expectedUser).user
    }

    /// The user id and the nonce of an authentic, unexpired state.
    public func claims(_ state: String, now: Date, expectedUser: String? = nil) throws -> (user: String, nonce: String) {
        let parts = state.split(separator: ".")
        guard parts.count == 2, let payload = unb64(String(parts[0])), let mac = unb64(String(parts[1])) else { throw Failure.malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { throw Failure.badSignature }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 3, let exp = Int(fields[1]) else { throw Failure.malformed }
        guard now.timeIntervalSince1970 < Double(exp) else { throw Failure.expired }
        let user = String(fields[0])
        if let e = expectedUser, e != user { throw Failure.wrongUser }
        return (user, String(fields[2]))
    }

    func b64(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
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
        guard let d = Data(base64Encoded: t), let s = String(data: d, encoding: .utf8), let user = s.split(separator: "|").first else {
            throw Failure.malformed
        }
        return String(user)
    }
}
