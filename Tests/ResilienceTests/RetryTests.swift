import Schema
import Resilience
import Testing

struct BackoffTests {
    @Test func exponentialWithoutJitterDoublesUpToTheCap() {
        var delays = Backoff.exponential(base: .milliseconds(100), cap: .seconds(1)).delays()
        var random = SeededRandom(seed: 1)
        let observed = (0..<7).map { _ in delays.next(using: &random) }
        #expect(observed == [100, 200, 400, 800, 1000, 1000, 1000].map { .milliseconds($0) })
    }

    @Test func fullJitterStaysWithinZeroAndTheExponentialCeiling() {
        var random = SeededRandom(seed: 7)
        var highest = Array(repeating: Duration.zero, count: 6)
        for _ in 0..<500 {
            var delays = Backoff.fullJitter(base: .milliseconds(100), cap: .seconds(2)).delays()
            for retry in 0..<6 {
                let ceiling = min(.milliseconds(100) * (1 << retry), Duration.seconds(2))
                let delay = delays.next(using: &random)
                #expect(delay >= .zero && delay <= ceiling)
                highest[retry] = max(highest[retry], delay)
            }
        }
        // The draws use the whole range, not a fixed fraction of it.
        for retry in 0..<6 {
            let ceiling = min(.milliseconds(100) * (1 << retry), Duration.seconds(2))
            #expect(highest[retry] > ceiling * 0.9)
        }
    }

    @Test func decorrelatedJitterStaysBetweenBaseAndThreeTimesThePreviousDelay() {
        let base = Duration.milliseconds(50)
        let cap = Duration.seconds(3)
        var random = SeededRandom(seed: 42)
        var reachedCap = false
        for _ in 0..<200 {
            var delays = Backoff.decorrelatedJitter(base: base, cap: cap).delays()
            var previous = base
            for _ in 0..<8 {
                let delay = delays.next(using: &random)
                #expect(delay >= base)
                #expect(delay <= min(cap, previous * 3))
                reachedCap = reachedCap || delay == cap
                previous = delay
            }
        }
        #expect(reachedCap)
    }

    @Test func seededGeneratorMakesJitterReproducible() {
        func draw(seed: UInt64) -> [Duration] {
            var random = SeededRandom(seed: seed)
            var delays = Backoff.fullJitter(base: .milliseconds(10), cap: .seconds(1)).delays()
            return (0..<5).map { _ in delays.next(using: &random) }
        }
        #expect(draw(seed: 3) == draw(seed: 3))
        #expect(draw(seed: 3) != draw(seed: 4))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct RetryTests {
    let clock = ManualClock()

    /// An operation failing `failures` times before it answers, counting its attempts.
    final class FlakyVenue: Sendable {
        let attempts = Box(0)
        let failures: Int

        init(failures: Int) { self.failures = failures }

        func fetch() throws -> String {
            var attempt = 0
            attempts.update {
                $0 += 1
                attempt = $0
            }
            if attempt <= failures { throw Boom() }
            return "book"
        }
    }

    @Test func idempotentCallIsRetriedAfterTheJitteredBackoff() async throws {
        let venue = FlakyVenue(failures: 2)
        let backoff = Backoff.fullJitter(base: .milliseconds(100), cap: .seconds(1))
        let policy = RetryPolicy(maxAttempts: 3, backoff: backoff)
        let call = Task {
            var random = SeededRandom(seed: 9)
            return try await retrying(.idempotent, policy: policy, clock: clock, random: &random) {
                try venue.fetch()
            }
        }
        // The same seed predicts the sleeps.
        var expectedRandom = SeededRandom(seed: 9)
        var expectedDelays = backoff.delays()
        for _ in 0..<2 {
            await clock.waitForSleepers(count: 1)
            let expected = clock.now.advanced(by: expectedDelays.next(using: &expectedRandom))
            #expect(clock.pendingDeadlines == [expected])
            clock.advance(to: expected)
        }
        #expect(try await call.value == "book")
        #expect(venue.attempts.current == 3)
    }

    @Test func nonIdempotentCallGoesThroughExactlyOnce() async {
        let venue = FlakyVenue(failures: 1)
        var random = SeededRandom(seed: 1)
        await #expect(throws: Boom()) {
            try await retrying(.nonIdempotent, policy: RetryPolicy(maxAttempts: 5), clock: clock, random: &random) {
                try venue.fetch()
            }
        }
        #expect(venue.attempts.current == 1)
        #expect(clock.sleeperCount == 0)
    }

