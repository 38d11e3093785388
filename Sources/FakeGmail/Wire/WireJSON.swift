import Foundation
import MIMEKit

/// JSON as Gmail writes it: keys in the order the fake chooses (Gmail's observed order), 2-space
/// pretty printing unless `prettyPrint=false`, `/` unescaped, int64 values as strings by the caller.
/// The fake's own encoder: it shares no code with GmailCapture's wire decoding.
public indirect enum WireJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    /// A string: the padded base64url of these bytes, encoded straight into the output while rendering
    /// (bodies and attachments: no intermediate string to build, validate and scan for escapes).
    case base64url([UInt8])
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
        case .base64url(let bytes):
            out.append(UInt8(ascii: "\""))
            Base64.encode(bytes, urlSafe: true, padded: true, appendingTo: &out)
            out.append(UInt8(ascii: "\""))
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

    /// Copies runs that need no escaping in one piece (bodies are long base64url runs), skipping
    /// eight bytes at a time while none of them is a control character, `"` or `\\`.
    private static func quote(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buf in
            guard let base = buf.baseAddress else { return }
            let n = buf.count
            var i = 0, start = 0
            while i < n {
                if i + 8 <= n && !mayNeedEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let c = buf[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C {
                    i += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
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
                i += 1
                start = i
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: n - start))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// False only when none of the eight bytes is below 0x20, `"` or `\\` (SWAR zero-byte tests;
    /// a true answer may be a false alarm, which the byte loop then settles).
    @inline(__always)
    static func mayNeedEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let below20 = (w &- 0x2020_2020_2020_2020) & ~w & highs != 0
        return below20 || hasZeroByte(w ^ 0x2222_2222_2222_2222) || hasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
    }

    /// Parses JSON request bodies (control plane) via Foundation, into loosely typed values.
    public static func parseObject(_ bytes: [UInt8]) -> [String: Any]? {
        guard !bytes.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
