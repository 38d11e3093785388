import Foundation
import MIMEKit

/// Routing: parse the request, authenticate, apply scripted faults and quota, call the model, render.
extension FakeGmail {
    /// Serves one request (in-process front door; the HTTP server calls this too).
    public func handle(_ request: FakeRequest) -> FakeResponse {
        dispatch(request, batchPart: nil)
    }

    struct GmailCall {
        var method: GmailMethod
        var user: String  // the mailbox (resolved from userId)
        var params: [String]  // path ids after the user
    }

    func dispatch(_ request: FakeRequest, batchPart: Int?) -> FakeResponse {
        let path = request.path
        if path.hasPrefix("/__fake") { return control(request) }
        if path == "/token" || path == "/o/oauth2/token" || path == "/oauth2/v4/token" {
            return tokenEndpoint(request)
        }
        if path == "/o/oauth2/v2/auth" || path == "/o/oauth2/auth" { return consent(request) }
        if path == "/oauth2/v3/certs" { return FakeResponse.json(200, pushOIDC.jwks()) }
        if path.hasPrefix("/v1/projects/") {
            guard batchPart == nil else { return FakeGmailError.badRequest("Pub/Sub calls cannot be batched here").response }
            return pubsub(request)
        }
        if path == "/batch" || path == "/batch/gmail/v1" || path == "/batch/gmail/v1/" {
            guard batchPart == nil else { return FakeGmailError.badRequest("nested batch").response }
            return batch(request)
        }
        guard path.hasPrefix("/gmail/v1/users/") else {
            return FakeGmailError(code: 404, message: "Not Found: \(path)", reason: "notFound").response
        }
        let segments = path.dropFirst("/gmail/v1/users/".count).split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        guard let userId = segments.first, !userId.isEmpty else { return FakeGmailError.badRequest("Missing userId").response }
        let method: GmailMethod
        var ids: [String] = []
        switch (request.method, Array(segments.dropFirst())) {
        case ("GET", ["profile"]): method = .getProfile
        case ("GET", ["messages"]): method = .messagesList
        case ("GET", let s) where s.count == 2 && s[0] == "messages": method = .messagesGet; ids = [s[1]]
        case ("GET", let s) where s.count == 4 && s[0] == "messages" && s[2] == "attachments":
            method = .messagesAttachmentsGet; ids = [s[1], s[3]]
        case ("GET", ["history"]): method = .historyList
        case ("GET", ["threads"]): method = .threadsList
        case ("GET", let s) where s.count == 2 && s[0] == "threads": method = .threadsGet; ids = [s[1]]
        case ("GET", ["labels"]): method = .labelsList
        case ("GET", let s) where s.count == 2 && s[0] == "labels": method = .labelsGet; ids = [s[1]]
        case ("POST", ["watch"]): method = .watch
        case ("POST", ["stop"]): method = .stop
        default:
            let unsupported = FakeEndpoint.unsupported(resource: segments.dropFirst().first ?? "")
            count(unsupported)
            return record(
                request, unsupported, user: nil, batchPart: batchPart,
                response: FakeGmailError.notImplemented("\(request.method) \(path)").response, fault: nil)
        }
        let endpoint = FakeEndpoint.gmail(method)
        count(endpoint)

        // Authentication: Bearer header or access_token parameter, valid on the virtual clock.
        let bearer =
            request.header("Authorization").flatMap { h -> String? in
                let parts = h.split(separator: " ", maxSplits: 1)
                return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
            } ?? request.queryValue("access_token") ?? request.queryValue("oauth_token")
        guard let token = bearer else {
            return record(request, endpoint, user: nil, batchPart: batchPart, response: FakeGmailError.loginRequired.response, fault: nil)
        }
        guard let grant = oauth.accessTokens[token], grant.expiresAtMillis > model.clock.nowMillis else {
            return record(
                request, endpoint, user: nil, batchPart: batchPart, response: FakeGmailError.invalidCredentials.response, fault: nil)
        }
        guard grant.scopes.contains(where: { OAuthServer.gmailReadScopes.contains($0) }) else {
            return record(
                request, endpoint, user: grant.email, batchPart: batchPart, response: FakeGmailError.insufficientScope.response, fault: nil)
        }
        let user = grant.email
        if userId != "me" && userId.lowercased() != user.lowercased() {
            return record(
                request, endpoint, user: user, batchPart: batchPart,
                response: FakeGmailError.delegationDenied(userId).response, fault: nil)
        }
        guard model.mailbox(user) != nil else {
            return record(
                request, endpoint, user: user, batchPart: batchPart, response: FakeGmailError.mailServiceNotEnabled.response, fault: nil)
        }

        // Scripted faults come first: a faulted call is not charged.
        let call = FaultPlan.Call(endpoint: endpoint, httpMethod: request.method, path: path, user: user, batchPart: batchPart)
        let rule = faults.pick(call, random: &model.random)
        if let rule, let answer = faultAnswer(rule) {
            return record(request, endpoint, user: user, batchPart: batchPart, response: answer, fault: describe(rule))
        }

        // Quota, then the call itself.
        switch quota.charge(method, user: user, now: model.clock.nowMillis) {
        case .ok: break
        case .userExhausted(let wait):
            rateLimited[user.lowercased(), default: 0] += 1
            let retry = rfc3339(model.clock.nowMillis + wait)
            let e: FakeGmailError =
                quota.config.perUserStatus == 403
                ? FakeGmailError(
                    code: 403, message: "User-rate limit exceeded.  Retry after \(retry)", reason: "userRateLimitExceeded",
                    domain: "usageLimits")
                : FakeGmailError(
                    code: 429, message: "User-rate limit exceeded.  Retry after \(retry)", reason: "rateLimitExceeded",
                    domain: "usageLimits")
            return record(request, endpoint, user: user, batchPart: batchPart, response: e.response, fault: "quota: user")
        case .projectExhausted(let wait):
            rateLimited[user.lowercased(), default: 0] += 1
            let e = FakeGmailError(
                code: 403, message: "Rate Limit Exceeded.  Retry after \(rfc3339(model.clock.nowMillis + wait))",
                reason: "rateLimitExceeded", domain: "usageLimits")
            return record(request, endpoint, user: user, batchPart: batchPart, response: e.response, fault: "quota: project")
        }
        var response: FakeResponse
        do {
            let pretty = request.queryValue("prettyPrint").map { $0 != "false" } ?? true
            let answer = try gmail(GmailCall(method: method, user: user, params: ids), request)
            // users.stop answers 204 with no body.
            response = method == .stop ? FakeResponse(status: 204) : FakeResponse.json(200, answer, pretty: pretty)
        } catch let e as FakeGmailError {
            response = e.response
        } catch {
            response = FakeGmailError.fault(status: 500, reason: nil, message: nil).response
        }
        applyFaultEffects(rule, to: &response)
        return record(request, endpoint, user: user, batchPart: batchPart, response: response, fault: rule.map { describe($0) })
    }

