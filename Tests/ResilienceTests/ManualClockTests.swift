import Resilience
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ManualClockTests {
    let clock = ManualClock()

    @Test func startsAtZeroAndAdvancesOnlyByHand() {
        #expect(clock.now.offset == .zero)
        clock.advance(by: .milliseconds(250))
        #expect(clock.now.offset == .milliseconds(250))
        clock.advance(to: clock.now.advanced(by: .seconds(1)))
        #expect(clock.now.offset == .milliseconds(1250))
        clock.advance(to: Instant(offset: .zero))  // the past is ignored
        #expect(clock.now.offset == .milliseconds(1250))
    }

    @Test func sleeperWakesOnlyOnceTheDeadlineIsReached() async throws {
        let woke = Box(false)
        let sleeper = Task {
            try await clock.sleep(for: .seconds(5))
            woke.update { $0 = true }
        }
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDeadlines == [Instant(offset: .seconds(5))])
        clock.advance(by: .milliseconds(4999))
        #expect(clock.sleeperCount == 1)
        #expect(!woke.current)
        clock.advance(by: .milliseconds(1))
        try await sleeper.value
        #expect(woke.current)
        #expect(clock.sleeperCount == 0)
    }

    @Test func sleepUntilThePastReturnsAtOnce() async throws {
        clock.advance(by: .seconds(1))
        try await clock.sleep(until: Instant(offset: .milliseconds(500)))
        #expect(clock.sleeperCount == 0)
    }

    @Test func sleepersWakeInDeadlineOrder() async throws {
        let order = Box<[Int]>([])
        let late = Task {
            try await clock.sleep(for: .seconds(2))
            order.update { $0.append(2) }
        }
        await clock.waitForSleepers(count: 1)
        let early = Task {
            try await clock.sleep(for: .seconds(1))
            order.update { $0.append(1) }
        }
        await clock.waitForSleepers(count: 2)
        clock.advance(by: .seconds(1))
        try await early.value
        #expect(order.current == [1])
        clock.advance(by: .seconds(1))
        try await late.value
        #expect(order.current == [1, 2])
    }

    @Test func cancellingASleeperThrowsAndRemovesIt() async {
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.waitForSleepers(count: 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func alreadyCancelledTaskDoesNotSleep() async {
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(60))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }
}
