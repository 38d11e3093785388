import Foundation
import GmailCapture
import Testing

// MARK: - The history fold

/// One history record as Gmail sends it (`history.list`), written compactly.
struct RecordSpec: Sendable {
    var id: String
    /// (message id, its labels) added.
    var added: [(String, [String]?)] = []
    var deleted: [String] = []
    /// (message id, the message's labels after the change).
    var labelsAdded: [(String, [String])] = []
    var labelsRemoved: [(String, [String])] = []

    /// Decoded from Gmail's JSON, as the client decodes it.
    func record() throws -> GmailHistoryRecord {
        func message(_ id: String, _ labels: [String]?) -> [String: Any] {
            var m: [String: Any] = ["id": id, "threadId": "t-" + id]
            if let labels { m["labelIds"] = labels }
            return m
        }
        var json: [String: Any] = ["id": id]
        if !added.isEmpty { json["messagesAdded"] = added.map { ["message": message($0.0, $0.1)] } }
        if !deleted.isEmpty { json["messagesDeleted"] = deleted.map { ["message": message($0, nil)] } }
        if !labelsAdded.isEmpty { json["labelsAdded"] = labelsAdded.map { ["message": message($0.0, $0.1), "labelIds": ["STARRED"]] } }
        if !labelsRemoved.isEmpty {
            json["labelsRemoved"] = labelsRemoved.map { ["message": message($0.0, $0.1), "labelIds": ["UNREAD"]] }
        }
        return try JSONDecoder().decode(GmailHistoryRecord.self, from: JSONSerialization.data(withJSONObject: json))
    }
}

struct FoldCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// In the order history.list returned them.
    var records: [RecordSpec]
    var added: [String]
    var deleted: Set<String>
    var labels: [String: [String]]
    var testDescription: String { name }

    static let all: [FoldCase] = [
        FoldCase(
            name: "added then deleted in one window is nothing to fetch",
            records: [RecordSpec(id: "10", added: [("a", ["INBOX"])]), RecordSpec(id: "11", deleted: ["a"])],
            added: [], deleted: ["a"], labels: [:]),
        FoldCase(
            name: "label changes end as the last label set",
            records: [
                RecordSpec(id: "10", added: [("a", ["INBOX", "UNREAD"])]),
                RecordSpec(id: "11", labelsRemoved: [("a", ["INBOX"])]),
                RecordSpec(id: "12", labelsAdded: [("a", ["INBOX", "STARRED"])]),
            ],
            added: ["a"], deleted: [], labels: ["a": ["INBOX", "STARRED"]]),
        FoldCase(
            name: "a label change of a message stored before the window",
            records: [RecordSpec(id: "20", labelsAdded: [("b", ["INBOX", "STARRED"])])],
            added: [], deleted: [], labels: ["b": ["INBOX", "STARRED"]]),
        FoldCase(
            name: "a delete of a message never seen is kept (storage ignores unknown ids)",
            records: [RecordSpec(id: "30", deleted: ["zz"])],
            added: [], deleted: ["zz"], labels: [:]),
        FoldCase(
            name: "a deleted message's label changes are dropped",
            records: [RecordSpec(id: "40", labelsAdded: [("c", ["INBOX", "STARRED"])]), RecordSpec(id: "41", deleted: ["c"])],
            added: [], deleted: ["c"], labels: [:]),
        // Listed 10 before 9: folded by id, numerically ("10" < "9" as text), so the label change (10)
        // comes after the add (9) and wins.
        FoldCase(
            name: "records out of order are folded by numeric id",
            records: [RecordSpec(id: "10", labelsAdded: [("a", ["STARRED"])]), RecordSpec(id: "9", added: [("a", ["INBOX"])])],
            added: ["a"], deleted: [], labels: ["a": ["STARRED"]]),
        FoldCase(
            name: "a delete listed before its add still follows it",
            records: [RecordSpec(id: "12", deleted: ["a"]), RecordSpec(id: "11", added: [("a", ["INBOX"])])],
            added: [], deleted: ["a"], labels: [:]),
        FoldCase(
            name: "an add seen twice is fetched once, in first-seen order",
            records: [
                RecordSpec(id: "5", added: [("b", ["INBOX"]), ("a", ["INBOX"])]),
                RecordSpec(id: "6", added: [("b", ["INBOX", "UNREAD"]), ("c", ["SENT"])]),
            ],
            added: ["b", "a", "c"], deleted: [], labels: ["a": ["INBOX"], "b": ["INBOX", "UNREAD"], "c": ["SENT"]]),
        FoldCase(
            name: "an add without labelIds records no labels",
            records: [RecordSpec(id: "7", added: [("a", nil)])],
            added: ["a"], deleted: [], labels: [:]),
        FoldCase(name: "an empty window", records: [], added: [], deleted: [], labels: [:]),
    ]
}

