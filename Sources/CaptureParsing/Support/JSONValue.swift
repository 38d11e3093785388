import Foundation

/// A JSON value with a deterministic serializer (key order chosen by the caller or sorted, `/` not
/// escaped, integers exact). Used for CLI output and golden files, where byte-stable output matters.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        a.serialized(sortedKeys: true) == b.serialized(sortedKeys: true)
    }

    public static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }

    /// Serializes to UTF-8 text.
    public func serialized(pretty: Bool = false, sortedKeys: Bool = false) -> String {
        var out = [UInt8]()
        write(into: &out, pretty: pretty, sortedKeys: sortedKeys, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact serialization to `out` (what `serialized()` returns, without the copies).
    public func write(into out: inout [UInt8]) { write(into: &out, pretty: false, sortedKeys: false, indent: 0) }

    func write(into out: inout [UInt8], pretty: Bool, sortedKeys: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite { out.append(contentsOf: String(format: "%.3f", d).utf8) } else { out.append(contentsOf: "null".utf8) }
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += [UInt8(ascii: "["), UInt8(ascii: "]")]; return }
            out.append(UInt8(ascii: "["))
            for (n, v) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                v.write(into: &out, pretty: pretty, sortedKeys: sortedKeys, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            if pairs.isEmpty { out += [UInt8(ascii: "{"), UInt8(ascii: "}")]; return }
            let ordered = sortedKeys ? pairs.sorted { $0.0 < $1.0 } : pairs
            out.append(UInt8(ascii: "{"))
            for (n, (k, v)) in ordered.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                JSONValue.writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(32) }
                v.write(into: &out, pretty: pretty, sortedKeys: sortedKeys, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(10)
        out += [UInt8](repeating: 32, count: indent * 2)
    }

    /// A JSON string: `"` and `\\` escaped, LF, CR and tab as `\\n`, `\\r`, `\\t`, other controls and DEL
    /// as `\\u00XX`, everything else (UTF-8 included) as is. Runs of bytes that need no escape are
    /// copied at once (bodies are mostly such runs).
    static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.makeContiguousUTF8()
        out.append(UInt8(ascii: "\""))
        s.utf8.withContiguousStorageIfAvailable { b in
            out.reserveCapacity(out.count + b.count + 16)
            guard let base = b.baseAddress else { return }
            // Local copies: a static's lazy-initialisation check on every byte was 1.6% of `parse`.
            let needsEscape = Self.needsEscape
            let hexDigits = Self.hexDigits
            var runStart = 0
            var i = 0
            while i < b.count {
                // Eight bytes at a time while none may need an escape (SWAR; a false alarm falls through
                // to the byte test).
                if i + 8 <= b.count && !mayNeedEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let c = b[i]
                i += 1
                guard needsEscape[Int(c)] else { continue }
                let at = i - 1
                if runStart < at { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<at])) }
                runStart = at + 1
                out.append(92)
                switch c {
                case UInt8(ascii: "\""), 92: out.append(c)
                case 10: out.append(UInt8(ascii: "n"))
                case 13: out.append(UInt8(ascii: "r"))
                case 9: out.append(UInt8(ascii: "t"))
                default:
                    out.append(UInt8(ascii: "u"))
                    out.append(UInt8(ascii: "0"))
                    out.append(UInt8(ascii: "0"))
                    out.append(hexDigits[Int(c >> 4)])
                    out.append(hexDigits[Int(c & 15)])
                }
            }
            if runStart < b.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<b.count])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// False only when none of the eight bytes is a control character, `"`, `\\` or DEL (zero-byte tests
    /// on the word; true may be a false alarm).
    @inline(__always)
    static func mayNeedEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let below20 = (w &- 0x2020_2020_2020_2020) & ~w & highs != 0
        return below20 || hasZeroByte(w ^ 0x2222_2222_2222_2222) || hasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
            || hasZeroByte(w ^ 0x7F7F_7F7F_7F7F_7F7F)
    }
    /// Controls, `"`, `\\` and DEL: one table lookup per byte instead of four comparisons.
    private static let needsEscape: [Bool] = (0...255).map { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }
}
