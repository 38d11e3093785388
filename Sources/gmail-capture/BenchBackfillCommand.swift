import CaptureFiles
import ArgumentParser
import FakeGmail
import FakeGmailBridge
import Foundation
import CaptureParsing
import GmailCapture
import Logging

struct BenchBackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "End-to-end backfill benchmark: FakeGmail -> client -> parser -> a fresh SQLite file.",
        discussion: """
            Generates a deterministic synthetic mailbox (mostly 5-50 KB, a quarter with attachments, 1% multi-MB, \
            threads, investors), serves it from FakeGmail in-process, or over loopback HTTP with --live, or from an \
            external fakegmail-server with --server and --key (then only the capture side is in this process, for \
            memory figures), and backfills every account. With quota on, time is virtual (the client's waits and the \
            fake's buckets run on one linked clock), so the achieved spend is exact; with quota off it is wall time.
            """
    )

    @Option(help: "Messages to generate.") var messages = 2_000
    @Option(help: "Mailboxes (messages are spread over them).") var accounts = 1
    @Option(help: "Quota simulation and cost table: off, classic or 2026.") var quota = "off"
    @Option(
        help:
            "Client budget in quota units per second per mailbox (quota on); default: the fake's per-user limit for the table (classic 250, 2026 100)."
    ) var unitsPerSec: Int?
    @Flag(help: "Serve FakeGmail over loopback HTTP (AsyncHTTPClient) instead of in-process.") var live = false
    @Option(help: "Use an external fakegmail-server at this base URL (with --key).") var server: String?
    @Option(help: "Service-account key file for --server.") var key: String?
    @Option(help: "Seed for the synthetic mailbox.") var seed: UInt64 = 8
    @Option(help: "Mailbox mix: realistic (mostly 5-50 KB, attachments) or small (1-8 KB notes).") var mix = "realistic"
    @Flag(help: "One JSON object.") var json = false
    @Flag(help: "Store without the full-text search index (migrations 0009 and 0014 left out), to measure what indexing costs.")
    var withoutSearchIndex = false
    @Flag(
        help:
            "After the run, time deriving every stored message's relationship entries again (investors, people), which the run did at its end."
    ) var rederiveRelationships = false

    func validate() throws {
        if QuotaConfig.named(quota) == nil { throw ValidationError("--quota must be off, classic or 2026") }
        if (server == nil) != (key == nil) { throw ValidationError("--server and --key go together") }
        if messages < 1 || accounts < 1 { throw ValidationError("--messages and --accounts must be positive") }
        if BenchMailbox.Mix(rawValue: mix) == nil { throw ValidationError("--mix must be realistic or small") }
    }

    func run() async throws {
        let baselineRSS = ProcessStats.currentRSSBytes() ?? 0
        let quotaConfig = QuotaConfig.named(quota)!
        let quotaOn = quotaConfig.enabled
        let mailbox = BenchMailbox(messages: messages, accounts: accounts, seed: seed, mix: BenchMailbox.Mix(rawValue: mix)!)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try MigrationRunner.bundled()
        let runner =
            withoutSearchIndex
            ? MigrationRunner(migrations: all.migrations.filter { !$0.name.hasPrefix("0009_") && !$0.name.hasPrefix("0014_") }) : all
        let database = try CaptureDatabase(path: dir.appendingPathComponent("crm.db").path, migrations: runner)
        for a in mailbox.accounts { try await database.upsertAccount(email: a, userId: nil) }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let costs: QuotaCostTable = quota == "2026" ? .table2026 : .classic

        var result: Result
        if let server, let key {
            guard let keyData = FileManager.default.contents(atPath: key) else { throw ValidationError("\(key): cannot be read") }
            result = try await backfill(
                database: database, transport: AsyncHTTPClientTransport(), base: server, keyJSON: keyData, fake: nil,
                clock: SystemClock(), costs: costs, quotaOn: false, bytes: nil)
        } else {
            let fake = FakeGmail(options: .init(seed: seed, quota: quotaConfig, baseURL: "http://fakegmail.bench"))
            let bytes = try await mailbox.seed(fake)
            let clock: any CaptureClock = quotaOn ? await VirtualCaptureClock.linked(to: fake) : SystemClock()
            if live {
                result = try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger) { base in
                    // The key's token_uri must name the live server, so it is issued once the port is known.
                    let keyJSON = try await fake.serviceAccountKeyJSON()
                    return try await backfill(
                        database: database, transport: AsyncHTTPClientTransport(), base: base, keyJSON: keyJSON, fake: fake,
                        clock: clock, costs: costs, quotaOn: quotaOn, bytes: bytes)
                }
            } else {
                let keyJSON = try await fake.serviceAccountKeyJSON()
                result = try await backfill(
                    database: database, transport: InProcessFakeTransport(fake: fake), base: "http://fakegmail.bench",
                    keyJSON: keyJSON, fake: fake, clock: clock, costs: costs, quotaOn: quotaOn, bytes: bytes)
            }
        }
        result.peakRSSBytes = ProcessStats.peakRSSBytes() ?? 0
        result.baselineRSSBytes = baselineRSS
        result.mode = server != nil ? "external-server" : live ? "live-loopback" : "in-process"
        result.quota = quota
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            print(String(decoding: try e.encode(result), as: UTF8.self))
        } else {
            print(result.text)
        }
    }

    struct Result: Codable {
        var impl = "swift-gmailcapture"
        var mode = ""
        var quota = ""
        var messages = 0
        var stored = 0
        var bytes = 0
        var seconds = 0.0
        var virtualSeconds: Double?
        var messagesPerSec = 0.0
        var mbPerSec = 0.0
        var httpRequests: Int?
        var gmailCalls: Int?
        var batchSizeFinal = 0
        var batchCeiling = 0
        var quotaUnits = 0
        var unitsPerSecBudget: Int?
        var unitsPerSecAchieved: Double?
        var rateLimitAnswers: Int?
        var peakRSSBytes = 0
        var baselineRSSBytes = 0
        var relationshipRederiveSeconds: Double?

        var text: String {
            var lines = [
                "swift-gmailcapture backfill (\(mode), quota \(quota)): \(stored)/\(messages) messages, \(bytes) bytes in \(String(format: "%.2f", seconds)) s wall"
            ]
            lines.append(String(format: "  %.0f messages/s, %.1f MB/s end to end", messagesPerSec, mbPerSec))
            if let r = httpRequests {
                lines.append(
                    "  HTTP requests: \(r) (Gmail calls incl. batch parts: \(gmailCalls ?? 0)); batch size now \(batchSizeFinal), ceiling \(batchCeiling)"
                )
            }
            if let v = virtualSeconds, let b = unitsPerSecBudget, let a = unitsPerSecAchieved {
                lines.append(
                    String(
                        format: "  quota: %d units in %.1f s virtual = %.1f units/s of a %d budget (%.1f%%); rate-limit answers: %d",
                        quotaUnits, v, a, b, a / Double(b) * 100, rateLimitAnswers ?? 0))
            } else {
                lines.append("  quota units spent: \(quotaUnits); rate-limit answers: \(rateLimitAnswers.map(String.init) ?? "n/a")")
            }
            lines.append(
                String(
                    format: "  peak RSS %.1f MiB (baseline %.1f MiB)", Double(peakRSSBytes) / 1_048_576,
                    Double(baselineRSSBytes) / 1_048_576))
            if let d = relationshipRederiveSeconds {
                lines.append(String(format: "  deriving the relationship entries of every stored message again: %.2f s", d))
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Units per second per mailbox the client spends with quota on.
    var budget: Int { unitsPerSec ?? (QuotaConfig.named(quota)?.perUserPerMinute ?? 15_000) / 60 }

    func backfill(
        database: CaptureDatabase, transport: any HTTPTransport, base: String, keyJSON: Data, fake: FakeGmail?,
        clock: any CaptureClock, costs: QuotaCostTable, quotaOn: Bool, bytes: Int?
    ) async throws -> Result {
        let tokens = try ServiceAccountTokenProvider(keyJSON: keyJSON, transport: transport, clock: clock)
        let perMailbox = quotaOn ? budget : 10_000_000
        let limiter = RateLimiter(
            unitsPerSecondPerMailbox: perMailbox, unitsPerSecondPerProject: max(perMailbox * accounts, 20_000), clock: clock)
        let client = GmailClient(baseURL: base, transport: transport, tokens: tokens, limiter: limiter, costs: costs, clock: clock)
        var settings = SyncSettings()
        settings.pageSize = 500
        settings.workspaceDomain = "firm.example"
        let engine = SyncEngine(database: database, client: client, limiter: limiter, settings: settings, clock: clock)
        let virtualStart = clock.now()
        let start = ContinuousClock.now
        let outcomes = try await engine.syncAll(concurrency: min(accounts, 4))
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.seconds
        if let failed = outcomes.first(where: { $0.status != .ok }) {
            throw ValidationError(
                "benchmark invalid: \(failed.mailbox) ended \(failed.status.rawValue) (\(failed.error ?? "no error recorded"))")
        }
        var r = Result()
        r.messages = messages
        r.stored = outcomes.reduce(0) { $0 + $1.counts.stored }
        if r.stored != messages { throw ValidationError("benchmark invalid: stored \(r.stored) of \(messages) messages") }
        if let bytes {
            r.bytes = bytes
        } else {
            r.bytes = try await database.summary().bytes
        }
        r.seconds = seconds
        r.messagesPerSec = Double(r.stored) / seconds
        r.mbPerSec = Double(r.bytes) / 1e6 / seconds
        r.batchSizeFinal = await client.batchSize
        r.batchCeiling = await client.batchCeiling
        for a in BenchMailbox(messages: 1, accounts: accounts).accounts { r.quotaUnits += await limiter.unitsSpent(a) }
        if let fake {
            let stats = await fake.stats()
            r.gmailCalls = stats.requests.filter { $0.key.hasPrefix("gmail.") }.values.reduce(0, +)
            r.httpRequests =
                (stats.requests["batch"] ?? 0)
                + stats.requests.filter { $0.key.hasPrefix("gmail.") && $0.key != "gmail.users.messages.get" }.values.reduce(0, +)
                + (stats.requests["oauth2.token"] ?? 0)
            r.rateLimitAnswers = await fake.journal().filter { $0.status == 429 || $0.status == 403 }.count
        }
        if quotaOn {
            let v = clock.now().timeIntervalSince(virtualStart)
            r.virtualSeconds = v
            r.unitsPerSecBudget = budget * accounts
            r.unitsPerSecAchieved = Double(r.quotaUnits) / v
        }
        if rederiveRelationships {
            let s = ContinuousClock.now
            try await database.rebuildRelationshipIndex(investors: [], workspaceDomain: settings.workspaceDomain)
            r.relationshipRederiveSeconds = (ContinuousClock.now - s).seconds
        }
        return r
    }
}
