@testable import FakeGmail
import Foundation
import MIMEKit
import Testing

/// The model alone: no HTTP, no actor.
@Suite struct ModelTests {
    static let user = "alice@firm.example"

    static func model() throws -> FakeGmailModel {
        var m = FakeGmailModel(seed: 5, clockStartMillis: 1_700_000_000_000)
        m.addUser(user)
        return m
    }

    @Test func historyRecordsEveryChangeWithIncreasingIds() throws {
        var m = try Self.model()
        let a = try m.insert(Self.user, raw: eml(subject: "A", messageID: "a@x"), labelIds: ["INBOX", "UNREAD"], internalDate: nil)
        let aid = try #require(parseGmailID(a.id))
        let modified = m.modify(Self.user, id: aid, add: ["STARRED", "INBOX"], remove: ["UNREAD"])
        let deleted = m.delete(Self.user, id: aid)
        let deletedAgain = m.delete(Self.user, id: aid)
        #expect(modified && deleted && !deletedAgain)
        let mb = try #require(m.mailbox(Self.user))
        #expect(mb.history.map(\.kind) == [.messageAdded, .labelAdded, .labelRemoved, .messageDeleted])
        #expect(mb.history[1].changedLabelIds == ["STARRED"])  // INBOX was already there: no change recorded
        let ids = mb.history.map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        #expect(mb.currentHistoryId == ids.last)
        guard case .records(let all, false) = m.history(mb, start: ids[0] - 1, types: nil, labelId: nil, after: nil, limit: 100) else {
            Issue.record("expected records"); return
        }
        #expect(all.count == 4)
        guard case .records(let added, _) = m.history(mb, start: ids[0] - 1, types: [.labelAdded], labelId: nil, after: nil, limit: 100)
        else { return }
        #expect(added.count == 1)
    }

    @Test func retentionByCountAndByAgeMovesTheValidStart() throws {
        var m = try Self.model()
        m.retentionRecords = 3
        for i in 0..<6 {
            _ = try m.insert(Self.user, raw: eml(subject: "M\(i)", messageID: "m\(i)@x"), labelIds: ["INBOX"], internalDate: nil)
        }
        var mb = try #require(m.mailbox(Self.user))
        #expect(mb.history.count == 3)
        guard case .expired = m.history(mb, start: mb.validFrom - 1, types: nil, labelId: nil, after: nil, limit: 10) else {
            Issue.record("a start before the retained window must be expired"); return
        }
        guard case .records(let r, _) = m.history(mb, start: mb.validFrom, types: nil, labelId: nil, after: nil, limit: 10) else {
            Issue.record("the retained window must be readable"); return
        }
        #expect(r.count == 3)

        m.retentionRecords = nil
        m.retentionAgeMillis = 60_000
        _ = try m.insert(Self.user, raw: eml(subject: "later", messageID: "later@x"), labelIds: ["INBOX"], internalDate: nil)
        m.advance(millis: 120_000)
        mb = try #require(m.mailbox(Self.user))
        #expect(mb.history.isEmpty)
        #expect(mb.validFrom == mb.currentHistoryId)
    }

    @Test func threadingFollowsReferencesWithinAMailboxOnly() throws {
        var m = try Self.model()
        m.addUser("bob@firm.example")
        let root = try m.insert(Self.user, raw: eml(subject: "Hi", messageID: "root@x"), labelIds: ["INBOX"], internalDate: nil)
        let reply = try m.insert(
            Self.user, raw: eml(subject: "Re: Hi", messageID: "reply@x", inReplyTo: "root@x"), labelIds: ["INBOX"], internalDate: nil)
        let elsewhere = try m.insert(
            "bob@firm.example", raw: eml(subject: "Re: Hi", messageID: "reply2@x", inReplyTo: "root@x"), labelIds: ["INBOX"],
            internalDate: nil)
        #expect(reply.threadId == root.id)
        #expect(elsewhere.threadId == elsewhere.id)
    }

    @Test func explicitDatesMoveTheClockForwardNeverBack() throws {
        var m = try Self.model()
        _ = try m.insert(Self.user, raw: eml(subject: "future", messageID: "f@x"), labelIds: [], internalDate: 1_800_000_000_000)
        #expect(m.clock.nowMillis == 1_800_000_000_000)
        _ = try m.insert(Self.user, raw: eml(subject: "past", messageID: "p@x"), labelIds: [], internalDate: 1_600_000_000_000)
        #expect(m.clock.nowMillis == 1_800_000_000_000)
        let now = try m.insert(Self.user, raw: eml(subject: "now", messageID: "n@x"), labelIds: [], internalDate: nil)
        #expect(m.mailbox(Self.user)?.messages[parseGmailID(now.id)!]?.internalDate == 1_800_000_000_000)
    }

