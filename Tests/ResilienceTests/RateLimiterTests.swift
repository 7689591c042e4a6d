import Resilience
import Testing

@Suite(.timeLimit(.minutes(1)))
struct RateLimiterTests {
    let clock = ManualClock()

    func hyperliquid(_ mode: RateLimitMode) -> RateLimiter<Instant> {
        RateLimiter(limit: HyperliquidLimits.ipRateLimit, mode: mode)
    }

    @Test(arguments: [(0, 1), (1, 1), (39, 1), (40, 2), (79, 2), (80, 3), (1000, 26)])
    func exchangeWeightIsOnePlusOneForEveryFortyInTheBatch(batchSize: Int, weight: Int) {
        #expect(HyperliquidLimits.exchangeWeight(batchSize: batchSize) == weight)
    }

    @Test func hyperliquidLimitRefillsOneTokenEveryFiftyMilliseconds() {
        #expect(HyperliquidLimits.ipRateLimit.capacity == 1200)
        #expect(HyperliquidLimits.ipRateLimit.tokenInterval == .milliseconds(50))
    }

    @Test func fullBucketAdmitsItsCapacityThenRejectsWithTheTimeUntilTokens() throws {
        let limiter = hyperliquid(.reject)
        #expect(try limiter.reserve(weight: 1000, now: clock.now) == .zero)
        #expect(try limiter.reserve(weight: 200, now: clock.now) == .zero)
        #expect(limiter.availableTokens(now: clock.now) == 0)
        #expect(throws: RateLimitRejection.insufficientTokens(weight: 1, retryAfter: .milliseconds(50))) {
            try limiter.reserve(weight: 1, now: clock.now)
        }
        let heavy = HyperliquidLimits.exchangeWeight(batchSize: 1000)
        #expect(throws: RateLimitRejection.insufficientTokens(weight: 26, retryAfter: .milliseconds(1300))) {
            try limiter.reserve(weight: heavy, now: clock.now)
        }
    }

    @Test func tokensRefillContinuously() throws {
        let limiter = hyperliquid(.reject)
        _ = try limiter.reserve(weight: 1200, now: clock.now)
        clock.advance(by: .milliseconds(49))
        #expect(limiter.availableTokens(now: clock.now) == 0)
        clock.advance(by: .milliseconds(1))
        #expect(limiter.availableTokens(now: clock.now) == 1)
        clock.advance(by: .milliseconds(29_950))
        #expect(limiter.availableTokens(now: clock.now) == 600)
        #expect(try limiter.reserve(weight: 600, now: clock.now) == .zero)
        #expect(throws: RateLimitRejection.self) { try limiter.reserve(weight: 1, now: clock.now) }
        // Never more than the capacity, however long it rests.
        clock.advance(by: .seconds(3600))
        #expect(limiter.availableTokens(now: clock.now) == 1200)
    }

    @Test func rejectionTakesNoTokens() throws {
        let limiter = hyperliquid(.reject)
        _ = try limiter.reserve(weight: 1190, now: clock.now)
        #expect(throws: RateLimitRejection.self) { try limiter.reserve(weight: 26, now: clock.now) }
        #expect(limiter.availableTokens(now: clock.now) == 10)
        #expect(try limiter.reserve(weight: 10, now: clock.now) == .zero)
    }

    @Test(arguments: [RateLimitMode.reject, .wait(maximum: .seconds(3600))])
    func requestHeavierThanTheCapacityIsRejectedInEveryMode(mode: RateLimitMode) {
        let limiter = RateLimiter<Instant>(limit: RateLimit(capacity: 10, refillAmount: 10, per: .seconds(1)), mode: mode)
        #expect(throws: RateLimitRejection.exceedsCapacity(weight: 11, capacity: 10)) {
            try limiter.reserve(weight: 11, now: clock.now)
        }
        #expect(limiter.availableTokens(now: clock.now) == 10)
    }

    @Test func waitModeReservesAndReturnsTheDelay() throws {
        let limiter = hyperliquid(.wait(maximum: .seconds(1)))
        _ = try limiter.reserve(weight: 1200, now: clock.now)
        #expect(try limiter.reserve(weight: 2, now: clock.now) == .milliseconds(100))
        // Later requests queue behind earlier reservations.
        #expect(try limiter.reserve(weight: 1, now: clock.now) == .milliseconds(150))
    }

    @Test func waitModeRejectsBeyondTheMaximumWaitWithoutTakingTokens() throws {
        let limiter = hyperliquid(.wait(maximum: .seconds(1)))
        _ = try limiter.reserve(weight: 1200, now: clock.now)
        #expect(throws: RateLimitRejection.insufficientTokens(weight: 21, retryAfter: .milliseconds(1050))) {
            try limiter.reserve(weight: 21, now: clock.now)
        }
        #expect(try limiter.reserve(weight: 20, now: clock.now) == .seconds(1))
    }

    @Test func acquireSleepsOnTheClockUntilTheTokensAreThere() async throws {
        let limiter = hyperliquid(.wait(maximum: .seconds(5)))
        _ = try limiter.reserve(weight: 1200, now: clock.now)
        let order = Task { try await limiter.acquire(weight: HyperliquidLimits.exchangeWeight(batchSize: 40), clock: clock) }
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDeadlines == [Instant(offset: .milliseconds(100))])
        clock.advance(by: .milliseconds(100))
        try await order.value
    }

    @Test func acquireInRejectModeThrowsAtOnce() async throws {
        let limiter = hyperliquid(.reject)
        try await limiter.acquire(weight: 1200, clock: clock)
        await #expect(throws: RateLimitRejection.insufficientTokens(weight: 1, retryAfter: .milliseconds(50))) {
            try await limiter.acquire(weight: 1, clock: clock)
        }
        #expect(clock.sleeperCount == 0)
    }
}
