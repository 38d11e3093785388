import Foundation

/// The control plane under `/__fake` (no auth). Each route maps to a Swift method on `FakeGmail`.
///
/// | route | Swift |
/// |---|---|
/// | `POST /__fake/users` `{"email"}` | `addUser` |
/// | `POST /__fake/users/{email}/messages?labelIds=A,B&internalDate=MS` (raw body; or `labelIds=A&labelIds=B`) | `insertMessage` |
/// | `DELETE /__fake/users/{email}/messages/{id}` | `deleteMessage` |
/// | `POST /__fake/users/{email}/messages/{id}/labels` `{"add","remove"}` | `modifyLabels` |
/// | `POST /__fake/users/{email}/history/expire` | `expireHistory` |
/// | `POST /__fake/users/{email}/revoke` | `revokeUser` |
/// | `POST /__fake/faults` (a `FaultRule` as JSON), `DELETE /__fake/faults` | `addFault`, `clearFaults` |
/// | `GET /__fake/stats`, `GET /__fake/journal` | `stats`, `journal` |
/// | `POST /__fake/reset` | `reset` |
/// | `POST /__fake/clock/advance` `{"seconds"}`, `GET /__fake/clock` | `advanceClock`, `nowMillis` |
/// | `GET /__fake/service-account` | `serviceAccountKeyJSON` |
/// | `POST /__fake/delegation` `{"authorized"}` | `setDelegationAuthorized` |
/// | `POST /__fake/oauth-clients` `{"id","secret"}` | `registerOAuthClient` |
/// | `POST /__fake/users/{email}/token` | `accessToken(for:)` |
/// | `GET /__fake/users/{email}/watch`, `POST .../watch/expire`, `POST .../watch/notify`, `/__fake/push/...` | see `pushControl` |
extension FakeGmail {
    func control(_ r: FakeRequest) -> FakeResponse {
        let segs = r.path.split(separator: "/").dropFirst().map { String($0).removingPercentEncoding ?? String($0) }
        let ok: FakeResponse = .json(200, .object([("ok", .bool(true))]))
        do {
            if let answer = try pushControl(r, segs) { return answer }
            switch (r.method, segs) {
            case ("POST", ["users"]):
                guard let email = WireJSON.parseObject(r.body)?["email"] as? String else {
                    throw FakeGmailError.badRequest("body must be {\"email\": ...}")
                }
                addUser(email)
                return ok
            case ("POST", let s) where s.count == 3 && s[0] == "users" && s[2] == "messages":
                // One comma-separated value (`labelIds=A,B`), repeated parameters (`labelIds=A&labelIds=B`,
                // Gmail's convention for lists), or a mix; absent means INBOX and UNREAD.
                let given = r.queryValues("labelIds")
                let labels = given.isEmpty ? ["INBOX", "UNREAD"] : given.flatMap { $0.split(separator: ",").map(String.init) }
                var date: Int64?
                if let d = r.queryValue("internalDate") {
                    guard let v = Int64(d) else { throw FakeGmailError.badRequest("internalDate must be epoch milliseconds") }
                    date = v
                }
                guard !r.body.isEmpty else { throw FakeGmailError.badRequest("body must be a raw RFC 822 message") }
                let m = try insertMessage(user: s[1], raw: r.body, labelIds: labels, internalDate: date)
                return .json(200, .object([("id", .string(m.id)), ("threadId", .string(m.threadId)), ("historyId", .string(m.historyId))]))
            case ("DELETE", let s) where s.count == 4 && s[0] == "users" && s[2] == "messages":
                try deleteMessage(user: s[1], id: s[3])
                return ok
            case ("POST", let s) where s.count == 5 && s[0] == "users" && s[2] == "messages" && s[4] == "labels":
                let body = WireJSON.parseObject(r.body) ?? [:]
                try modifyLabels(user: s[1], id: s[3], add: body["add"] as? [String] ?? [], remove: body["remove"] as? [String] ?? [])
                return ok
            case ("POST", let s) where s.count == 4 && s[0] == "users" && s[2] == "history" && s[3] == "expire":
                try expireHistory(user: s[1])
                return ok
            case ("POST", let s) where s.count == 3 && s[0] == "users" && s[2] == "revoke":
                revokeUser(s[1])
                return ok
            case ("POST", let s) where s.count == 3 && s[0] == "users" && s[2] == "token":
                return .json(200, .object([("access_token", .string(accessToken(for: s[1])))]))
            case ("POST", ["faults"]):
                let rule: FaultRule
                do { rule = try JSONDecoder().decode(FaultRule.self, from: Data(r.body)) } catch {
                    throw FakeGmailError.badRequest("invalid fault rule: \(error)")
                }
                try addFault(rule)
                return ok
            case ("DELETE", ["faults"]):
                clearFaults()
                return ok
            case ("GET", ["stats"]):
                let s = stats()
                func obj(_ d: [String: Int]) -> WireJSON {
                    .object(d.sorted { $0.key < $1.key }.map { ($0.key, .number(Int64($0.value))) })
                }
                return .json(
                    200, .object([("requests", obj(s.requests)), ("quotaUnits", obj(s.quotaUnits)), ("rateLimited", obj(s.rateLimited))]))
            case ("GET", ["journal"]):
                let data = (try? JSONEncoder().encode(journal())) ?? Data("[]".utf8)
                return FakeResponse(status: 200, headers: [("Content-Type", "application/json")], body: [UInt8](data))
            case ("POST", ["reset"]):
                reset()
                return ok
            case ("GET", ["clock"]):
                return .json(200, .object([("nowMillis", .number(nowMillis()))]))
            case ("POST", ["clock", "advance"]):
                guard let secs = (WireJSON.parseObject(r.body)?["seconds"] as? NSNumber)?.doubleValue, secs >= 0 else {
                    throw FakeGmailError.badRequest("body must be {\"seconds\": n} with n >= 0")
                }
                advanceClock(seconds: secs)
                return .json(200, .object([("nowMillis", .number(nowMillis()))]))
            case ("GET", ["service-account"]):
                return FakeResponse(
                    status: 200, headers: [("Content-Type", "application/json")], body: [UInt8](try serviceAccountKeyJSON()))
            case ("POST", ["delegation"]):
                setDelegationAuthorized(WireJSON.parseObject(r.body)?["authorized"] as? Bool ?? true)
                return ok
            case ("POST", ["oauth-clients"]):
                let b = WireJSON.parseObject(r.body) ?? [:]
                guard let id = b["id"] as? String, let secret = b["secret"] as? String else {
                    throw FakeGmailError.badRequest("body must be {\"id\", \"secret\"}")
                }
                registerOAuthClient(id: id, secret: secret)
                return ok
            default:
                throw FakeGmailError(code: 404, message: "No control route \(r.method) \(r.path)", reason: "notFound")
            }
        } catch let e as FakeGmailError {
            return e.response
        } catch {
            return FakeGmailError.badRequest("\(error)").response
        }
    }
}
