import CaptureParsing
import Foundation
import MIMEKit

/// libFuzzer entry point over both parser front ends.
///
/// The first byte picks the front end: even → the input (minus that byte) is raw RFC 822 for
/// `MessageParser.parse(raw:)` (which drives MIMEMessage, every header grammar, transfer decoding,
/// charsets and HTML-to-text); odd → it is Gmail message JSON for `parse(gmailJSON:)` (payload tree).
/// Built only with FUZZ=1 (see Scripts/fuzz.sh); limits are kept small so deep inputs stay fast.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let parser = MessageParser(limits: MIMELimits(maxDepth: 32, maxParts: 2_000, maxHeaderBytes: 64 * 1024))
    let body = Array(bytes.dropFirst())
    if bytes[0] & 1 == 0 {
        let m = parser.parse(raw: body)
        _ = JSONValue.object(m.cliJSON).serialized()
        // Also exercise the standalone grammars on the first header value.
        if let first = MIMEMessage.parse(body).root.headers.fields.first {
            var p: [String] = []
            _ = AddressParser.parseList(first.unfoldedBytes, problems: &p)
            _ = DateParser.parse(first.unfoldedText)
            _ = HeaderParameters.parse(first.unfoldedBytes)
            _ = HTMLText.text(fromHTML: first.unfoldedText)
        }
    } else {
        if let m = try? parser.parse(gmailJSON: Data(body)) {
            _ = JSONValue.object(m.cliJSON).serialized()
        }
    }
    return 0
}
