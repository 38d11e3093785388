public import ServiceLifecycle

/// Drives push delivery for a running server: every `intervalMillis` of real time it sends the push
/// messages due on the virtual clock. With `wallClock`, it first moves the virtual clock forward by the
/// real time elapsed, so coalesced notifications, ack deadlines, push backoff and watch expiry follow
/// real time (staging); without it the virtual clock moves only when told (tests, `/__fake/clock/advance`).
public struct PushPump: Service {
    let fake: FakeGmail
    let intervalMillis: Int
    let wallClock: Bool

    public init(fake: FakeGmail, intervalMillis: Int = 50, wallClock: Bool = false) {
        self.fake = fake
        self.intervalMillis = max(1, intervalMillis)
        self.wallClock = wallClock
    }

    public func run() async throws {
        let (fake, interval, wallClock) = (fake, intervalMillis, wallClock)
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            let start = clock.now
            var advanced: Int64 = 0
            while !Task.isCancelled {
                do { try await Task.sleep(for: .milliseconds(interval)) } catch { return }
                if wallClock {
                    let elapsed = start.duration(to: clock.now).components
                    let total = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
                    await fake.advanceClock(millis: total - advanced)
                    advanced = total
                }
                await fake.deliverPushes()
            }
        }
    }
}
