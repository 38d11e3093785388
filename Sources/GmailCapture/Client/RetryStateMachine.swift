import Foundation
import CaptureParsing

/// Retry settings: exponential backoff with full jitter, capped, at most `maxRetries` retries.
///
/// | retry | upper bound of the jittered wait (base 1 s, cap 64 s) |
/// |---|---|
/// | 1 | 1 s |
/// | 2 | 2 s |
/// | 3 | 4 s |
/// | 7+ | 64 s |
///
/// A server hint (`Retry-After` header or "Retry after <time>" text, the later one) replaces the
/// jittered wait: the client waits exactly until then.
public struct RetryPolicy: Sendable, Equatable {
    public var maxRetries: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxRetries: Int = 5, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(64)) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }
}

/// The retry decision for one call, as a value: feed it each failure, it says what to do. No sleeping,
/// no clock reads: tests drive it with seeded randomness.
public struct RetryStateMachine<Random: RandomNumberGenerator>: Sendable where Random: Sendable {
    public enum Action: Equatable, Sendable {
        case retry(after: Duration)
        case refreshCredentialsAndRetry
        case fail
    }

    public let policy: RetryPolicy
    public private(set) var retries = 0
    public private(set) var refreshed = false
    var random: Random

    public init(policy: RetryPolicy, random: Random) {
        self.policy = policy
        self.random = random
    }

    /// - Parameters:
    ///   - failure: the classified failure.
    ///   - hint: time until the server's retry hint, if it gave one.
    public mutating func next(after failure: FailureClass, hint: Duration? = nil) -> Action {
        switch failure {
        case .refreshTokenThenRetryOnce:
            if refreshed { return .fail }
            refreshed = true
            return .refreshCredentialsAndRetry
        case .retryAfterBackoff:
            guard retries < policy.maxRetries else { return .fail }
            retries += 1
            if let h = hint, h > .zero { return .retry(after: h) }
            return .retry(after: jittered(retry: retries))
        case .messageGone, .historyExpired, .needsAdmin, .permanent:
            return .fail
        }
    }

    /// Full jitter: uniform in [0, min(cap, base * 2^(retry-1))].
    mutating func jittered(retry: Int) -> Duration {
        let base = policy.baseDelay.seconds
        let cap = policy.maxDelay.seconds
        let upper = min(cap, base * pow(2, Double(min(retry - 1, 30))))
        let fraction = Double(random.next() >> 11) / Double(1 << 53)
        return .milliseconds(Int64((upper * fraction * 1000).rounded()))
    }
}
