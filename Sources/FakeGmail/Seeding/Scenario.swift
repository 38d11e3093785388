public import Foundation

/// A scenario directory: `scenario.json` plus the .eml files it names.
///
/// ```json
/// {"users": [{"email": "alice@firm.example",
///             "messages": [{"eml": "mail/001.eml", "labelIds": ["INBOX", "UNREAD"], "internalDate": "1704067200000", "ref": "m1"}]}],
///  "steps": [{"op": "advance", "seconds": 60},
///            {"op": "insert", "user": "alice@firm.example", "eml": "mail/002.eml", "labelIds": ["INBOX"], "ref": "m2"},
///            {"op": "relabel", "user": "alice@firm.example", "ref": "m1", "add": ["STARRED"], "remove": ["UNREAD"]},
///            {"op": "delete", "user": "alice@firm.example", "ref": "m2"},
///            {"op": "expireHistory", "user": "alice@firm.example"},
///            {"op": "fault", "rule": {"method": "messages.get", "status": 503, "count": 2}},
///            {"op": "clearFaults"},
///            {"op": "checkpoint", "name": "after-first-changes"}]}
/// ```
/// `users` is the initial state (`seed(into:)`); `steps` are changes over virtual time that tests replay
/// (`apply(_:to:refs:)`); a `checkpoint` step does nothing in the fake and marks where a test acts (syncs,
/// asserts). `internalDate` may be a string or a number (epoch ms); `ref` names a message for later steps.
public struct Scenario: Sendable {
    public struct Message: Sendable {
        public var eml: String
        public var raw: [UInt8]
        public var labelIds: [String]
        public var internalDate: Int64?
        public var ref: String?
    }

    public struct User: Sendable {
        public var email: String
        public var messages: [Message]
    }

    public enum Step: Sendable {
        case advance(seconds: Double)
        case insert(user: String, message: Message)
        case delete(user: String, ref: String)
        case relabel(user: String, ref: String, add: [String], remove: [String])
        case expireHistory(user: String)
        case fault(FaultRule)
        case clearFaults
        case revoke(user: String)
        case checkpoint(String)
    }

    public var directory: URL
    public var users: [User]
    public var steps: [Step]

