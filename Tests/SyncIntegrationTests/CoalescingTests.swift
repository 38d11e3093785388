import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct TriggerCoalescerTests {
    typealias D = TriggerCoalescer.Decision

    /// The rules as a table: (operation, target, expected decision or follow-up).
    @Test func theRulesAsATable() {
        var c = TriggerCoalescer()
        let a = SyncScheduler.Trigger.mailbox("a@firm.example"), b = SyncScheduler.Trigger.mailbox("b@firm.example")
        #expect(c.request(a) == .enqueue)
        #expect(c.request(a) == .absorbed)  // queued: absorbed
        #expect(c.request(b) == .enqueue)  // targets are separate
        #expect(c.request(.all) == .enqueue)
        c.start(a)
        #expect(c.request(a) == .followUp)  // running: one follow-up
        for _ in 0..<20 { #expect(c.request(a) == .absorbed) }
        let followUp = c.finish(a)
        #expect(followUp)  // the follow-up is queued now
        #expect(c.request(a) == .absorbed)
        c.start(a)
        let none = c.finish(a)
        #expect(none == false)  // nothing asked while it ran
        #expect(c.request(a) == .enqueue)
    }
}

/// Holds every Gmail call while closed (the sync under way stays under way).
final class Gate: HTTPTransport, Sendable {
    let inner: any HTTPTransport
    let state = Mutex((open: true, waiting: 0))
    init(_ inner: any HTTPTransport) { self.inner = inner }
    func set(open: Bool) { state.withLock { $0.open = open } }
    var waiting: Int { state.withLock { $0.waiting } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        state.withLock { $0.waiting += 1 }
        while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(2)) }
        state.withLock { $0.waiting -= 1 }
        return try await inner.send(request)
    }
}

@Suite struct RunNowCoalescingTests {
    /// 20 triggers in a burst while a mailbox syncs cause exactly one extra run, never a concurrent one.
    @Test func aBurstOfTriggersCausesAtMostOneExtraRun() async throws {
        let (fake, _, _) = try await SyncHarness.fake("two-teammates")
        try await SyncHarness.with(fake) { h0 in
            var h = h0
            h.config.syncIntervalMinutes = 60
            try await h.enrollAll()
            let gate = Gate(h.transport)
            let clock = ManualCaptureClock(start: Date(timeIntervalSince1970: 1_709_658_000))
            let scheduler = try #require(try await h.runtime(transport: gate).scheduler(clock: clock))
            var logger = Logger(label: "coalescing-test")
            logger.logLevel = .critical
            let group = ServiceGroup(configuration: .init(services: [scheduler], gracefulShutdownSignals: [], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                gate.set(open: false)
                #expect(scheduler.runNow(.mailbox("alice@firm.example")) == .enqueue)
                try await SchedulerTests.eventually { gate.waiting > 0 }  // alice's sync is under way
                var decisions: [TriggerCoalescer.Decision] = []
                for _ in 0..<20 { decisions.append(scheduler.runNow(.mailbox("ALICE@firm.example"))) }
                #expect(decisions.first == .followUp && decisions.dropFirst().allSatisfy { $0 == .absorbed })
                gate.set(open: true)
                try await SchedulerTests.eventually { await scheduler.outcomes().count == 2 }
                // A barrier instead of waiting for time to pass: triggers are served one at a time, so once
                // another sync is held at the closed gate, alice's second run has been closed off
                // (follow-up or not), and with the gate closed nothing can move on. A third alice run
                // would now be queued (absorbed) or running (follow-up); neither may be.
                gate.set(open: false)
                #expect(scheduler.runNow(.mailbox("bob@firm.example")) == .enqueue)
                try await SchedulerTests.eventually { gate.waiting > 0 }
                #expect(await scheduler.outcomes().map(\.mailbox) == ["alice@firm.example", "alice@firm.example"])
                // Once idle, a trigger queues a run again.
                #expect(scheduler.runNow(.mailbox("alice@firm.example")) == .enqueue)
                gate.set(open: true)
                try await SchedulerTests.eventually { await scheduler.outcomes().count == 4 }
                #expect(
                    await scheduler.outcomes().map(\.mailbox) == [
                        "alice@firm.example", "alice@firm.example", "bob@firm.example", "alice@firm.example",
                    ])
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let runs = try await h.db.status().first { $0.email == "alice@firm.example" }
            #expect(runs?.lastRun?.status == .ok)
        }
    }
}
