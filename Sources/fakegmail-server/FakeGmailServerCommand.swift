import ArgumentParser
import FakeGmail
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

@main
struct FakeGmailServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fakegmail-server",
        abstract: "A deterministic fake of the Gmail API (and Google's OAuth token endpoint) for staging and tests.",
        discussion: "The first line on stdout is exactly `listening on http://HOST:PORT`. SIGINT/SIGTERM stop it cleanly."
    )

    @Option(help: "Address to bind (loopback by default).") var host = "127.0.0.1"
    @Option(help: "Port; 0 picks a free one.") var port = 8025
    @Option(help: "Scenario directory holding scenario.json and .eml files.") var scenario: String?
    @Option(help: "Seed for ids and probabilistic faults.") var seed: UInt64 = 1
    @Option(help: "Write a Google service-account key file whose token_uri points at this server.") var serviceAccountOut: String?
    @Option(help: "Quota simulation: classic, 2026 or off.") var quota = "classic"
    @Option(help: "Keep at most this many history records per mailbox.") var historyRetention: Int?
    @Option(help: "Keep the newest this many requests in the journal (GET /__fake/journal).") var journalLimit = 100_000
    @Option(help: "The Google Cloud project id (service-account keys; users.watch wants topics in it).") var projectId =
        "fake-gmail-project"
    @Option(help: "Push delivery round interval in real milliseconds (0: no push delivery).") var pushIntervalMs = 50
    @Option(help: "virtual: the clock moves only through /__fake/clock/advance; wall: it follows real time.") var clock = "virtual"
    @Flag(help: "Log every request to stderr.") var verbose = false

    func validate() throws {
        if QuotaConfig.named(quota) == nil { throw ValidationError("--quota must be classic, 2026 or off (got \"\(quota)\")") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if journalLimit < 1 { throw ValidationError("--journal-limit must be at least 1") }
        if !["virtual", "wall"].contains(clock) { throw ValidationError("--clock must be virtual or wall (got \"\(clock)\")") }
        if pushIntervalMs < 0 { throw ValidationError("--push-interval-ms must be 0 or more") }
        if projectId.isEmpty || projectId.contains("/") { throw ValidationError("--project-id must be a project id") }
    }

    func run() async throws {
        var logger = Logger(label: "fakegmail-server")
        logger.logLevel = verbose ? .info : .warning
        let loaded: Scenario?
        do {
            loaded = try scenario.map { try Scenario.load(directory: URL(fileURLWithPath: $0)) }
        } catch let e as Scenario.LoadError {
            FileHandle.standardError.write(Data("fakegmail-server: \(e.description)\n".utf8))
            throw ExitCode(2)
        }
        // The virtual clock starts at the scenario's newest message (new mail is never older than old mail).
        let newest = loaded?.users.flatMap(\.messages).compactMap(\.internalDate).max()
        var options = FakeGmail.Options(
            seed: seed, quota: QuotaConfig.named(quota)!, historyRetentionRecords: historyRetention,
            projectID: projectId, journalLimit: journalLimit)
        if let n = newest { options.clockStartMillis = max(options.clockStartMillis, n) }
        let fake = FakeGmail(options: options)
        await fake.setPushSender(HTTPPushSender())
        if let s = loaded { try await s.seed(into: fake) }
        let keyOut = serviceAccountOut
        let host = host
        let app = FakeGmailHTTPServer.application(fake: fake, host: host, port: port, logger: logger) { bound in
            await fake.setBaseURL("http://\(host):\(bound)")
            if let out = keyOut {
                do {
                    let key = try await fake.serviceAccountKeyJSON()
                    try key.write(to: URL(fileURLWithPath: out), options: .atomic)
                    _ = chmod(out, 0o600)
                } catch {
                    FileHandle.standardError.write(Data("fakegmail-server: cannot write \(out): \(error)\n".utf8))
                }
            }
            FileHandle.standardOutput.write(Data("listening on http://\(host):\(bound)\n".utf8))
        }
        var services: [any Service] = [app]
        if pushIntervalMs > 0 { services.append(PushPump(fake: fake, intervalMillis: pushIntervalMs, wallClock: clock == "wall")) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