    /// The effects of a fired rule that come before the call is served: its latency passes on the virtual
    /// clock; a `status` answers the call with Google's error body (`retryAfter` as a `Retry-After`
    /// header, `retryAfterText` in the message), `render` turning the error into a response (Google's
    /// envelope unless told otherwise); a dropped connection answers it too. Nil: serve the call, then
    /// pass its answer through `applyFaultEffects`.
    func faultAnswer(_ rule: FaultRule, render: (FakeGmailError) -> FakeResponse = { $0.response }) -> FakeResponse? {
        if let l = rule.latencyMs { model.advance(millis: Int64(l)) }
        if let status = rule.status {
            var e = FakeGmailError.fault(status: status, reason: rule.reason, message: rule.message)
            if let t = rule.retryAfterText {
                e.message += "  Retry after \(rfc3339(model.clock.nowMillis + Int64(t) * 1000))"
            }
            if let ra = rule.retryAfter { e.extraHeaders["Retry-After"] = String(ra) }
            var r = render(e)
            r.transportFault = rule.transport
            if rule.malformedBody == true { r.body = Array("{\"error\": {\"code\": \(status), \"mess".utf8) }
            return r
        }
        if rule.transport == .dropConnection { return FakeResponse(status: 503, transportFault: .dropConnection) }
        return nil
    }

    /// The effects of a fired rule (if any) on the answer actually served: a malformed or truncated body.
    func applyFaultEffects(_ rule: FaultRule?, to response: inout FakeResponse) {
        if rule?.malformedBody == true {
            response.body = Array(response.body.prefix(max(1, response.body.count / 2))) + Array("\u{0}garbage".utf8)
        }
        response.transportFault = rule?.transport
    }

    func count(_ endpoint: FakeEndpoint) { requestCounts[endpoint.counterName, default: 0] += 1 }

    func record(
        _ request: FakeRequest, _ endpoint: FakeEndpoint, user: String?, batchPart: Int?, response: FakeResponse,
        fault: String?
    ) -> FakeResponse {
        journaled += 1
        journalEntries.append(
            JournalEntry(
                seq: journaled, atMillis: model.clock.nowMillis, method: endpoint.journalName,
                httpMethod: request.method, path: request.path, user: user, batchPart: batchPart,
                status: response.status, fault: fault ?? response.transportFault.map { "transport: \($0.rawValue)" }))
        // Drop the oldest in slices of a tenth, so trimming stays amortised O(1) per request.
        if journalEntries.count > options.journalLimit + max(1, options.journalLimit / 10) {
            journalEntries.removeFirst(journalEntries.count - options.journalLimit)
        }
        return response
    }

    func describe(_ r: FaultRule) -> String {
        var parts: [String] = []
        if let s = r.status { parts.append("status \(s)") }
        if let reason = r.reason { parts.append(reason) }
        if let t = r.transport { parts.append(t.rawValue) }
        if r.malformedBody == true { parts.append("malformed body") }
        if let l = r.latencyMs { parts.append("latency \(l) ms") }
        return "fault: " + parts.joined(separator: ", ")
    }

    /// `2026-09-11T20:00:00.000Z`, as Google writes retry times.
    func rfc3339(_ ms: Int64) -> String {
        let iso = DateParser.iso8601(Date(timeIntervalSince1970: TimeInterval(ms / 1000)))
        let frac = ms % 1000
        return iso.replacingOccurrences(of: "Z", with: String(format: ".%03dZ", frac))
    }
}
