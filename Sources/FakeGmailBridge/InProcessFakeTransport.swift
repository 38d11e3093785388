package import FakeGmail
package import Foundation
import CaptureParsing
package import GmailCapture
import Synchronization

/// GmailCapture's transport seam served by an in-process FakeGmail: no socket. Scripted transport
/// faults become the `TransportError`s a real connection would raise. (The only code that sees both
/// libraries; they share no types.)
package struct InProcessFakeTransport: HTTPTransport {
    package let fake: FakeGmail

    package init(fake: FakeGmail) { self.fake = fake }

    package func send(_ request: TransportRequest) async throws -> TransportResponse {
        let answer = await fake.handle(
            FakeRequest(method: request.method, target: request.url, headers: request.headers, body: request.body))
        switch answer.transportFault {
        case .dropConnection?: throw TransportError(.connectionReset, "connection dropped")
        case .truncateBody?: throw TransportError(.truncatedBody, "body shorter than Content-Length")
        case nil: return TransportResponse(status: answer.status, headers: answer.headers, body: answer.body)
        }
    }
}

/// A clock for tests and demos: time is virtual, `sleep` returns at once after moving virtual time
/// forward (and, when linked, the fake's clock with it), so quota waits take no real time but are
/// measured exactly.
package final class VirtualCaptureClock: CaptureClock, Sendable {
    struct State {
        var now: Date
        var slept: Duration = .zero
    }
    let state: Mutex<State>
    let onAdvance: @Sendable (Duration) async -> Void
    /// When linked: the fake's own reading, which this clock never runs behind.
    let follow: (@Sendable () -> Date)?

    package init(start: Date, follow: (@Sendable () -> Date)? = nil, onAdvance: @escaping @Sendable (Duration) async -> Void = { _ in }) {
        state = Mutex(State(now: start))
        self.follow = follow
        self.onAdvance = onAdvance
    }

    /// A clock linked both ways to `fake`'s virtual clock: its sleeps advance the fake's clock, and it
    /// never runs behind the fake's (a scenario that moves the fake's time moves the client's too, as
    /// real clients and Google share the wall clock).
    package static func linked(to fake: FakeGmail) async -> VirtualCaptureClock {
        let start = Date(timeIntervalSince1970: TimeInterval(await fake.nowMillis()) / 1000)
        return VirtualCaptureClock(start: start, follow: { Date(timeIntervalSince1970: TimeInterval(fake.currentMillis()) / 1000) }) { d in
            await fake.advanceClock(seconds: d.seconds)
        }
    }

    package func now() -> Date {
        let followed = follow?()
        return state.withLock { s in
            if let f = followed, f > s.now { s.now = f }
            return s.now
        }
    }

    package func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard duration > .zero else { return }
        let followed = follow?()
        state.withLock {
            if let f = followed, f > $0.now { $0.now = f }
            $0.now = $0.now.addingTimeInterval(duration.seconds)
            $0.slept += duration
        }
        await onAdvance(duration)
    }

    /// Total virtual time slept.
    package var totalSlept: Duration { state.withLock { $0.slept } }

    package func advance(by duration: Duration) async { try? await sleep(for: duration) }
}

/// A clock whose `sleep` waits until the test moves time forward with `advance(by:)`: for schedulers.
package final class ManualCaptureClock: CaptureClock, Sendable {
    struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }
    struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }
    let state: Mutex<State>

    package init(start: Date) { state = Mutex(State(now: start)) }

    package func now() -> Date { state.withLock { $0.now } }

    /// How many sleeps are waiting.
    package var sleepers: Int { state.withLock { $0.sleepers.count } }

    package func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1; return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let cancelled = Task.isCancelled
                if cancelled { c.resume(throwing: CancellationError()); return }
                state.withLock { s in
                    let seconds = duration.seconds
                    s.sleepers.append(Sleeper(id: id, deadline: s.now.addingTimeInterval(seconds), continuation: c))
                }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleep whose deadline has passed.
    package func advance(by duration: Duration) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = s.now.addingTimeInterval(duration.seconds)
            let ready = s.sleepers.filter { $0.deadline <= s.now }
            s.sleepers.removeAll { $0.deadline <= s.now }
            return ready.map(\.continuation)
        }
        for c in due { c.resume() }
    }
}
