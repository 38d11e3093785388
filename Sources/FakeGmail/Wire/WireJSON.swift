import Foundation

/// JSON as Gmail writes it: keys in the order the fake chooses (Gmail's observed order), 2-space
/// pretty printing unless `prettyPrint=false`, `/` unescaped, int64 values as strings by the caller.
/// The fake's own encoder: it shares no code with GmailCapture's wire decoding.
public indirect enum WireJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([WireJSON])
    case object([(String, WireJSON)])

    public static func == (a: WireJSON, b: WireJSON) -> Bool { a.render(pretty: false) == b.render(pretty: false) }

    /// Object member lookup (first match).
    public subscript(key: String) -> WireJSON? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public func render(pretty: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        emit(&out, pretty, 0)
        if pretty { out.append(10) }
        return out
    }

    private func emit(_ out: inout [UInt8], _ pretty: Bool, _ level: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: String(n).utf8)
        case .string(let s): Self.quote(s, &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { Self.indent(&out, level + 1) }
                v.emit(&out, pretty, level + 1)
            }
            if pretty && !a.isEmpty { Self.indent(&out, level) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { Self.indent(&out, level + 1) }
                Self.quote(k, &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(32) }
                v.emit(&out, pretty, level + 1)
            }
            if pretty && !o.isEmpty { Self.indent(&out, level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func indent(_ out: inout [UInt8], _ level: Int) {
        out.append(10)
        for _ in 0..<(level * 2) { out.append(32) }
    }

    /// Copies runs that need no escaping in one piece (bodies are long base64url runs).
    private static func quote(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buf in
            var start = 0
            for i in 0..<buf.count {
                let c = buf[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<i]))
                start = i + 1
                switch c {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<buf.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses JSON request bodies (control plane) via Foundation, into loosely typed values.
    public static func parseObject(_ bytes: [UInt8]) -> [String: Any]? {
        guard !bytes.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