    /// A problem with a scenario file, naming the file.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        public var problem: String
        public var description: String { "\(file): \(problem)" }
    }

    /// Loads `DIR/scenario.json` and every .eml it names.
    public static func load(directory: URL) throws -> Scenario {
        let file = directory.appendingPathComponent("scenario.json")
        guard let data = try? Data(contentsOf: file) else {
            throw LoadError(file: file.path, problem: FileManager.default.fileExists(atPath: file.path) ? "cannot be read" : "missing")
        }
        let root: [String: Any]
        do {
            guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LoadError(file: file.path, problem: "top level must be an object")
            }
            root = obj
        } catch let e as LoadError {
            throw e
        } catch {
            throw LoadError(file: file.path, problem: "invalid JSON (\(error.localizedDescription))")
        }
        func message(_ m: [String: Any], at where_: String) throws -> Message {
            guard let eml = m["eml"] as? String else { throw LoadError(file: file.path, problem: "\(where_): missing \"eml\"") }
            let url = directory.appendingPathComponent(eml)
            guard let raw = try? Data(contentsOf: url), !raw.isEmpty else {
                throw LoadError(
                    file: url.path,
                    problem: FileManager.default.fileExists(atPath: url.path)
                        ? "empty or unreadable .eml" : "missing .eml (named in scenario.json at \(where_))")
            }
            var date: Int64?
            if let s = m["internalDate"] as? String {
                guard let v = Int64(s) else {
                    throw LoadError(file: file.path, problem: "\(where_): internalDate \"\(s)\" is not epoch milliseconds")
                }
                date = v
            } else if let n = m["internalDate"] as? NSNumber {
                date = n.int64Value
            }
            return Message(
                eml: eml, raw: [UInt8](raw), labelIds: m["labelIds"] as? [String] ?? ["INBOX", "UNREAD"],
                internalDate: date, ref: m["ref"] as? String)
        }
        var users: [User] = []
        for (i, u) in (root["users"] as? [[String: Any]] ?? []).enumerated() {
            guard let email = u["email"] as? String, email.contains("@") else {
                throw LoadError(file: file.path, problem: "users[\(i)]: missing or invalid \"email\"")
            }
            let msgs = try (u["messages"] as? [[String: Any]] ?? []).enumerated().map { try message($1, at: "users[\(i)].messages[\($0)]") }
            users.append(User(email: email, messages: msgs))
        }
        var steps: [Step] = []
        for (i, s) in (root["steps"] as? [[String: Any]] ?? []).enumerated() {
            let at = "steps[\(i)]"
            let user = s["user"] as? String ?? ""
            func need(_ k: String) throws -> String {
                guard let v = s[k] as? String, !v.isEmpty else { throw LoadError(file: file.path, problem: "\(at): missing \"\(k)\"") }
                return v
            }
            switch s["op"] as? String {
            case "advance"?: steps.append(.advance(seconds: (s["seconds"] as? NSNumber)?.doubleValue ?? 0))
            case "insert"?: steps.append(.insert(user: try need("user"), message: try message(s, at: at)))
            case "delete"?: steps.append(.delete(user: try need("user"), ref: try need("ref")))
            case "relabel"?:
                steps.append(
                    .relabel(
                        user: try need("user"), ref: try need("ref"),
                        add: s["add"] as? [String] ?? [], remove: s["remove"] as? [String] ?? []))
            case "expireHistory"?: steps.append(.expireHistory(user: try need("user")))
            case "revoke"?: steps.append(.revoke(user: try need("user")))
            case "fault"?:
                guard let rule = s["rule"], let d = try? JSONSerialization.data(withJSONObject: rule),
                    let r = try? JSONDecoder().decode(FaultRule.self, from: d)
                else {
                    throw LoadError(file: file.path, problem: "\(at): invalid fault rule")
                }
                steps.append(.fault(r))
            case "clearFaults"?: steps.append(.clearFaults)
            case "checkpoint"?: steps.append(.checkpoint(s["name"] as? String ?? "checkpoint \(i)"))
            case let op: throw LoadError(file: file.path, problem: "\(at): unknown op \"\(op ?? "")\" (user \(user))")
            }
        }
        return Scenario(directory: directory, users: users, steps: steps)
    }

    /// Creates the users and delivers their messages; returns ref -> inserted message.
    @discardableResult
    public func seed(into fake: FakeGmail) async throws -> [String: FakeGmail.InsertedMessage] {
        var refs: [String: FakeGmail.InsertedMessage] = [:]
        for u in users { await fake.addUser(u.email) }
        // Deliver in internalDate order so ids and history ids increase with time, as in Gmail.
        var all: [(String, Message)] = users.flatMap { u in u.messages.map { (u.email, $0) } }
        all.sort { ($0.1.internalDate ?? .max) < ($1.1.internalDate ?? .max) }
        for (email, m) in all {
            let r = try await fake.insertMessage(user: email, raw: m.raw, labelIds: m.labelIds, internalDate: m.internalDate)
            if let ref = m.ref { refs[ref] = r }
        }
        return refs
    }

    /// Applies one step to the fake. Checkpoints do nothing here.
    public static func apply(_ step: Step, to fake: FakeGmail, refs: inout [String: FakeGmail.InsertedMessage]) async throws {
        func id(_ ref: String) throws -> String {
            guard let r = refs[ref] else { throw LoadError(file: "scenario", problem: "unknown ref \"\(ref)\"") }
            return r.id
        }
        switch step {
        case .advance(let s): await fake.advanceClock(seconds: s)
        case .insert(let user, let m):
            let r = try await fake.insertMessage(user: user, raw: m.raw, labelIds: m.labelIds, internalDate: m.internalDate)
            if let ref = m.ref { refs[ref] = r }
        case .delete(let user, let ref): try await fake.deleteMessage(user: user, id: try id(ref))
        case .relabel(let user, let ref, let add, let remove):
            try await fake.modifyLabels(user: user, id: try id(ref), add: add, remove: remove)
        case .expireHistory(let user): try await fake.expireHistory(user: user)
        case .fault(let rule): try await fake.addFault(rule)
        case .clearFaults: await fake.clearFaults()
        case .revoke(let user): await fake.revokeUser(user)
        case .checkpoint: break
        }
    }
}
