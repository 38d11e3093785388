import Foundation

/// `POST /token` and the consent step `GET /o/oauth2/v2/auth`.
extension FakeGmail {
    func tokenEndpoint(_ request: FakeRequest) -> FakeResponse {
        count(.oauthToken)
        guard request.method == "POST" else {
            return record(
                request, .oauthToken, user: nil, batchPart: nil,
                response: OAuthServer.OAuthError(status: 405, error: "invalid_request", description: "POST required").response, fault: nil)
        }
        let form = FakeRequest.parseQuery(String(decoding: request.body, as: UTF8.self))
        // Scripted faults, with every effect a Gmail call gets (latency, Retry-After, retry text,
        // transport, malformed body); errors in the token endpoint's own shape, `{"error", "error_description"}`.
        let call = FaultPlan.Call(endpoint: .oauthToken, httpMethod: request.method, path: request.path, user: nil, batchPart: nil)
        let rule = faults.pick(call, random: &model.random)
        if let rule,
            let answer = faultAnswer(
                rule,
                render: { e in
                    let reason = e.code < 500 ? rule.reason : nil
                    let error = reason ?? "internal_failure"
                    var description = rule.message ?? reason ?? "Backend Error"
                    if let t = rule.retryAfterText { description += "  Retry after \(rfc3339(model.clock.nowMillis + Int64(t) * 1000))" }
                    var r = OAuthServer.OAuthError(status: e.code, error: error, description: description).response
                    for (k, v) in e.extraHeaders.sorted(by: { $0.key < $1.key }) { r.headers.append((k, v)) }
                    return r
                })
        {
            return record(request, .oauthToken, user: nil, batchPart: nil, response: answer, fault: describe(rule))
        }
        let now = model.clock.nowMillis
        let minted = model.ids.token(40)
        let users = Set(model.mailboxes.keys)
        let result = oauth.exchange(form: form, tokenURLs: [tokenURL], knownUser: { users.contains($0.lowercased()) }, now: now) { minted }
        var response: FakeResponse
        switch result {
        case .success(let json): response = .json(200, json)
        case .failure(let e): response = e.response
        }
        applyFaultEffects(rule, to: &response)
        return record(request, .oauthToken, user: nil, batchPart: nil, response: response, fault: rule.map { describe($0) })
    }

    /// Auto-approving consent: redirects to `redirect_uri` with `code` and the caller's `state`.
    /// The user is `login_hint`, else the first mailbox.
    func consent(_ request: FakeRequest) -> FakeResponse {
        count(.oauthConsent)
        guard let clientID = request.queryValue("client_id"), oauth.clients[clientID] != nil else {
            return FakeResponse(status: 401, headers: [("Content-Type", "text/plain")], body: Array("Error 401: invalid_client".utf8))
        }
        guard let redirect = request.queryValue("redirect_uri") else {
            return FakeResponse(
                status: 400, headers: [("Content-Type", "text/plain")], body: Array("Error 400: redirect_uri_mismatch".utf8))
        }
        let user = request.queryValue("login_hint") ?? users().first ?? ""
        guard model.mailbox(user) != nil else {
            return FakeResponse(status: 400, headers: [("Content-Type", "text/plain")], body: Array("Error 400: unknown user".utf8))
        }
        let scopes = Set((request.queryValue("scope") ?? "").split(separator: " ").map(String.init))
        let code = "4/fake-" + model.ids.token(30)
        oauth.codes[code] = OAuthServer.Grant(clientID: clientID, email: user, scopes: scopes, redirectURI: redirect)
        var comps = URLComponents(string: redirect) ?? URLComponents()
        var items = comps.queryItems ?? []
        items.append(URLQueryItem(name: "code", value: code))
        if let state = request.queryValue("state") { items.append(URLQueryItem(name: "state", value: state)) }
        items.append(URLQueryItem(name: "scope", value: scopes.sorted().joined(separator: " ")))
        comps.queryItems = items
        let location = comps.string ?? redirect
        return record(
            request, .oauthConsent, user: user, batchPart: nil,
            response: FakeResponse(status: 302, headers: [("Location", location)], body: []), fault: nil)
    }
}