@Suite struct HistoryFoldTableTests {
    @Test(arguments: FoldCase.all)
    func foldsToTheNetEffect(_ c: FoldCase) throws {
        let net = HistoryFold.fold(try c.records.map { try $0.record() })
        #expect(net.added == c.added)
        #expect(net.deleted == c.deleted)
        #expect(net.labels == c.labels)
    }
}

// MARK: - The capture policy

struct PolicyCase: Sendable, CustomTestStringConvertible {
    var name: String
    var blocklist: [String] = []
    var labels: [String] = ["INBOX"]
    var participants: [String] = ["maya@lumenridge.example", "alice@firm.example"]
    var decision: CapturePolicy.Decision
    var testDescription: String { name }

    static let all: [PolicyCase] = [
        PolicyCase(name: "ordinary mail is captured", decision: .capture),
        PolicyCase(name: "SPAM", labels: ["SPAM"], decision: .exclude("label SPAM")),
        PolicyCase(name: "TRASH among other labels", labels: ["INBOX", "TRASH", "UNREAD"], decision: .exclude("label TRASH")),
        PolicyCase(name: "CHAT", labels: ["CHAT"], decision: .exclude("label CHAT")),
        PolicyCase(name: "DRAFT", labels: ["DRAFT", "SENT"], decision: .exclude("label DRAFT")),
        PolicyCase(
            name: "SENT, STARRED, IMPORTANT and user labels are captured", labels: ["SENT", "STARRED", "IMPORTANT", "Label_12"],
            decision: .capture),
        PolicyCase(
            name: "a label decides before the blocklist", blocklist: ["lumenridge.example"], labels: ["SPAM"],
            decision: .exclude("label SPAM")),
        PolicyCase(
            name: "a blocked address", blocklist: ["hr@payroll.example"], participants: ["alice@firm.example", "hr@payroll.example"],
            decision: .exclude("blocked address")),
        PolicyCase(
            name: "a blocked address in another case, on both sides", blocklist: [" HR@Payroll.Example "],
            participants: ["Hr@PAYROLL.example"], decision: .exclude("blocked address")),
        PolicyCase(
            name: "a blocked address leaves its domain's other addresses", blocklist: ["hr@payroll.example"],
            participants: ["ceo@payroll.example"], decision: .capture),
        PolicyCase(
            name: "a blocked Gmail address, dots and +tag and googlemail.com folded", blocklist: ["J.Doe+hr@gmail.com"],
            participants: ["jdoe@googlemail.com"], decision: .exclude("blocked address")),
        PolicyCase(
            name: "a blocked domain", blocklist: ["payroll.example"], participants: ["anyone@payroll.example"],
            decision: .exclude("blocked domain")),
        PolicyCase(
            name: "a blocked domain written with a trailing dot (FQDN)", blocklist: ["payroll.example."],
            participants: ["anyone@payroll.example"],
            decision: .exclude("blocked domain")),
        PolicyCase(
            name: "a blocked domain written @domain, in capitals", blocklist: ["@PAYROLL.example"],
            participants: ["anyone@Payroll.Example"],
            decision: .exclude("blocked domain")),
        PolicyCase(
            name: "a blocked domain covers its subdomains", blocklist: ["payroll.example"], participants: ["x@mail.eu.payroll.example"],
            decision: .exclude("blocked domain")),
        PolicyCase(
            name: "a blocked domain is no suffix match on names", blocklist: ["payroll.example"], participants: ["x@notpayroll.example"],
            decision: .capture),
        PolicyCase(
            name: "a subdomain blocked leaves the parent domain", blocklist: ["mail.payroll.example"], participants: ["x@payroll.example"],
            decision: .capture),
        PolicyCase(
            name: "any participant blocks, in any position", blocklist: ["payroll.example", "x@y.example"],
            participants: ["alice@firm.example", "bob@firm.example", "cc@payroll.example"], decision: .exclude("blocked domain")),
        PolicyCase(
            name: "unparseable participants are ignored", blocklist: ["payroll.example"],
            participants: ["not an address", "", "@payroll.example"],
            decision: .capture),
        PolicyCase(name: "empty blocklist entries block nothing", blocklist: ["", "  "], decision: .capture),
    ]
}

@Suite struct CapturePolicyTableTests {
    @Test(arguments: PolicyCase.all)
    func decides(_ c: PolicyCase) {
        #expect(CapturePolicy(blocklist: c.blocklist).decide(labels: c.labels, participants: c.participants) == c.decision)
    }

    @Test func theSkippedLabelsCanBeChanged() {
        let policy = CapturePolicy(skipLabels: ["SPAM"])
        #expect(policy.decide(labels: ["TRASH"], participants: []) == .capture)
        #expect(policy.decide(labels: ["SPAM"], participants: []) == .exclude("label SPAM"))
    }
}
