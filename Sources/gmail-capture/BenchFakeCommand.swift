import NIOHTTP1
import CaptureFiles
import ArgumentParser
import AsyncHTTPClient
import FakeGmail
import FakeGmailBridge
import Foundation
import CaptureParsing
import GmailCapture
import Logging
import NIOCore

struct BenchFakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake",
        abstract: "FakeGmail throughput over loopback (messages.get full, messages.list) and memory per stored message.",
        discussion: "A concurrent AsyncHTTPClient load generator against the fake on 127.0.0.1; latencies are per request, wall clock."
    )
    @Option(help: "Messages served.") var messages = 2_000
    @Option(help: "Concurrent requests in flight.") var concurrency = 32
    @Option(help: "Requests per endpoint (0: memory figure only).") var requests = 20_000
    @Option(help: "Messages stored for the memory figure (0 to skip).") var memoryMessages = 100_000
    @Option(help: "Mailbox mix for the memory figure: realistic (about 115 KB a message) or small (1-8 KB notes).")
    var memoryMix: String = "small"
    @Option(
        help: "Load an external fakegmail-server at this base URL instead (its first user, e.g. from `bench generate`); no memory figure.")
    var server: String?
    @Flag(help: "One JSON object.") var json = false

    struct Figures: Codable {
        var endpoint: String
        var requests: Int
        var seconds: Double
        var requestsPerSec: Double
        var p50Millis: Double
        var p99Millis: Double
        var errors: Int
    }

    struct Out: Codable {
        var impl = "fakegmail"
        var concurrency: Int
        var figures: [Figures]
        var memoryMix: String
        var memoryMessages: Int
        var memoryRawBytes: Int
        var memoryRSSDeltaBytes: Int
        var rssPer100kBytes: Int
        /// RSS beyond the raw bytes themselves, per message.
        var overheadBytesPerMessage: Int
    }

    func validate() throws {
        if BenchMailbox.Mix(rawValue: memoryMix) == nil { throw ValidationError("--memory-mix must be realistic or small") }
    }

    func run() async throws {
        var logger = Logger(label: "bench-fake")
        logger.logLevel = .critical
        var config = HTTPClient.Configuration()
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        let figures: [Figures]
        do {
            if let server {
                let (token, ids) = try await Self.discover(client, base: server, user: BenchMailbox(messages: 1).accounts[0])
                figures = try await loadBoth(client, base: server, token: token, ids: ids)
            } else {
                let fake = FakeGmail(options: .init(seed: 8, quota: .off, baseURL: "http://127.0.0.1"))
                let mailbox = BenchMailbox(messages: messages, accounts: 1, seed: 8)
                try await mailbox.seed(fake)
                let token = await fake.accessToken(for: mailbox.accounts[0])
                let ids = await fake.messageIDs(user: mailbox.accounts[0])
                figures = try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger) { base in
                    try await loadBoth(client, base: base, token: token, ids: ids)
                }
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()

        var rawBytes = 0, delta = 0
        if memoryMessages > 0 && server == nil {
            let before = ProcessStats.currentRSSBytes() ?? 0
            let big = FakeGmail(options: .init(seed: 9, quota: .off))
            rawBytes = try await BenchMailbox(messages: memoryMessages, accounts: 1, seed: 9, mix: BenchMailbox.Mix(rawValue: memoryMix)!)
                .seed(big)
            delta = (ProcessStats.currentRSSBytes() ?? 0) - before
            _ = await big.users()
        }
        let measured = server == nil ? memoryMessages : 0
        let out = Out(
            concurrency: concurrency, figures: figures, memoryMix: memoryMix, memoryMessages: measured, memoryRawBytes: rawBytes,
            memoryRSSDeltaBytes: delta, rssPer100kBytes: measured > 0 ? Int(Double(delta) / Double(measured) * 100_000) : 0,
            overheadBytesPerMessage: measured > 0 ? (delta - rawBytes) / measured : 0)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            print(String(decoding: try e.encode(out), as: UTF8.self))
            return
        }
        for f in figures {
            print(
                String(
                    format: "%@: %d requests in %.2f s = %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors (concurrency %d)",
                    f.endpoint, f.requests, f.seconds, f.requestsPerSec, f.p50Millis, f.p99Millis, f.errors, concurrency))
        }
        if memoryMessages > 0 && server == nil {
            print(
                String(
                    format:
                        "memory (%@ mix): %d messages (%.1f MB raw) added %.1f MiB RSS = %.1f MiB per 100k messages; %d bytes a message beyond the raw bytes",
                    memoryMix, memoryMessages, Double(rawBytes) / 1e6, Double(delta) / 1_048_576, Double(out.rssPer100kBytes) / 1_048_576,
                    out.overheadBytesPerMessage))
        }
    }

    func loadBoth(_ client: HTTPClient, base: String, token: String, ids: [String]) async throws -> [Figures] {
        if requests == 0 { return [] }
        guard !ids.isEmpty else { throw ValidationError("the mailbox is empty") }
        let get = try await load(client, endpoint: "messages.get (format=full)", total: requests) { n in
            "\(base)/gmail/v1/users/me/messages/\(ids[n % ids.count])?format=full&prettyPrint=false"
        } token: {
            token
        }
        let list = try await load(client, endpoint: "messages.list (maxResults=100)", total: requests) { _ in
            "\(base)/gmail/v1/users/me/messages?maxResults=100&prettyPrint=false"
        } token: {
            token
        }
        return [get, list]
    }

    /// An access token from the server's control plane, and the mailbox's message ids (paged list).
    static func discover(_ client: HTTPClient, base: String, user: String) async throws -> (String, [String]) {
        var mint = HTTPClientRequest(url: "\(base)/__fake/users/\(user)/token")
        mint.method = .POST
        let minted = try await client.execute(mint, timeout: .seconds(30))
        let body = try await minted.body.collect(upTo: 1 << 20)
        guard minted.status.code == 200,
            let token = (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["access_token"] as? String
        else {
            throw ValidationError("\(base): cannot mint a token for \(user) (status \(minted.status.code))")
        }
        var ids: [String] = []
        var page: String?
        repeat {
            var req = HTTPClientRequest(url: "\(base)/gmail/v1/users/me/messages?maxResults=500" + (page.map { "&pageToken=\($0)" } ?? ""))
            req.headers.add(name: "Authorization", value: "Bearer \(token)")
            let resp = try await client.execute(req, timeout: .seconds(30))
            let obj =
                try JSONSerialization.jsonObject(with: Data(try await resp.body.collect(upTo: 64 << 20).readableBytesView))
                as? [String: Any]
            ids += (obj?["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            page = obj?["nextPageToken"] as? String
        } while page != nil
        return (token, ids)
    }

    func load(
        _ client: HTTPClient, endpoint: String, total: Int, url: @escaping @Sendable (Int) -> String,
        token: @escaping @Sendable () -> String
    ) async throws -> Figures {
        let start = ContinuousClock.now
        let perWorker = (total + concurrency - 1) / concurrency
        let (latencies, errors) = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var lat: [Double] = []
                    var errs = 0
                    lat.reserveCapacity(perWorker)
                    for k in 0..<perWorker {
                        let n = w * perWorker + k
                        if n >= total { break }
                        var req = HTTPClientRequest(url: url(n))
                        req.headers.add(name: "Authorization", value: "Bearer \(token())")
                        let t0 = ContinuousClock.now
                        do {
                            let resp = try await client.execute(req, timeout: .seconds(30))
                            _ = try await resp.body.collect(upTo: 64 << 20)
                            if resp.status.code != 200 { errs += 1 }
                        } catch { errs += 1 }
                        let d = ContinuousClock.now - t0
                        lat.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                    }
                    return (lat, errs)
                }
            }
            var all: [Double] = []
            var errs = 0
            for try await (l, e) in group { all += l; errs += e }
            return (all.sorted(), errs)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.seconds
        func pct(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return Figures(
            endpoint: endpoint, requests: latencies.count, seconds: seconds, requestsPerSec: Double(latencies.count) / seconds,
            p50Millis: pct(0.5), p99Millis: pct(0.99), errors: errors)
    }
}
