import ArgumentParser
import Foundation
import GmailCapture

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search captured mail (threads, best match first).",
        discussion: """
            Words and "quoted phrases" (a word ending in * matches as a prefix); from:, to: (To and Cc), subject:, filename:, \
            investor:ID, domain:DOMAIN, teammate:EMAIL, after:YYYY-MM-DD (inclusive), before:YYYY-MM-DD (exclusive), \
            has:attachment; -word, -"phrase" or -operator:value excludes. Every part must hold. With --as, only what that \
            teammate may see is matched and shown. --json: {"results": [{threadId, subject, lastAt, matchedMessageId, \
            snippet, mailboxes, investorIds}], "nextCursor"}; matched words appear between « and » in snippets.
            """)
    @OptionGroup var db: DatabaseOption
    @Argument(help: "The query (quote it for the shell).") var query: String
    @OptionGroup var viewer: ViewerOption
    @Option(help: "Threads per page (1-100).") var limit = 20
    @Option(help: "The nextCursor of a previous page of the same query.") var cursor: String?
    @Flag(help: "Stable JSON.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let page: SearchPage
        do {
            page = try await rt.readModel.search(query, for: try await viewer.resolve(rt), limit: limit, cursor: cursor, surface: .cli)
        } catch let e as SearchQueryError {
            throw ValidationError(e.description)
        }
        if json { print(try jsonString(page)); return }
        if page.results.isEmpty { print("no threads match") }
        for r in page.results {
            print("\(r.threadId)\t\(r.lastAt ?? "-")\t\(r.subject ?? "(subject not shared)")")
            if !r.snippet.isEmpty { print("    \(r.snippet)") }
        }
        if let next = page.nextCursor { print("more: --cursor \(next)") }
    }
}
