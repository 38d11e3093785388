import ArgumentParser
import Foundation
import GmailCapture

struct BenchSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search latency on an existing store: seeded queries drawn from its own mail, median and p90 per viewer.",
        discussion: """
            Opens the database once (as `search` does), draws --queries queries from random captured emails (words \
            of subjects and bodies, phrases, from:, investor:, domain:, teammate: with a word, a word with after:), \
            and times each --runs times through ReadModel.search, as the operator and, with --as, as that teammate \
            (the visibility rules applied). Build in release mode first.
            """)
    @OptionGroup var db: DatabaseOption
    @Option(name: .customLong("as"), help: "Also time the queries as this teammate.") var teammate: [String] = []
    @Option(help: "How many queries to draw.") var queries = 40
    @Option(help: "Timed runs of each query (the first run is also timed).") var runs = 3
    @Option(help: "Seed for drawing the queries.") var seed: UInt64 = 15
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let rt = try db.runtime()
        let list = try await rt.database.sampleSearchQueries(count: queries, seed: seed)
        guard !list.isEmpty else { throw ValidationError("the store holds no mail to draw queries from") }
        let emails = try await rt.database.counts().emails
        var report: [String: Any] = ["emails": emails, "queries": list, "runs": runs]
        var viewers: [(String, Viewer)] = [("operator", .operator)]
        for t in teammate { viewers.append((t, .teammate(t))) }
        var lines: [String] = []
        var perViewer: [String: Any] = [:]
        for (name, viewer) in viewers {
            var times: [Double] = []
            var found = 0
            for q in list {
                for _ in 0..<runs {
                    let start = ContinuousClock.now
                    let page = try await rt.readModel.search(q, for: viewer, limit: 20, surface: .cli)
                    let d = ContinuousClock.now - start
                    times.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                    found += page.results.isEmpty ? 0 : 1
                }
            }
            times.sort()
            func pct(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count) * p))] }
            let row: [String: Any] = [
                "medianMs": round(pct(0.5) * 10) / 10, "p90Ms": round(pct(0.9) * 10) / 10, "maxMs": round(times.last! * 10) / 10,
                "withResults": found / runs,
            ]
            perViewer[name] = row
            lines.append(
                "\(name): median \(row["medianMs"]!) ms, p90 \(row["p90Ms"]!) ms, max \(row["maxMs"]!) ms over \(times.count) searches (\(found / runs) of \(list.count) queries found threads)"
            )
        }
        report["viewers"] = perViewer
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(emails) emails, \(list.count) queries × \(runs) runs; e.g. \(list.prefix(4).joined(separator: " | "))")
            lines.forEach { print($0) }
        }
    }
}
