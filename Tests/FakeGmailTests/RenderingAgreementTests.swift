import FakeGmail
import Foundation
import MIMEKit
import TestSupport
import Testing

/// The fake renders each real Gmail export's raw bytes; the result is compared, part by part, with the
/// `format=full` payload and snippet Gmail itself returned (../shared/gmail-real).
///
/// The exports were edited by their publisher: `full` keeps only some root headers and censors
/// addresses and relay IPs, and two messages' raw bytes were changed after export (their sizeEstimate
/// no longer equals the raw length). Headers are compared where `full` has them uncensored; sizes,
/// data and snippets only on unedited messages; attachment ids by presence, never by value.
@Suite struct RenderingAgreementTests {
    struct Tally {
        var compared = 0
        var agreed = 0
        var disagreements: [String] = []
        mutating func check<T: Equatable>(_ where_: String, _ ours: T, _ gmail: T) {
            compared += 1
            if ours == gmail { agreed += 1 } else { disagreements.append("\(where_): fake=\(ours) gmail=\(gmail)") }
        }
    }

    static func censored(_ v: String) -> Bool {
        v.contains("censored") || v.contains("@domain.com") || v.contains("@email.com") || v.contains("1.1.1.1")
    }

    static let editedHeaders: Set<String> = ["from", "to", "cc", "bcc", "reply-to", "sender", "message-id", "delivered-to", "return-path"]

    static func compare(_ ours: [String: Any], _ gmail: [String: Any], path: String, unedited: Bool, root: Bool, tally: inout Tally) {
        let pid = gmail["partId"] as? String ?? "?"
        let at = "\(path) part \"\(pid)\""
        tally.check("\(at) partId", ours["partId"] as? String, gmail["partId"] as? String)
        tally.check("\(at) mimeType", ours["mimeType"] as? String, gmail["mimeType"] as? String)
        let gFilename = gmail["filename"] as? String ?? ""
        if !Self.censored(gFilename) { tally.check("\(at) filename", ours["filename"] as? String, gmail["filename"] as? String) }
        let oh = (ours["headers"] as? [[String: String]]) ?? []
        let gh = (gmail["headers"] as? [[String: String]]) ?? []
        if !root { tally.check("\(at) header names", oh.map { $0["name"] ?? "" }, gh.map { $0["name"] ?? "" }) }
        var seen: [String: Int] = [:]
        for h in gh {
            let name = h["name"] ?? "", value = h["value"] ?? ""
            let k = seen[name.lowercased(), default: 0]
            seen[name.lowercased()] = k + 1
            if Self.censored(value) || Self.editedHeaders.contains(name.lowercased()) { continue }
            let candidates = oh.filter { ($0["name"] ?? "").lowercased() == name.lowercased() }
            tally.check("\(at) header \(name)#\(k)", k < candidates.count ? candidates[k]["value"] : nil, value)
        }
        let ob = ours["body"] as? [String: Any] ?? [:], gb = gmail["body"] as? [String: Any] ?? [:]
        tally.check("\(at) body has data", ob["data"] != nil, gb["data"] != nil)
        tally.check("\(at) body has attachmentId", ob["attachmentId"] != nil, gb["attachmentId"] != nil)
        if unedited {
            tally.check("\(at) body size", ob["size"] as? Int, gb["size"] as? Int)
            if let od = ob["data"] as? String, let gd = gb["data"] as? String {
                tally.check("\(at) body data", Base64.decode(od), Base64.decode(gd))
            }
        }
        let op = ours["parts"] as? [[String: Any]] ?? [], gp = gmail["parts"] as? [[String: Any]] ?? []
        tally.check("\(at) child count", op.count, gp.count)
        for (o, g) in zip(op, gp) { compare(o, g, path: path, unedited: unedited, root: false, tally: &tally) }
    }

    @Test func fakeRendersLikeGmail() async throws {
        guard let folder = TestPaths.shared?.appendingPathComponent("gmail-real"), FileManager.default.fileExists(atPath: folder.path)
        else {
            print("SKIPPED: ../shared/gmail-real is absent; the rendering agreement test did not run")
            return
        }
        let files = TestPaths.files(under: folder, suffix: ".json")
        try #require(!files.isEmpty)
        var tally = Tally()
        var snippetsCompared = 0, snippetsAgreed = 0
        for url in files {
            let export = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            let full = try #require(export["full"] as? [String: Any])
            let rawB64 = try #require((export["raw"] as? [String: Any])?["raw"] as? String)
            let raw = Base64.decode(rawB64)
            let unedited = full["sizeEstimate"] as? Int == raw.count
            let user = "export@example.com"
            let fake = FakeGmail(options: .init(quota: .off))
            await fake.addUser(user)
            let m = try await fake.insertMessage(user: user, raw: raw, labelIds: ["INBOX"])
            let token = await fake.accessToken(for: user)
            let r = await fake.handle(
                FakeRequest(
                    method: "GET", target: "/gmail/v1/users/me/messages/\(m.id)?format=full",
                    headers: [("Authorization", "Bearer \(token)")]))
            let ours = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            let name = url.lastPathComponent
            Self.compare(
                ours["payload"] as? [String: Any] ?? [:], full["payload"] as? [String: Any] ?? [:], path: name, unedited: unedited,
                root: true, tally: &tally)
            if unedited {
                tally.check("\(name) sizeEstimate", ours["sizeEstimate"] as? Int, full["sizeEstimate"] as? Int)
                let gSnippet = full["snippet"] as? String ?? ""
                if !Self.censored(gSnippet) {
                    snippetsCompared += 1
                    if ours["snippet"] as? String == gSnippet {
                        snippetsAgreed += 1
                    } else {
                        tally.disagreements.append(
                            "\(name) snippet: fake=\((ours["snippet"] as? String ?? "").debugDescription) gmail=\(gSnippet.debugDescription)"
                        )
                    }
                }
            }
        }
        print(
            "rendering agreement: \(tally.agreed)/\(tally.compared) payload fields agree; snippets \(snippetsAgreed)/\(snippetsCompared) over \(files.count) messages"
        )
        for d in tally.disagreements { print("  DISAGREE \(d)") }
        #expect(tally.agreed == tally.compared)
    }
}
