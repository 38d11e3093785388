import ArgumentParser
import Foundation
import CaptureParsing
import GmailCapture

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the integration's configuration.",
        subcommands: [ConfigCheckCommand.self]
    )
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the CRM_GMAIL_* environment and print the effective configuration (secrets masked).",
        discussion: "Every invalid variable is reported at once, naming it, what is wrong and the expected form. Exits 1 when invalid."
    )

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        do {
            let config = try CaptureConfig.load(from: env)
            print("Configuration is valid\(config.integrationEnabled ? "" : " (integration disabled: routes answer 503, no scheduler)").")
            for (k, v) in config.describe() { print("  \(k)=\(v)\(config.isSet(k) ? "" : "  (default)")") }
        } catch let invalid as CaptureConfig.Invalid {
            FileHandle.standardError.write(
                Data("Configuration is invalid (\(invalid.problems.count) problem\(invalid.problems.count == 1 ? "" : "s")):\n".utf8))
            for p in invalid.problems { FileHandle.standardError.write(Data("  \(p.description)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
