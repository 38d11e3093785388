import Foundation
import Logging
import ServiceLifecycle

extension SyncEngine {
    /// Syncs every enabled mailbox with bounded concurrency; they share the client's project quota.
    public func syncAll(concurrency: Int = 2) async throws -> [SyncOutcome] {
        let mailboxes = try await database.accounts().filter { $0.enabled && !Self.blockedStates.contains($0.syncState) }.map(\.email)
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

/// Runs `syncAll` every interval (with jitter), takes manual triggers, never syncs the same mailbox twice
/// at once, and stops gracefully: a shutdown cancels between messages, never inside a transaction.
public actor SyncScheduler: Service {
    public enum Trigger: Sendable, Equatable {
        case all
        case mailbox(String)
    }

    let engine: SyncEngine
    let interval: Duration
    let jitterFraction: Double
    let concurrency: Int
    let clock: any CaptureClock
    let logger: Logger
    var random: SplitMix
    let triggers: AsyncStream<Trigger>
    let continuation: AsyncStream<Trigger>.Continuation
    var running: Set<String> = []
    /// Outcomes of finished runs, newest last (for status and tests).
    public private(set) var history: [SyncOutcome] = []

    public init(engine: SyncEngine, interval: Duration, jitterFraction: Double = 0.1, concurrency: Int = 2, clock: any CaptureClock,
                seed: UInt64 = 7, logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.engine = engine
        self.interval = interval
        self.jitterFraction = jitterFraction
        self.concurrency = concurrency
        self.clock = clock
        self.logger = logger
        random = SplitMix(seed: seed)
        (triggers, continuation) = AsyncStream.makeStream(of: Trigger.self)
    }

    /// Asks for a sync now; returns at once (the scheduler runs it).
    public nonisolated func runNow(_ trigger: Trigger = .all) {
        continuation.yield(trigger)
    }

    /// The next wait: interval ± jitter.
    func nextDelay() -> Duration {
        let j = (Double(random.next() >> 11) / Double(1 << 53) * 2 - 1) * jitterFraction
        return .fromSeconds(max(1, interval.seconds * (1 + j)))
    }

    public func run() async throws {
        let timer = Task { [clock, continuation] in
            while !Task.isCancelled {
                let d = self.nextDelay()
                do { try await clock.sleep(for: d) } catch { break }
                continuation.yield(.all)
            }
        }
        defer { timer.cancel() }
        await cancelWhenGracefulShutdown {
            for await trigger in self.triggers {
                if Task.isCancelled { break }
                await self.handle(trigger)
            }
        }
        continuation.finish()
    }

    func handle(_ trigger: Trigger) async {
        switch trigger {
        case .all:
            let targets = ((try? await engine.database.accounts()) ?? []).filter { $0.enabled && !running.contains($0.email) }
            let names = targets.map(\.email)
            running.formUnion(names)
            let outcomes = (try? await engine.syncAll(concurrency: concurrency)) ?? []
            running.subtract(names)
            history += outcomes
        case .mailbox(let m):
            guard !running.contains(m) else { return }
            running.insert(m)
            let o = await engine.sync(mailbox: m)
            running.remove(m)
            history.append(o)
        }
    }

    public func outcomes() -> [SyncOutcome] { history }
}
