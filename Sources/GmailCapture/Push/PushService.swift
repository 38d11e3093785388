public import Foundation
import CaptureParsing
public import Logging
public import ServiceLifecycle

/// Keeps Gmail push running beside the scheduler (same ServiceGroup, `serve` and `sync` without
/// `--once`): on start and whenever `PushPlanner` says so (daily, before expiry, after a lapse or a
/// failure), `users.watch` for every enabled mailbox; in pull mode, a pull loop over the subscription that
/// acknowledges a message once its notification is recorded and the mailbox's sync woken. The scheduler's
/// interval stays as the safety net for dropped notifications.
public actor PushService: Service {
    /// What one renewal pass did for one mailbox.
    public enum WatchOutcome: Sendable, Equatable {
        case watched(PushPlanner.Reason, expiresAt: Date)
        case failed(PushPlanner.Reason, String)
        case notDue(until: Date)
        case stopped
    }

    /// How the pull loop waits when the subscription is empty (a real Pub/Sub pull holds the request
    /// open until messages come; an empty answer backs off from `min` doubling to `max`, so a notification
    /// waits at most half a second to be pulled).
    public struct PullPacing: Sendable, Equatable {
        public var idleMin: Duration = .milliseconds(100)
        public var idleMax: Duration = .milliseconds(500)
        public var errorMin: Duration = .seconds(1)
        public var errorMax: Duration = .seconds(60)
        public var maxMessages = 100
        public init() {}
    }

    let mode: CaptureConfig.PushMode
    let topic: String
    let client: GmailClient
    let database: CaptureDatabase
    let pubsub: PubSubClient?
    let inbox: PushInbox
    let planner: PushPlanner
    let pacing: PullPacing
    let clock: any CaptureClock
    let logger: Logger

    public init(
        mode: CaptureConfig.PushMode, topic: String, client: GmailClient, database: CaptureDatabase, pubsub: PubSubClient?,
        inbox: PushInbox, planner: PushPlanner = PushPlanner(), pacing: PullPacing = PullPacing(), clock: any CaptureClock,
        logger: Logger = Logger(label: "gmail-capture.noop", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.mode = mode
        self.topic = topic
        self.client = client
        self.database = database
        self.pubsub = pubsub
        self.inbox = inbox
        self.planner = planner
        self.pacing = pacing
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.renewLoop() }
                if self.mode == .pull, self.pubsub != nil { group.addTask { await self.pullLoop() } }
                await group.waitForAll()
            }
        }
    }

    // MARK: - Watches

    func renewLoop() async {
        while !Task.isCancelled {
            let outcomes = await renewDue()
            let now = clock.now()
            var decisions: [PushPlanner.Decision] = []
            for o in outcomes.values {
                switch o {
                case .notDue(let t): decisions.append(.waitUntil(t))
                // A failed watch is looked at again after the first backoff step (the planner then says how long).
                case .failed: decisions.append(.waitUntil(now.addingTimeInterval(planner.retryBackoff(failures: 1))))
                case .watched, .stopped: break
                }
            }
            let next = planner.nextCheck(decisions, now: now)
            do { try await clock.sleep(for: .fromSeconds(max(1, next.timeIntervalSince(now)))) } catch { return }
        }
    }

    /// One renewal pass: `users.watch` for every enabled mailbox that is due (and `users.stop` for paused
    /// mailboxes still watched). Returns what was done per mailbox.
    @discardableResult
    public func renewDue() async -> [String: WatchOutcome] {
        guard let states = try? await database.pushStates() else { return [:] }
        let blocked = Set(((try? await database.accounts()) ?? []).filter { $0.syncState.blocksSync }.map(\.email))
        var out: [String: WatchOutcome] = [:]
        for s in states {
            let now = clock.now()
            if !s.enabled || blocked.contains(s.email) {
                guard s.watchExpiresAt.map({ $0 > now }) ?? false else { continue }
                try? await client.stop(mailbox: s.email)
                try? await database.clearWatch(accountId: s.accountId)
                out[s.email] = .stopped
                continue
            }
            switch planner.decide(PushPlanner.Watch(s), now: now) {
            case .waitUntil(let t):
                out[s.email] = .notDue(until: t)
            case .watchNow(let reason):
                out[s.email] = await watch(s, reason: reason)
            }
        }
        return out
    }

    func watch(_ s: CaptureDatabase.PushState, reason: PushPlanner.Reason) async -> WatchOutcome {
        do {
            let answer = try await client.watch(mailbox: s.email, topicName: topic)
            try await database.recordWatch(
                accountId: s.accountId, historyId: answer.historyId, expiresAt: answer.expiresAt, at: clock.now())
            logger.info("gmail watch set", metadata: ["push.reason": "\(reason.rawValue)"])
            return .watched(reason, expiresAt: answer.expiresAt)
        } catch {
            let text = (error as? GmailAPIError)?.description ?? "\(type(of: error))"
            try? await database.recordWatchFailure(
                accountId: s.accountId, error: text, lapsed: PushPlanner.watchLapsed(after: error), at: clock.now())
            logger.warning("gmail watch failed", metadata: ["push.reason": "\(reason.rawValue)", "error": "\(text)"])
            return .failed(reason, text)
        }
    }

    // MARK: - Pull

    func pullLoop() async {
        var idle = pacing.idleMin
        var errorWait = pacing.errorMin
        while !Task.isCancelled {
            do {
                let n = try await pullOnce()
                errorWait = pacing.errorMin
                if n > 0 {
                    idle = pacing.idleMin
                    continue
                }
                try await clock.sleep(for: idle)
                idle = min(idle * 2, pacing.idleMax)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("pub/sub pull failed", metadata: ["error": "\(error)"])
                do { try await clock.sleep(for: errorWait) } catch { return }
                errorWait = min(errorWait * 2, pacing.errorMax)
            }
        }
    }

    /// Pulls once, records every Gmail notification (waking its mailbox's sync), then acknowledges what
    /// was recorded (and what can never be a Gmail notification). A notification that could not be
    /// recorded is left unacknowledged: Pub/Sub redelivers it. Returns how many messages came.
    @discardableResult
    public func pullOnce() async throws -> Int {
        guard let pubsub else { return 0 }
        let received = try await pubsub.pull(maxMessages: pacing.maxMessages)
        var acks: [String] = []
        for m in received {
            guard let n = GmailPushNotification.decode(data: m.data) else {
                acks.append(m.ackId)
                continue
            }
            do {
                _ = try await inbox.receive(n)
                acks.append(m.ackId)
            } catch {
                logger.error("pulled notification not recorded", metadata: ["error.type": "\(type(of: error))"])
            }
        }
        try await pubsub.acknowledge(acks)
        return received.count
    }
}