    @Test(arguments: [
        "from:a OR from:b", "{from:a from:b}", "(x)", "size:100", "is:muted", "has:drive", "in:nowhere", "after:yesterday", "",
    ])
    func unsupportedQueriesAreRejected(_ q: String) {
        if q.isEmpty {
            #expect((try? SearchQuery.parse(q, now: 0)) != nil)
        } else {
            #expect(throws: SearchQuery.ParseError.self) { try SearchQuery.parse(q, now: 0) }
        }
    }

    @Test func idsAreGmailShaped() throws {
        var m = try Self.model()
        let a = try m.insert(Self.user, raw: eml(subject: "A", messageID: "a@x"), labelIds: [], internalDate: nil)
        #expect(a.id.count == 16 && a.id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(parseGmailID("FFFFFFFFFFFFFFFF") == nil)  // >= 2^63
        #expect(parseGmailID("18C9A1B2C3D4E5F6") == parseGmailID("18c9a1b2c3d4e5f6"))
        #expect(parseGmailID("12345678901234567") == nil)
    }
}

/// The fake's JSON string writer against Foundation's reader: every string comes back unchanged,
/// whatever mix of control characters, quotes, backslashes and non-ASCII it holds and wherever they
/// fall relative to the eight-byte skipping.
@Suite struct WireJSONStringTests {
    @Test func stringsRoundTripThroughFoundation() throws {
        var random = FakeRandom(seed: 77)
        let alphabet: [Character] = [
            "a", "Z", "0", "-", "_", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", " ", "/", "é", "€", "😀", "\u{7F}",
        ]
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300] {
            for _ in 0..<40 {
                var s = ""
                for _ in 0..<length { s.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
                let bytes = WireJSON.string(s).render(pretty: false)
                let back = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? String
                #expect(back == s, "length \(length)")
            }
        }
        // Long clean runs with one character to escape at every offset.
        let clean = String(repeating: "abcdefgh", count: 4)
        for offset in 0..<clean.count {
            var chars = Array(clean)
            chars[offset] = "\""
            let s = String(chars)
            #expect(
                try JSONSerialization.jsonObject(with: Data(WireJSON.string(s).render(pretty: false)), options: .fragmentsAllowed)
                    as? String == s)
        }
    }
}

/// `base64url` values (bodies and attachments) render exactly as the string of their base64url would,
/// inside objects and pretty-printed, and read back as the bytes.
@Suite struct WireJSONBase64Tests {
    @Test func rendersAsTheEncodedString() throws {
        var random = FakeRandom(seed: 78)
        for length in Array(0..<40) + [299, 300, 301, 4096] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let text = MIMEKit.Base64.encode(bytes, urlSafe: true, padded: true)
            for pretty in [false, true] {
                let raw = WireJSON.object([("size", .number(Int64(length))), ("data", .base64url(bytes))]).render(pretty: pretty)
                #expect(raw == WireJSON.object([("size", .number(Int64(length))), ("data", .string(text))]).render(pretty: pretty))
            }
            let back = try JSONSerialization.jsonObject(
                with: Data(WireJSON.base64url(bytes).render(pretty: false)), options: .fragmentsAllowed)
            #expect(MIMEKit.Base64.decode(try #require(back as? String)) == bytes)
        }
    }
}

/// The fake's search words (its `q=` index) skip the Unicode property lookup for ASCII characters; they
/// must split exactly as `isLetter || isNumber` does on every input.
@Suite struct SearchWordTests {
    @Test func asciiFastPathAgreesWithTheCharacterProperties() {
        let pieces = [
            "a", "Z", "0", "9", " ", "-", "_", "\r\n", "é", "e\u{301}", "ß", "İ", "٣", "日本", "👩‍💻", "\u{A0}", "'", "@", ".", "x\u{301}",
        ]
        var state: UInt64 = 2026
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<10_000 {
            var s = ""
            for _ in 0..<Int(next() % 10) { s += pieces[Int(next() % UInt64(pieces.count))] }
            let reference = s.lowercased().split { !($0.isLetter || $0.isNumber) }
            #expect(FakeMessage.words(s) == reference, "\(Array(s.unicodeScalars))")
        }
    }
}
