import ArgumentParser
import Foundation
import CaptureParsing
import GmailCapture

@main
struct GmailCaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmail-capture",
        abstract: "Capture a venture firm's Gmail into its CRM.",
        subcommands: [
            DemoCommand.self, ServeCommand.self, SyncCommand.self, AccountsCommand.self, StatusCommand.self, ThreadsCommand.self,
            ThreadCommand.self, ParseCommand.self, ConfigCommand.self, MigrateCommand.self, UsersCommand.self, InvestorsCommand.self,
            RematchCommand.self, BenchCommand.self, PrivacyCommand.self, AccessLogCommand.self, WhoKnowsCommand.self,
            ContactsCommand.self, SearchCommand.self, MCPCommand.self,
        ]
    )

    /// ArgumentParser's entry point, except that `parse` takes its files past it: ArgumentParser
    /// collects a positional array in quadratic time (each value copies the array so far and the set
    /// of its origins; `parse` over 2,000 files spent 0.12 s there, over 16,000 files 6 s), so every
    /// file but the first is set aside before parsing and given back to the parsed command. Options,
    /// validation, help and errors are still ArgumentParser's.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.first == "parse" else { return await main(arguments) }
        let split = ParseCommand.splitFiles(Array(arguments.dropFirst()))
        do {
            var command = try await asyncParseAsRoot(["parse"] + split.rest)
            if var parse = command as? ParseCommand {
                parse.files += split.setAside
                command = parse
            }
            if var command = command as? any AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}
