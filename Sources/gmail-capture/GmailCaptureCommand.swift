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
}