    @Test func givesUpAfterMaxAttemptsWithTheLastError() async {
        let venue = FlakyVenue(failures: 10)
        let policy = RetryPolicy(maxAttempts: 3, backoff: .exponential(base: .milliseconds(10), cap: .seconds(1)))
        let call = Task {
            var random = SeededRandom(seed: 1)
            return try await retrying(.idempotent, policy: policy, clock: clock, random: &random) { try venue.fetch() }
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(10))
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(20))
        await #expect(throws: Boom()) { try await call.value }
        #expect(venue.attempts.current == 3)
    }

    @Test func errorsThatAreNotRetryableAreNotRetried() async {
        struct InsufficientMargin: Error {}
        let attempts = Box(0)
        let policy = RetryPolicy(maxAttempts: 5, isRetryable: { !($0 is InsufficientMargin) })
        var random = SeededRandom(seed: 1)
        await #expect(throws: InsufficientMargin.self) {
            try await retrying(.idempotent, policy: policy, clock: clock, random: &random) {
                attempts.update { $0 += 1 }
                throw InsufficientMargin()
            }
        }
        #expect(attempts.current == 1)
    }

    @Test func cancellationIsNotRetried() async {
        let attempts = Box(0)
        var random = SeededRandom(seed: 1)
        await #expect(throws: CancellationError.self) {
            try await retrying(.idempotent, policy: RetryPolicy(maxAttempts: 5), clock: clock, random: &random) {
                attempts.update { $0 += 1 }
                throw CancellationError()
            }
        }
        #expect(attempts.current == 1)
    }

    @Test func exhaustedBudgetStopsRetries() async {
        // No reserve and 20 %: one call earns a fifth of a retry, which is not enough.
        let budget = RetryBudget<Instant>(ttl: .seconds(10), minRetriesPerSecond: 0, percentCanRetry: 0.2)
        let venue = FlakyVenue(failures: 1)
        var random = SeededRandom(seed: 1)
        await #expect(throws: Boom()) {
            try await retrying(
                .idempotent, policy: RetryPolicy(maxAttempts: 3), budget: budget, clock: clock, random: &random
            ) { try venue.fetch() }
        }
        #expect(venue.attempts.current == 1)
    }
}

struct RetryBudgetTests {
    let clock = ManualClock()

    @Test func callsEarnRetriesAtTheConfiguredPercentage() {
        let budget = RetryBudget<Instant>(ttl: .seconds(10), minRetriesPerSecond: 0, percentCanRetry: 0.2)
        for _ in 0..<10 { budget.recordCall(now: clock.now) }
        #expect(budget.balance(now: clock.now) == 2)
        #expect(budget.tryWithdraw(now: clock.now))
        #expect(budget.tryWithdraw(now: clock.now))
        #expect(!budget.tryWithdraw(now: clock.now))
        budget.recordCall(now: clock.now)
        #expect(!budget.tryWithdraw(now: clock.now))
        for _ in 0..<4 { budget.recordCall(now: clock.now) }
        #expect(budget.tryWithdraw(now: clock.now))
    }

    @Test func reserveAllowsAMinimumOfRetriesPerSecond() {
        let budget = RetryBudget<Instant>(ttl: .seconds(10), minRetriesPerSecond: 1, percentCanRetry: 0.2)
        #expect(budget.balance(now: clock.now) == 10)
        for _ in 0..<10 { #expect(budget.tryWithdraw(now: clock.now)) }
        #expect(!budget.tryWithdraw(now: clock.now))
        // Spent retries expire with the window, giving the reserve back.
        clock.advance(by: .seconds(11))
        #expect(budget.balance(now: clock.now) == 10)
    }

    @Test func depositsExpireAfterTheTimeToLive() {
        let budget = RetryBudget<Instant>(ttl: .seconds(10), minRetriesPerSecond: 0, percentCanRetry: 0.5)
        for _ in 0..<10 { budget.recordCall(now: clock.now) }
        clock.advance(by: .seconds(5))
        #expect(budget.balance(now: clock.now) == 5)
        clock.advance(by: .seconds(6))
        #expect(budget.balance(now: clock.now) == 0)
        #expect(!budget.tryWithdraw(now: clock.now))
    }

    @Test func zeroPercentLeavesOnlyTheReserve() {
        let budget = RetryBudget<Instant>(ttl: .seconds(1), minRetriesPerSecond: 2, percentCanRetry: 0)
        for _ in 0..<100 { budget.recordCall(now: clock.now) }
        #expect(budget.tryWithdraw(now: clock.now))
        #expect(budget.tryWithdraw(now: clock.now))
        #expect(!budget.tryWithdraw(now: clock.now))
    }
}
