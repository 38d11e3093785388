import ArgumentParser
import Foundation
import GmailCapture

struct BenchRelationshipsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relationships",
        abstract:
            "Relationship query latency on an existing store: the investors report, a timeline page, who-knows and suggestions, per viewer.",
        discussion: """
            Opens the database once (as `investors relationships` does), derives whatever the relationship index \
            has queued (timed separately: the first use after a migration, or after a large capture, derives \
            every queued message once), then times --runs investors reports as the operator and, with --as, as \
            each teammate (their hidden messages applied). Build in release mode first.
            """)
    @OptionGroup var db: DatabaseOption
    @Option(name: .customLong("as"), help: "Also time the report as this teammate.") var teammate: [String] = []
    @Option(help: "Timed runs per viewer.") var runs = 20
    @Option(help: "Compute as of this date (YYYY-MM-DD), else now.") var asOf: String?
    @Option(name: .customLong("who-knows"), help: "Also time who-knows for this address or domain (repeatable).")
    var whoKnows: [String] = []
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let a = asOf, (try? Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().parse(a)) == nil {
            throw ValidationError("--as-of must be a date, YYYY-MM-DD")
        }
    }

    static func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

    func run() async throws {
        let rt = try db.runtime()
        var reports = rt.relationships
        reports.asOf = asOf.flatMap { try? Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().parse($0) }
        let emails = try await rt.database.counts().emails
        let start = ContinuousClock.now
        let first = try await reports.investors(for: .operator)
        let firstMs = Self.ms(ContinuousClock.now - start)
        var viewers: [(String, Viewer)] = [("operator", .operator)]
        for t in teammate { viewers.append((t, .teammate(t))) }
        var lines = [
            "\(emails) emails, \(first.count) investors; first report (derives what is queued): \(String(format: "%.1f", firstMs)) ms"
        ]
        var perViewer: [String: Any] = [:]
        for (name, viewer) in viewers {
            var times: [Double] = []
            for _ in 0..<runs {
                let s = ContinuousClock.now
                _ = try await reports.investors(for: viewer)
                times.append(Self.ms(ContinuousClock.now - s))
            }
            // The busiest investor's first timeline page (the investor page and GET /api/email/investors/{id}).
            var pages: [Double] = []
            if let busiest = first.max(by: { $0.interactions < $1.interactions }) {
                for _ in 0..<runs {
                    let s = ContinuousClock.now
                    _ = try await reports.timeline(investorId: busiest.investorId, for: viewer, limit: 50, offset: 0)
                    pages.append(Self.ms(ContinuousClock.now - s))
                }
            }
            // who-knows per query and contact suggestions, the same way.
            var extra: [String: Double] = [:]
            for q in whoKnows {
                var t: [Double] = []
                for _ in 0..<runs {
                    let s = ContinuousClock.now
                    _ = try await reports.whoKnows(q, for: viewer)
                    t.append(Self.ms(ContinuousClock.now - s))
                }
                extra["who-knows " + q] = t.sorted()[t.count / 2]
            }
            if let busiest = first.max(by: { $0.interactions < $1.interactions }) {
                var t: [Double] = []
                for _ in 0..<runs {
                    let s = ContinuousClock.now
                    _ = try await reports.investors(for: viewer, investor: busiest.investorId)
                    t.append(Self.ms(ContinuousClock.now - s))
                }
                extra["busiest investor alone (reply medians)"] = t.sorted()[t.count / 2]
            }
            var sug: [Double] = []
            for _ in 0..<runs {
                let s = ContinuousClock.now
                _ = try await reports.suggestions(for: viewer)
                sug.append(Self.ms(ContinuousClock.now - s))
            }
            extra["contacts suggest"] = sug.sorted()[sug.count / 2]
            times.sort()
            pages.sort()
            let median = times[times.count / 2], p90 = times[min(times.count - 1, Int(Double(times.count) * 0.9))]
            let pageMedian = pages.isEmpty ? 0 : pages[pages.count / 2]
            perViewer[name] = [
                "medianMs": median, "p90Ms": p90, "timelineMedianMs": pageMedian,
                "otherMedianMs": extra,
            ]
            lines.append(
                "\(name): median \(String(format: "%.1f", median)) ms, p90 \(String(format: "%.1f", p90)) ms over \(runs) reports; "
                    + "busiest investor's timeline page median \(String(format: "%.1f", pageMedian)) ms; "
                    + extra.sorted { $0.key < $1.key }.map { "\($0.key) median \(String(format: "%.1f", $0.value)) ms" }.joined(
                        separator: "; "))
        }
        if json {
            let data = try JSONSerialization.data(
                withJSONObject: ["emails": emails, "investors": first.count, "firstMs": firstMs, "viewers": perViewer],
                options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            lines.forEach { print($0) }
        }
    }
}
