import Foundation
import CaptureParsing
public import Logging
public import ServiceLifecycle
import Synchronization

extension SyncEngine {
    /// Syncs every enabled mailbox with bounded concurrency; they share the client's project quota.
    public func syncAll(concurrency: Int = 2) async throws -> [SyncOutcome] {
        let mailboxes = try await database.accounts().filter { $0.enabled && !$0.syncState.blocksSync }.map(\.email)
        var outcomes: [SyncOutcome] = []
        await withTaskGroup(of: SyncOutcome.self) { group in
            var it = mailboxes.makeIterator()
            for _ in 0..<max(1, concurrency) {
                guard let m = it.next() else { break }
                group.addTask { await self.sync(mailbox: m) }
            }
            while let o = await group.next() {
                outcomes.append(o)
                if let m = it.next() { group.addTask { await self.sync(mailbox: m) } }
            }
        }
        return outcomes.sorted { $0.mailbox < $1.mailbox }
    }
}

/// How manual and timed triggers are coalesced, per target: a trigger while one is queued is absorbed;
/// a trigger while that target is running asks for one follow-up run after it (further ones are
/// absorbed), so a burst of any size causes at most one extra run. A value type, so the rules are
/// tested without a scheduler or a clock.
public struct TriggerCoalescer: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Queue it now.
        case enqueue
        /// Run once more when the running one finishes.
        case followUp
        /// Already covered by a queued run or a follow-up.
        case absorbed
    }

    var queued: Set<SyncScheduler.Trigger> = []
    var running: Set<SyncScheduler.Trigger> = []
    var followUps: Set<SyncScheduler.Trigger> = []

    public init() {}

    public mutating func request(_ t: SyncScheduler.Trigger) -> Decision {
        if queued.contains(t) { return .absorbed }
        if running.contains(t) { return followUps.insert(t).inserted ? .followUp : .absorbed }
        queued.insert(t)
        return .enqueue
    }

    public mutating func start(_ t: SyncScheduler.Trigger) {
        queued.remove(t)
        running.insert(t)
    }

    /// Ends a run; true when a follow-up was asked for (it is queued now and must be sent).
    public mutating func finish(_ t: SyncScheduler.Trigger) -> Bool {
        running.remove(t)
        guard followUps.remove(t) != nil else { return false }
        queued.insert(t)
        return true
    }
}

/// Runs `syncAll` every interval (with jitter), takes manual triggers (coalesced per mailbox, see
/// `TriggerCoalescer`), never syncs the same mailbox twice at once, and stops gracefully: a shutdown
/// cancels between messages, never inside a transaction.
public actor SyncScheduler: Service {
    public enum Trigger: Sendable, Hashable {
        case all
        case mailbox(String)
    }

    /// Outcomes kept for `outcomes()` (the newest).
    public static let historyLimit = 500

    let engine: SyncEngine
    let interval: Duration
    let jitterFraction: Double
    let concurrency: Int
    let clock: any CaptureClock
    let logger: Logger
    var random: SplitMix
    let triggers: AsyncStream<Trigger>
    let continuation: AsyncStream<Trigger>.Continuation
    let coalescer = Mutex(TriggerCoalescer())
    var running: Set<String> = []
    /// Outcomes of finished runs, newest last (for status and tests).
    public private(set) var history: [SyncOutcome] = []

    public init(
        engine: SyncEngine, interval: Duration, jitterFraction: Double = 0.1, concurrency: Int = 2, clock: any CaptureClock,
        seed: UInt64 = 7, logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.engine = engine
        self.interval = interval
        self.jitterFraction = jitterFraction
        self.concurrency = concurrency
        self.clock = clock
        self.logger = logger
        random = SplitMix(seed: seed)
        (triggers, continuation) = AsyncStream.makeStream(of: Trigger.self)
    }

    /// Asks for a sync now; returns at once (the scheduler runs it). Returns what became of the trigger:
    /// queued, a follow-up of the running sync, or absorbed by one already asked for.
    @discardableResult
    public nonisolated func runNow(_ trigger: Trigger = .all) -> TriggerCoalescer.Decision {
        let t = Self.normalized(trigger)
        let decision = coalescer.withLock { $0.request(t) }
        if decision == .enqueue { continuation.yield(t) }
        return decision
    }

    static func normalized(_ t: Trigger) -> Trigger {
        if case .mailbox(let m) = t { return .mailbox(m.lowercased()) }
        return t
    }

    /// The next wait: interval ± jitter.
    func nextDelay() -> Duration {
        let j = (Double(random.next() >> 11) / Double(1 << 53) * 2 - 1) * jitterFraction
        return .fromSeconds(max(1, interval.seconds * (1 + j)))
    }

    public func run() async throws {
        let timer = Task { [clock] in
            while !Task.isCancelled {
                let d = self.nextDelay()
                do { try await clock.sleep(for: d) } catch { break }
                self.runNow(.all)
            }
        }
        defer { timer.cancel() }
        await cancelWhenGracefulShutdown {
            for await trigger in self.triggers {
                if Task.isCancelled { break }
                self.coalescer.withLock { $0.start(trigger) }
                let outcomes = await self.handle(trigger)
                // The run is over before anyone can see its outcome: a trigger from then on queues a new run.
                if self.coalescer.withLock({ $0.finish(trigger) }) { self.continuation.yield(trigger) }
                await self.record(outcomes)
            }
        }
        continuation.finish()
    }

    /// Runs a trigger; returns its outcomes (recorded by the caller once the coalescer knows it ended).
    func handle(_ trigger: Trigger) async -> [SyncOutcome] {
        switch trigger {
        case .all:
            let targets = ((try? await engine.database.accounts()) ?? []).filter { $0.enabled && !running.contains($0.email) }
            let names = targets.map(\.email)
            running.formUnion(names)
            let outcomes = (try? await engine.syncAll(concurrency: concurrency)) ?? []
            running.subtract(names)
            return outcomes
        case .mailbox(let m):
            guard !running.contains(m) else { return [] }
            running.insert(m)
            let o = await engine.sync(mailbox: m)
            running.remove(m)
            return [o]
        }
    }

    func record(_ outcomes: [SyncOutcome]) {
        history += outcomes
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    public func outcomes() -> [SyncOutcome] { history }
}
