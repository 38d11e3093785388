import Foundation
import GmailCapture
import CaptureParsing
import MIMEKit
import TestSupport
import Testing

/// Inputs that once crashed, hung or blew up the parser under libFuzzer, and hostile inputs made by hand
/// (Fuzz/regressions/, see its README). Each is
/// replayed through both front ends, the way the harness feeds them: first byte even = raw RFC 822,
/// odd = Gmail JSON. Passing means: no crash, bounded output, problems recorded.
@Suite struct FuzzRegressionTests {
    static let inputs: [String] = TestPaths.files(under: TestPaths.packageRoot.appendingPathComponent("Fuzz/regressions"), suffix: "")
        .filter { !$0.lastPathComponent.hasPrefix(".") && $0.lastPathComponent != "README.md" }
        .map(\.lastPathComponent)

    /// The replay always has inputs (an empty folder would make it check nothing).
    @Test func thereAreInputsToReplay() {
        #expect(Self.inputs.count >= 4, "Fuzz/regressions holds \(Self.inputs.count) inputs")
    }

    @Test(arguments: inputs)
    func replays(_ name: String) throws {
        let url = TestPaths.packageRoot.appendingPathComponent("Fuzz/regressions/\(name)")
        let bytes = try [UInt8](Data(contentsOf: url))
        guard let first = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let parser = MessageParser(limits: MIMELimits(maxDepth: 32, maxParts: 2_000, maxHeaderBytes: 64 * 1024))
        if first & 1 == 0 {
            let m = parser.parse(raw: body)
            #expect(JSONValue.object(m.cliJSON).serialized().utf8.count < 64 * (body.count + 1024))
        } else {
            _ = try? parser.parse(gmailJSON: Data(body))
        }
    }
}
