import CaptureFiles
import CaptureParsing
import Foundation

/// `parse-bench DIR [--json] [--one-at-a-time]`: the parse benchmark in an executable that links only
/// the parser (MIMEKit, CaptureParsing, swift-crypto), so its memory figure is the parser's own.
@main
struct ParseBench {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        let json = args.contains("--json")
        let oneAtATime = args.contains("--one-at-a-time")
        args.removeAll { $0.hasPrefix("--") }
        guard args.count == 1 else {
            FileHandle.standardError.write(Data("usage: parse-bench DIR [--json] [--one-at-a-time]\n".utf8))
            exit(2)
        }
        do {
            let r = try ParseBenchmark().run(directory: args[0], oneAtATime: oneAtATime)
            print(json ? r.json(impl: "swift-gmailcapture").serialized() : r.text(impl: "swift-gmailcapture (parse-bench)"))
        } catch {
            FileHandle.standardError.write(Data("parse-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}
