import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Push and pull over real sockets on the wall clock: fakegmail's server (its push pump following real
/// time) and the capture's own HTTP server, as `fakegmail-server --clock wall` and `serve` run them. The
/// scheduler's timer never fires here, so every message stored came through a notification. The mail
/// is the Fixtures/history scenario `push-latency`: 2 messages, then one new message per `sample-N`
/// checkpoint, each 1.1 s after the last (outside the notifier's one-per-second window).
///
/// Also the benchmark: `PUSH_LATENCY_SAMPLES=40 swift test --skip-build --filter PushLiveTests` prints
/// delivery-to-stored latency p50/p99 for each mode (BENCHMARKS.md "Push latency"; the scenario has 40).
@Suite(.serialized) struct PushLiveTests {
    static var samples: Int { ProcessInfo.processInfo.environment["PUSH_LATENCY_SAMPLES"].flatMap(Int.init) ?? 4 }

    @Test(arguments: [CaptureConfig.PushMode.push, .pull])
    func newMailReachesTheDatabaseWithinTwoSeconds(mode: CaptureConfig.PushMode) async throws {
        let (fake, replay) = try await PushHarness.fake(scenario: "push-latency")
        let samples = Self.samples
        let available = replay.scenario.steps.filter { if case .checkpoint(let n) = $0 { n.hasPrefix("sample-") } else { false } }.count
        try #require((1...available).contains(samples), "push-latency has \(available) samples; PUSH_LATENCY_SAMPLES=\(samples)")
        let logger = Logger(label: "push-live", factory: { _ in SwiftLogNoOpLogHandler() })
        let latencies = try await FakeGmailHTTPServer.withLiveServer(
            fake, logger: logger, pushPump: PushPump(fake: fake, intervalMillis: 20, wallClock: true)
        ) { base in
            let h = try await PushHarness.make(fake, mode: mode, baseURL: base, transport: AsyncHTTPClientTransport(), clock: SystemClock())
            let router = Router()
            router.addRoutes(h.runtime.routes(runNow: { h.scheduler.runNow($0) }).collection(), atPath: "/api/email")
            router.addRoutes(h.routes.collection(), atPath: "/api/email")
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
            return try await app.test(.live) { client in
                let port = try #require(client.port)
                if mode == .push {
                    try await fake.createSubscription(
                        PushHarness.pushSubscription, topic: PushHarness.topic,
                        pushEndpoint: "http://127.0.0.1:\(port)/api/email/push?token=\(PushHarness.secret)")
                    await fake.setPushSender(HTTPPushSender())
                }
                return try await h.running(service: true) {
                    try await replay.run(to: "watched")
                    h.scheduler.runNow(.all)
                    try await h.waitOutcomes(1)
                    while try await h.db.pushStates().first?.watchExpiresAt == nil { try await Task.sleep(for: .milliseconds(5)) }
                    var out: [Duration] = []
                    for n in 1...samples {
                        // 1.1 s of real time as well (the wall-clock pump follows it), and the last sample's
                        // sync over: each measurement starts from a quiet capture, as in BENCHMARKS.md.
                        try await Task.sleep(for: .milliseconds(1_100))
                        try await h.quiesce()
                        // The sample's steps: 1.1 s on (outside the notifier's one-per-second window, so the
                        // change is notified at once), the new message, the pushes due. Timed from the delivery.
                        let delivered = try #require(try await replay.run(to: "sample-\(n)"))
                        try await h.waitStored(2 + n, within: .seconds(2))
                        out.append(delivered.duration(to: .now))
                    }
                    return out
                }
            }
        }
        let ms = latencies.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
        func pct(_ p: Double) -> Double { ms[min(ms.count - 1, Int((p * Double(ms.count)).rounded(.up)) - 1)] }
        print(
            String(
                format: "push latency (%@, loopback, wall clock): n=%d p50 %.0f ms, p99 %.0f ms, max %.0f ms", mode.rawValue, ms.count,
                pct(0.5), pct(0.99), ms.last ?? 0))
        #expect(ms.allSatisfy { $0 < 2_000 })
    }
}
