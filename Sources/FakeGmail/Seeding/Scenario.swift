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
///            {"op": "checkpoint", "name": "after-first-changes"},
///            {"op": "notificationFault", "user": "alice@firm.example", "kind": "duplicate", "count": 1},
///            {"op": "clearNotificationFaults"},
///            {"op": "notificationInterval", "millis": 1000},
///            {"op": "expireWatch", "user": "alice@firm.example"},
///            {"op": "notify", "user": "alice@firm.example", "stale": true},
///            {"op": "deliverPushes"}]}
/// ```
/// `users` is the initial state (`seed(into:)`); `steps` are changes over virtual time that tests replay
/// (`apply(_:to:refs:)`); a `checkpoint` step does nothing in the fake and marks where a test acts (syncs,
/// asserts). `internalDate` may be a string or a number (epoch ms); `ref` names a message for later steps.
///
/// The push steps drive Gmail's side of `users.watch` (the watch itself is set by the client under
/// test): `notificationFault` adds a `NotificationFault` (its fields flat in the step: `kind`, `user`,
/// `nth`, `probability`, `count`, `delayMs` with `delay`, `historyId` with `stale`);
/// `clearNotificationFaults`; `notificationInterval` sets the per-mailbox cap; `expireWatch` lets the
/// watch lapse; `notify` publishes a notification now (`historyId`, or `"stale": true` for the historyId
/// the watch began at, else the mailbox's current one); `deliverPushes` sends the push messages due.
/// These steps accept only their own fields.
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
        case notificationFault(NotificationFault)
        case clearNotificationFaults
        case notificationInterval(millis: Int64)
        case expireWatch(user: String)
        case notify(user: String, historyId: NotifiedHistory)
        case deliverPushes
    }

    /// The historyId a `notify` step publishes.
    public enum NotifiedHistory: Sendable, Equatable {
        /// The mailbox's current historyId.
        case current
        /// The historyId the mailbox's watch began at (at or below any cursor a client has since).
        case watchStart
        case id(String)
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
            case "notificationFault"?, "clearNotificationFaults"?, "notificationInterval"?, "expireWatch"?, "notify"?, "deliverPushes"?:
                steps.append(try pushStep(s, at: at, file: file.path))
            case let op: throw LoadError(file: file.path, problem: "\(at): unknown op \"\(op ?? "")\" (user \(user))")
            }
        }
        return Scenario(directory: directory, users: users, steps: steps)
    }

    /// The fields each push op accepts (besides `op`); any other field is an error.
    static let pushFields: [String: Set<String>] = [
        "notificationFault": ["kind", "user", "nth", "probability", "count", "delayMs", "historyId"],
        "clearNotificationFaults": [], "notificationInterval": ["millis"], "expireWatch": ["user"],
        "notify": ["user", "historyId", "stale"], "deliverPushes": [],
    ]

    /// Parses one push step strictly: only the op's own fields, each of the right type and range.
    static func pushStep(_ s: [String: Any], at: String, file: String) throws -> Step {
        let op = s["op"] as? String ?? ""
        func fail(_ problem: String) -> LoadError { LoadError(file: file, problem: "\(at) (\(op)): \(problem)") }
        let allowed = pushFields[op] ?? []
        if let extra = s.keys.filter({ $0 != "op" && !allowed.contains($0) }).sorted().first {
            throw fail("unknown field \"\(extra)\"")
        }
        /// JSON's true and false (NSNumber's "c" type, on Darwin and Linux alike), not 1 and 0.
        func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
        func string(_ k: String) throws -> String? {
            guard let v = s[k] else { return nil }
            guard let str = v as? String, !str.isEmpty else { throw fail("\"\(k)\" must be a non-empty string") }
            return str
        }
        func user() throws -> String {
            guard let u = try string("user") else { throw fail("missing \"user\"") }
            guard u.contains("@") else { throw fail("\"user\" must be an email address") }
            return u
        }
        /// A JSON integer (not a fraction, not a boolean) in `range`.
        func integer(_ k: String, _ range: ClosedRange<Int64>) throws -> Int64? {
            guard let v = s[k] else { return nil }
            guard let n = v as? NSNumber, !isBool(n), let x = Int64(exactly: n.doubleValue),
                range.contains(x)
            else {
                throw fail(
                    "\"\(k)\" must be an integer from \(range.lowerBound)\(range.upperBound == .max ? "" : " to \(range.upperBound)")")
            }
            return x
        }
        /// A historyId: an unsigned integer, as a string or a number.
        func historyId() throws -> String? {
            guard let v = s["historyId"] else { return nil }
            if let str = v as? String, !str.isEmpty, UInt64(str) != nil { return str }
            if let n = v as? NSNumber, !isBool(n), let x = UInt64(exactly: n.doubleValue) { return String(x) }
            throw fail("\"historyId\" must be an unsigned integer (string or number)")
        }
        switch op {
        case "notificationFault":
            guard let raw = try string("kind"), let kind = NotificationFault.Kind(rawValue: raw) else {
                let kinds = NotificationFault.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail("\"kind\" must be one of \(kinds)")
            }
            var probability: Double?
            if let v = s["probability"] {
                guard let n = v as? NSNumber, !isBool(n), (0...1).contains(n.doubleValue) else {
                    throw fail("\"probability\" must be a number from 0 to 1")
                }
                probability = n.doubleValue
            }
            let delay = try integer("delayMs", 0...Int64(Int32.max))
            if delay != nil && kind != .delay { throw fail("\"delayMs\" is only for kind delay") }
            let hid = try historyId()
            if hid != nil && kind != .stale { throw fail("\"historyId\" is only for kind stale") }
            return .notificationFault(
                NotificationFault(
                    kind: kind, user: s["user"] == nil ? nil : try user(), nth: try integer("nth", 1...Int64(Int32.max)).map { Int($0) },
                    probability: probability, count: try integer("count", 1...Int64(Int32.max)).map { Int($0) },
                    delayMs: delay.map { Int($0) }, historyId: hid))
        case "clearNotificationFaults": return .clearNotificationFaults
        case "notificationInterval":
            guard let ms = try integer("millis", 0...Int64.max) else { throw fail("missing \"millis\"") }
            return .notificationInterval(millis: ms)
        case "expireWatch": return .expireWatch(user: try user())
        case "notify":
            var which = NotifiedHistory.current
            if let v = s["stale"] {
                guard let b = v as? NSNumber, isBool(b), b.boolValue else {
                    throw fail("\"stale\" must be true (leave it out for the current historyId)")
                }
                which = .watchStart
            }
            if let h = try historyId() {
                guard which == .current else { throw fail("\"historyId\" and \"stale\" exclude each other") }
                which = .id(h)
            }
            return .notify(user: try user(), historyId: which)
        default: return .deliverPushes
        }
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
        case .notificationFault(let f): await fake.addNotificationFault(f)
        case .clearNotificationFaults: await fake.clearNotificationFaults()
        case .notificationInterval(let ms): await fake.setNotificationInterval(millis: ms)
        case .expireWatch(let user):
            do { try await fake.expireWatch(user: user) } catch {
                throw LoadError(file: "scenario", problem: "expireWatch: \(user) has no watch")
            }
        case .notify(let user, let which):
            guard let watch = await fake.watchStatus(user: user) else {
                throw LoadError(file: "scenario", problem: "notify: \(user) has no watch")
            }
            let hid: String? =
                switch which {
                case .current: nil
                case .watchStart: watch.historyId
                case .id(let h): h
                }
            do { try await fake.injectNotification(user: user, historyId: hid) } catch {
                throw LoadError(file: "scenario", problem: "notify: \(user): \(error)")
            }
        case .deliverPushes: await fake.deliverPushes()
        }
    }
}
