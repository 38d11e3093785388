import FakeGmail
import Foundation
import GmailCapture
import Synchronization

/// GmailCapture's transport seam served by an in-process FakeGmail: no socket. Scripted transport
/// faults become the `TransportError`s a real connection would raise. (The only code that sees both
/// libraries; they share no types.)
public struct InProcessFakeTransport: HTTPTransport {
    public let fake: FakeGmail

    public init(fake: FakeGmail) { self.fake = fake }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let answer = await fake.handle(FakeRequest(method: request.method, target: request.url, headers: request.headers, body: request.body))
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
public final class VirtualCaptureClock: CaptureClock, Sendable {
    struct State {
        var now: Date
        var slept: Duration = .zero
    }
    let state: Mutex<State>
    let onAdvance: @Sendable (Duration) async -> Void

    public init(start: Date, onAdvance: @escaping @Sendable (Duration) async -> Void = { _ in }) {
        state = Mutex(State(now: start))
        self.onAdvance = onAdvance
    }

    /// A clock whose sleeps also advance `fake`'s virtual clock.
    public static func linked(to fake: FakeGmail) async -> VirtualCaptureClock {
        let start = Date(timeIntervalSince1970: TimeInterval(await fake.nowMillis()) / 1000)
        return VirtualCaptureClock(start: start) { d in
            await fake.advanceClock(seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard duration > .zero else { return }
        state.withLock {
            $0.now = $0.now.addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            $0.slept += duration
        }
        await onAdvance(duration)
    }

    /// Total virtual time slept.
    public var totalSlept: Duration { state.withLock { $0.slept } }

    public func advance(by duration: Duration) async { try? await sleep(for: duration) }
}
