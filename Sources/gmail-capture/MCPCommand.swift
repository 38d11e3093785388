import ArgumentParser
import CaptureMCP
import Foundation
import GmailCapture
import Logging
import MCP

/// `gmail-capture mcp --as EMAIL`: the read-only MCP server over stdio, as one teammate. stdout carries
/// only the protocol; logs (one line per tool call, never email content) go to stderr.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "Serve captured mail to an MCP client over stdio, read-only, as one teammate.",
        discussion: """
            Speaks the Model Context Protocol on stdin/stdout (register it with an MCP client as a stdio server). Tools: \
            search_threads, get_thread, get_message, list_investors, investor_relationship, who_knows, going_cold, \
            mailbox_status; all read-only, answers bounded by --max-chars and paginated, email content inside \
            untrusted-content blocks. Reads need only the storage settings (CRM_DB_PATH, CRM_GMAIL_WORKSPACE_DOMAIN, the \
            sharing settings). Logs go to stderr.
            """)
    @Option(name: .customLong("as"), help: "The teammate whose view the server gives (a CRM user's email).") var teammate: String
    @OptionGroup var db: DatabaseOption
    @Option(help: "Most characters of text (and of structured content) in one answer; longer answers are paginated.") var maxChars =
        CaptureMCPServer.Options.defaultMaxChars
    @Flag(help: "Debug logging (still never email content).") var verbose = false

    func validate() throws {
        if maxChars < CaptureMCPServer.Options.minimumMaxChars || maxChars > 10_000_000 {
            throw ValidationError("--max-chars must be in \(CaptureMCPServer.Options.minimumMaxChars)...10000000")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "gmail-capture.mcp")
        logger.logLevel = verbose ? .debug : .info
        let runtime = try db.runtime()
        guard
            let user = try await runtime.directory.users().first(where: {
                $0.email.caseInsensitiveCompare(teammate) == .orderedSame
            }), user.active
        else {
            throw ValidationError("no active CRM user \(teammate); --as takes a teammate's address")
        }
        let mcp = CaptureMCPServer(runtime: runtime, options: .init(maxChars: maxChars), logger: logger)
        let server = await mcp.makeServer(for: .teammate(user.email))
        try await server.start(transport: StdioTransport(logger: logger))
        logger.info("mcp server ready on stdio", metadata: ["viewer": .string(user.email)])
        await server.waitUntilCompleted()
    }
}
