import Foundation
/// A parsed `Content-Type` or `Content-Disposition` value: a main value plus parameters.
///
/// Handles quoted strings, comments, RFC 2231 extended parameters (`name*=charset'lang'%XX`) with
/// continuations (`name*0*=`, `name*1=`) in any order, and the common non-standard RFC 2047
/// encoded-words inside quoted parameter values (`name="=?UTF-8?B?...?="`, as Outlook writes them).
public struct HeaderParameters: Sendable, Hashable {
    /// The main value, lowercased (`text/plain`, `attachment`).
    public var value: String
    /// Parameters by lowercased name, decoded to text.
    public var parameters: [String: String]
    /// Problems met while parsing.
    public var problems: [String]

    public subscript(_ name: String) -> String? { parameters[name.lowercased()] }

    public init(value: String, parameters: [String: String] = [:], problems: [String] = []) {
        self.value = value
        self.parameters = parameters
        self.problems = problems
    }

    /// Parses a header value (unfolded bytes).
    public static func parse(_ raw: some Collection<UInt8>) -> HeaderParameters {
        parseBytes(Array(raw))
    }

    struct Piece { var index: Int?; var extended: Bool; var raw: [UInt8] }

    static func parseBytes(_ b: [UInt8]) -> HeaderParameters {
        var problems: [String] = []
        var i = 0
        skipCFWS(b, &i)
        // Main value: everything up to ';' (whitespace and comments removed).
        var main: [UInt8] = []
        while i < b.count, b[i] != UInt8(ascii: ";") {
            if b[i] == UInt8(ascii: "(") { skipComment(b, &i); continue }
            if b[i] != 32 && b[i] != 9 && b[i] != UInt8(ascii: "\"") { main.append(b[i]) }
            i += 1
        }
        let value = String(decoding: main, as: UTF8.self).lowercased()

        var simple: [String: [UInt8]] = [:]
        var simpleOrder: [String] = []
        var pieces: [String: [Piece]] = [:]
        while i < b.count {
            // at ';'
            i += 1
            skipCFWS(b, &i)
            var nameBytes: [UInt8] = []
            while i < b.count, b[i] != UInt8(ascii: "="), b[i] != UInt8(ascii: ";"), b[i] > 32 {
                nameBytes.append(b[i]); i += 1
            }
            skipCFWS(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: "=") else {
                if !nameBytes.isEmpty { problems.append("parameter without a value") }
                while i < b.count, b[i] != UInt8(ascii: ";") { i += 1 }
                continue
            }
            i += 1
            skipCFWS(b, &i)
            var valueBytes: [UInt8] = []
            var quoted = false
            if i < b.count, b[i] == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count { valueBytes.append(b[i + 1]); i += 2; continue }
                    if b[i] == UInt8(ascii: "\"") { i += 1; closed = true; break }
                    valueBytes.append(b[i]); i += 1
                }
                if !closed { problems.append("unterminated quoted parameter value") }
                while i < b.count, b[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                while i < b.count, b[i] != UInt8(ascii: ";") {
                    if b[i] == UInt8(ascii: "(") { skipComment(b, &i); continue }
                    valueBytes.append(b[i]); i += 1
                }
                while let last = valueBytes.last, last == 32 || last == 9 { valueBytes.removeLast() }
            }
            _ = quoted
            var name = String(decoding: nameBytes, as: UTF8.self).lowercased()
            if name.isEmpty { continue }
            // RFC 2231: name*  | name*N | name*N*
            var extended = false
            var index: Int?
            if name.hasSuffix("*") { extended = true; name.removeLast() }
            if let star = name.lastIndex(of: "*"), let n = Int(name[name.index(after: star)...]) {
                index = n
                name = String(name[..<star])
            }
            if index == nil && !extended {
                if simple[name] == nil { simpleOrder.append(name) } else { problems.append("duplicate parameter \(name)") }
                simple[name] = simple[name] ?? valueBytes
            } else {
                pieces[name, default: []].append(Piece(index: index, extended: extended, raw: valueBytes))
            }
        }

        var params: [String: String] = [:]
        for name in simpleOrder {
            let raw = simple[name]!
            var p: [String] = []
            params[name] = EncodedWord.decode(raw, problems: &p)
            problems += p
        }
        for (name, list) in pieces {
            let sorted = list.sorted { ($0.index ?? -1) < ($1.index ?? -1) }
            var charset: String?
            var bytes: [UInt8] = []
            for (n, piece) in sorted.enumerated() {
                if piece.extended {
                    var raw = piece.raw
                    if n == 0 {
                        // charset'language'value
                        let parts = raw.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
                        if parts.count == 3 {
                            charset = String(decoding: parts[0], as: UTF8.self)
                            raw = Array(parts[2])
                        } else {
                            problems.append("RFC 2231 parameter \(name) lacks charset'language'")
                        }
                    }
                    bytes += percentDecode(raw)
                } else {
                    bytes += piece.raw
                }
            }
            let decoded = Charset.decode(bytes, charset: (charset?.isEmpty ?? true) ? "utf-8" : charset)
            if let p = decoded.problem { problems.append("parameter \(name): \(p)") }
            params[name] = decoded.text  // RFC 2231 form wins over a plain duplicate
        }
        return HeaderParameters(value: value, parameters: params, problems: problems)
    }

    static func percentDecode(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), let h = QuotedPrintable.hexValue(b[safe: i + 1]), let l = QuotedPrintable.hexValue(b[safe: i + 2])
            {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(b[i]); i += 1
            }
        }
        return out
    }

    static func skipCFWS(_ b: [UInt8], _ i: inout Int) {
        while i < b.count {
            if b[i] == 32 || b[i] == 9 || b[i] == 13 || b[i] == 10 { i += 1; continue }
            if b[i] == UInt8(ascii: "(") { skipComment(b, &i); continue }
            break
        }
    }

    /// Skips a (possibly nested) comment starting at '('.
    static func skipComment(_ b: [UInt8], _ i: inout Int) {
        var depth = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\\") { i += 2; continue }
            if c == UInt8(ascii: "(") { depth += 1 }
            if c == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; return } }
            i += 1
        }
    }
}

/// A MIME content type.
public struct ContentType: Sendable, Hashable {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]

    /// `type/subtype`, lowercased.
    public var mimeType: String { "\(type)/\(subtype)" }
    public var charset: String? { parameters["charset"] }
    public var boundary: String? { parameters["boundary"] }
    public var isMultipart: Bool { type == "multipart" }

    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public static let textPlain = ContentType(type: "text", subtype: "plain", parameters: ["charset": "us-ascii"])
    public static let messageRFC822 = ContentType(type: "message", subtype: "rfc822")

    /// Parses a Content-Type value. A value without a slash is kept as given with problem noted by the caller.
    public static func parse(_ raw: some Collection<UInt8>) -> (ContentType?, HeaderParameters) {
        let p = HeaderParameters.parse(raw)
        let v = p.value
        guard let slash = v.firstIndex(of: "/") else { return (nil, p) }
        let t = String(v[..<slash]), s = String(v[v.index(after: slash)...])
        guard !t.isEmpty, !s.isEmpty else { return (nil, p) }
        return (ContentType(type: t, subtype: s, parameters: p.parameters), p)
    }
}
