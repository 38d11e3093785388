import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Logging
import ServiceLifecycle
import Testing

@Suite struct SchedulerTests {
    /// Polls (real time, bounded) until `condition` holds.
    static func eventually(_ condition: @Sendable () async -> Bool) async throws {
        for _ in 0..<500 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met in time")
    }

    @Test func runNowTicksOnTheIntervalAndStopsGracefully() async throws {
        let (fake, _, _) = try await SyncHarness.fake("two-teammates")
        try await SyncHarness.with(fake) { h0 in
            var h = h0
            h.config.syncIntervalMinutes = 60  // CRM_GMAIL_SYNC_INTERVAL_MIN; the scheduler adds ±10% jitter
            try await h.enrollAll()
            let clock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
            let scheduler = try #require(try await h.runtime().scheduler(clock: clock))
            var logger = Logger(label: "scheduler-test")
            logger.logLevel = .critical
            let group = ServiceGroup(configuration: .init(services: [scheduler], gracefulShutdownSignals: [], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // A manual trigger for one mailbox runs at once.
                scheduler.runNow(.mailbox("alice@firm.example"))
                try await Self.eventually { await scheduler.outcomes().count == 1 }
                #expect(await scheduler.outcomes().first?.mailbox == "alice@firm.example")
                // Nothing else runs until the interval (with jitter, at most 66 min) has passed on the clock.
                try await Self.eventually { clock.sleepers == 1 }
                clock.advance(by: .seconds(30 * 60))
                // `advance` wakes every sleep that is due before it returns: the timer's (54 to 66 min) is
                // still waiting, so it has triggered nothing; no real time needs to pass to know that.
                #expect(clock.sleepers == 1)
                #expect(await scheduler.outcomes().count == 1)
                clock.advance(by: .seconds(40 * 60))
                try await Self.eventually { await scheduler.outcomes().count == 3 }
                #expect(Set(await scheduler.outcomes().dropFirst().map(\.mailbox)) == ["alice@firm.example", "bob@firm.example"])
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let runs = try await h.db.accounts().map(\.syncState)
            #expect(runs == [.idle, .idle])
        }
    }
}
