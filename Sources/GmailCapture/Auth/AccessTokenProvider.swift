import Foundation
import CaptureParsing

/// Gives the client an access token for a mailbox. `forceRefresh` after a 401.
public protocol AccessTokenProvider: Sendable {
    func accessToken(for mailbox: String, forceRefresh: Bool) async throws -> String
}

/// A cached access token.
struct CachedToken: Sendable {
    var token: String
    var expiresAt: Date
}

/// Posts a form to a token endpoint and decodes Google's answer or its OAuth error.
enum TokenEndpoint {
    struct Answer: Decodable {
        var access_token: String?
        var expires_in: FlexibleInt?
        var refresh_token: String?
        var error: String?
        var error_description: String?
    }

    /// google-auth accepts `expires_in` as a number or a string; so do we.
    struct FlexibleInt: Decodable {
        var value: Int
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { value = i } else { value = Int(try c.decode(String.self)) ?? 3600 }
        }
    }

    static func post(_ url: String, form: [(String, String)], transport: any HTTPTransport) async throws -> Answer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        let response: TransportResponse
        do {
            response = try await transport.send(
                TransportRequest(
                    method: "POST", url: url,
                    headers: [("Content-Type", "application/x-www-form-urlencoded")],
                    body: Array(body.utf8), operation: .oauthToken, timeout: .seconds(30)))
        } catch let e as TransportError {
            throw GmailAPIError(
                classification: .retryAfterBackoff, method: .oauthToken, status: nil, reason: e.failure.rawValue,
                message: "token endpoint unreachable")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            let cls: FailureClass = response.status >= 500 ? .retryAfterBackoff : .needsAdmin
            throw GmailAPIError(
                classification: cls, method: .oauthToken, status: response.status, reason: nil,
                message: "token endpoint answered HTTP \(response.status) without a JSON body")
        }
        if response.status != 200 || answer.access_token == nil {
            let code = answer.error ?? "unknown"
            let cls = ErrorClassifier.classify(status: response.status, reason: code, oauthError: code, transport: nil, method: .oauthToken)
            throw GmailAPIError(
                classification: cls, method: .oauthToken, status: response.status, reason: code,
                message: answer.error_description ?? code)
        }
        return answer
    }
}
