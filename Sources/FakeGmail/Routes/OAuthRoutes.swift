import Foundation

/// `POST /token` and the consent step `GET /o/oauth2/v2/auth`.
extension FakeGmail {
    func tokenEndpoint(_ request: FakeRequest) -> FakeResponse {
        count("oauth2.token")
        guard request.method == "POST" else {
            return record(request, method: "oauth2.token", user: nil, batchPart: nil,
                          response: OAuthServer.OAuthError(status: 405, error: "invalid_request", description: "POST required").response, fault: nil)
        }
        let form = FakeRequest.parseQuery(String(decoding: request.body, as: UTF8.self))
        let call = FaultPlan.Call(method: "oauth2.token", httpMethod: "POST", path: request.path, user: nil, batchPart: nil)
        if let rule = faults.pick(call, random: &model.random) {
            let status = rule.status ?? 500
            let r: FakeResponse
            if let reason = rule.reason, status < 500 {
                r = OAuthServer.OAuthError(status: status, error: reason, description: rule.message ?? reason).response
            } else {
                var resp = OAuthServer.OAuthError(status: status, error: "internal_failure", description: rule.message ?? "Backend Error").response
                resp.transportFault = rule.transport
                r = resp
            }
            return record(request, method: "oauth2.token", user: nil, batchPart: nil, response: r, fault: describe(rule))
        }
        let now = model.clock.nowMillis
        let minted = model.ids.token(40)
        let users = Set(model.mailboxes.keys)
        let result = oauth.exchange(form: form, tokenURLs: [tokenURL], knownUser: { users.contains($0.lowercased()) }, now: now) { minted }
        switch result {
        case .success(let json):
            return record(request, method: "oauth2.token", user: nil, batchPart: nil, response: .json(200, json), fault: nil)
        case .failure(let e):
            return record(request, method: "oauth2.token", user: nil, batchPart: nil, response: e.response, fault: nil)
        }
    }

    /// Auto-approving consent: redirects to `redirect_uri` with `code` and the caller's `state`.
    /// The user is `login_hint`, else the first mailbox.
    func consent(_ request: FakeRequest) -> FakeResponse {
        count("oauth2.auth")
        guard let clientID = request.queryValue("client_id"), oauth.clients[clientID] != nil else {
            return FakeResponse(status: 401, headers: [("Content-Type", "text/plain")], body: Array("Error 401: invalid_client".utf8))
        }
        guard let redirect = request.queryValue("redirect_uri") else {
            return FakeResponse(status: 400, headers: [("Content-Type", "text/plain")], body: Array("Error 400: redirect_uri_mismatch".utf8))
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
        return record(request, method: "oauth2.auth", user: user, batchPart: nil,
                      response: FakeResponse(status: 302, headers: [("Location", location)], body: []), fault: nil)
    }
}
