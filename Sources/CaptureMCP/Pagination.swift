import Foundation
import MCP

/// Where the next page of one tool call starts. Clients see it only as an opaque string (base64url of
/// this JSON); it is bound to the tool, its other arguments and the viewer by `stamp`, so a cursor can
/// only continue the call that produced it.
struct PageCursor: Codable, Equatable {
    var tool: String
    var stamp: String
    /// Position in a list (investors, people, results of the search page `search`).
    var offset: Int?
    /// The email (database id) a thread page starts at.
    var email: Int64?
    /// Characters (Unicode scalars) of that email's text body already shown.
    var bodyOffset: Int?
    /// The search API's own cursor for the current search page (nil: the first).
    var search: String?

    init(tool: String, stamp: String, offset: Int? = nil, email: Int64? = nil, bodyOffset: Int? = nil, search: String? = nil) {
        self.tool = tool
        self.stamp = stamp
        self.offset = offset
        self.email = email
        self.bodyOffset = bodyOffset
        self.search = search
    }

    func encoded() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let data = (try? e.encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor of `tool` carrying `stamp`; anything else is a `ToolError`.
    static func decode(_ text: String, tool: String, stamp: String) throws(ToolError) -> PageCursor {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard text.count <= 4_096, let data = Data(base64Encoded: b64), let c = try? JSONDecoder().decode(PageCursor.self, from: data)
        else {
            throw ToolError("cursor is not a cursor this server issued; call again without it to start from the first page")
        }
        guard c.tool == tool, c.stamp == stamp else {
            throw ToolError(
                "this cursor belongs to another call; pass it back with the same tool and the same other arguments, or call again without it"
            )
        }
        return c
    }

    /// Binds a cursor to the tool, its arguments other than `cursor`, and the viewer (FNV-1a, 64 bits).
    static func stamp(tool: String, arguments: [String: Value], viewer: String) -> String {
        var args = arguments
        args["cursor"] = nil
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let text = tool + "\u{0}" + viewer.lowercased() + "\u{0}" + String(decoding: (try? e.encode(args)) ?? Data(), as: UTF8.self)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }
}

/// A tool call that cannot be answered as asked: reported as a tool result with `isError` and this message.
struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// How large an answer may be: its text rendering and its structured content (as compact JSON) are each
/// at most `maxChars` characters (Unicode scalars, as most clients count them).
struct Budget {
    let maxChars: Int

    static func size(_ text: String) -> Int { text.unicodeScalars.count }

    static func size(_ value: Value) -> Int {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(value) else { return 0 }
        return String(decoding: data, as: UTF8.self).unicodeScalars.count
    }
}

/// A page being filled: the sizes used so far, against the budget.
struct PageFill {
    let budget: Budget
    var text: Int
    var json: Int

    /// Starts with the envelope (the answer's header text and its structured content with no items and a
    /// placeholder cursor) already counted.
    init(budget: Budget, envelopeText: Int, envelopeJSON: Int) {
        self.budget = budget
        text = envelopeText
        json = envelopeJSON
    }

    func fits(text t: Int, json j: Int) -> Bool {
        text + t <= budget.maxChars && json + j + 1 <= budget.maxChars
    }

    mutating func add(text t: Int, json j: Int) {
        text += t
        json += j + 1
    }
}

extension String {
    /// Unicode scalars `from..<to` (clamped).
    func scalars(_ from: Int, _ to: Int) -> String {
        let s = unicodeScalars
        let start = s.index(s.startIndex, offsetBy: max(0, min(from, s.count)))
        let end = s.index(start, offsetBy: max(0, min(to, s.count) - max(0, min(from, s.count))))
        return String(s[start..<end])
    }
}
