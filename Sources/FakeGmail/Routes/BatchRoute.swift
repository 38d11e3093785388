import Foundation
import MIMEKit

/// `POST /batch/gmail/v1` (and `/batch`): multipart/mixed of application/http parts. Each part goes
/// through the same dispatch as a direct call (auth, faults, quota per part); one failed part never
/// fails the others; more than 100 parts is a 400 for the whole batch. The envelope itself is a call
/// too (method id `batch`, no user, no part index): a fault rule matching it answers the whole batch.
extension FakeGmail {
    static let batchLimit = 100

    func batch(_ request: FakeRequest) -> FakeResponse {
        count(.batch)
        let call = FaultPlan.Call(endpoint: .batch, httpMethod: request.method, path: request.path, user: nil, batchPart: nil)
        let rule = faults.pick(call, random: &model.random)
        if let rule, let answer = faultAnswer(rule) {
            return record(request, .batch, user: nil, batchPart: nil, response: answer, fault: describe(rule))
        }
        guard let ct = request.header("Content-Type"), ct.lowercased().hasPrefix("multipart/") else {
            return record(
                request, .batch, user: nil, batchPart: nil,
                response: FakeGmailError.badRequest("Batch requests must be multipart/mixed").response, fault: nil)
        }
        let envelope = Array("Content-Type: \(ct)\r\n\r\n".utf8) + request.body
        let mime = MIMEMessage.parse(envelope, limits: MIMELimits(maxDepth: 2, maxParts: 1_000, maxHeaderBytes: 64 * 1024))
        let parts = mime.root.children
        if parts.count > Self.batchLimit {
            let e = FakeGmailError.badRequest("Inner request count exceeds the limit. Received: \(parts.count), Limit: \(Self.batchLimit)")
            return record(request, .batch, user: nil, batchPart: nil, response: e.response, fault: nil)
        }
        if parts.isEmpty {
            return record(
                request, .batch, user: nil, batchPart: nil, response: FakeGmailError.badRequest("Empty batch").response, fault: nil)
        }
        let outerAuth = request.header("Authorization")
        var perUser: [String: Int] = [:]
        let boundary = "batch_" + model.ids.token(22)
        var out: [UInt8] = []
        for (index, part) in parts.enumerated() {
            let contentID = part.contentID ?? part.headers["Content-ID"]
            var inner = parseInnerRequest(Array(mime.rawBody(part)))
            var response: FakeResponse
            if var req = inner {
                if req.header("Authorization") == nil, let a = outerAuth { req.headers.append(("Authorization", a)) }
                inner = req
                // Gmail's per-user concurrency limit: parts beyond the cap in one batch are refused.
                let who = tokenUser(req) ?? ""
                perUser[who, default: 0] += 1
                if quota.config.enabled && perUser[who]! > quota.config.concurrentPerUser {
                    rateLimited[who.lowercased(), default: 0] += 1
                    let e = FakeGmailError(
                        code: 429, message: "Too many concurrent requests for user", reason: "rateLimitExceeded", domain: "usageLimits")
                    response = record(req, .batchPart, user: who, batchPart: index, response: e.response, fault: "quota: concurrency")
                } else {
                    response = dispatch(req, batchPart: index)
                }
            } else {
                response = FakeGmailError.badRequest("Malformed inner request").response
            }
            if response.transportFault == .dropConnection {
                // A part cannot drop the connection alone: Google answers it 503.
                response = FakeGmailError.fault(status: 503, reason: nil, message: nil).response
            }
            out += Array("--\(boundary)\r\nContent-Type: application/http\r\n".utf8)
            if let cid = contentID { out += Array("Content-ID: <response-\(cid)>\r\n".utf8) }
            out += Array("\r\nHTTP/1.1 \(response.status) \(Self.reasonPhrase(response.status))\r\n".utf8)
            for (k, v) in response.headers { out += Array("\(k): \(v)\r\n".utf8) }
            out += Array("Content-Length: \(response.body.count)\r\n\r\n".utf8)
            out += response.body
            out += [13, 10]
        }
        out += Array("--\(boundary)--\r\n".utf8)
        var r = FakeResponse(status: 200, headers: [("Content-Type", "multipart/mixed; boundary=\(boundary)")], body: out)
        applyFaultEffects(rule, to: &r)
        return record(request, .batch, user: nil, batchPart: nil, response: r, fault: rule.map { describe($0) })
    }

    /// `GET /gmail/v1/... HTTP/1.1` + headers + blank line + body; lenient about LF-only and a missing version.
    func parseInnerRequest(_ bytes: [UInt8]) -> FakeRequest? {
        var i = 0
        while i < bytes.count, bytes[i] == 13 || bytes[i] == 10 { i += 1 }
        guard let nl = bytes[i...].firstIndex(of: 10) else {
            return requestLine(String(decoding: bytes[i...], as: UTF8.self), headers: [], body: [])
        }
        let line = String(decoding: bytes[i..<nl], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let rest = Array(bytes[(nl + 1)...])
        let parsed = HeaderBlock.parse(rest)
        let headers = parsed.block.fields.map { ($0.name, $0.unfoldedText) }
        let body = Array(rest[min(parsed.bodyStart, rest.count)...])
        return requestLine(line, headers: headers, body: body)
    }

    private func requestLine(_ line: String, headers: [(String, String)], body: [UInt8]) -> FakeRequest? {
        let words = line.split(separator: " ")
        guard words.count >= 2 else { return nil }
        return FakeRequest(method: String(words[0]), target: String(words[1]), headers: headers, body: body)
    }

    func tokenUser(_ r: FakeRequest) -> String? {
        guard let h = r.header("Authorization") else { return nil }
        let token = h.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
        return oauth.accessTokens[token]?.email
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}
