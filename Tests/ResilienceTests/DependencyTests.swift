import Schema
import Resilience
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DependencyTests {
    let clock = ManualClock()
    let metrics = RecordingMetricsFactory()
    let log = TransitionLog()

    /// Deadline 2 s, breaker on 4 calls at 50 %, slow beyond 5 s (longer than the deadline on purpose),
    /// one trial call after 10 s open, up to 3 attempts 100 ms apart.
    func makeExchange(
        name: String = "exchange",
        rateLimiter: RateLimiter<Instant>? = nil,
        bulkhead: Bulkhead? = nil
    ) -> Dependency<ManualClock> {
        let policy = ResiliencePolicy(
            deadline: .seconds(2),
            circuitBreaker: CircuitBreakerConfiguration(
                slowCallDurationThreshold: .seconds(5),
                slidingWindow: .countBased(calls: 4),
                minimumNumberOfCalls: 4,
                permittedCallsInHalfOpenState: 1,
                waitInOpenState: .fixed(.seconds(10))),
            retry: RetryPolicy(maxAttempts: 3, backoff: .exponential(base: .milliseconds(100), cap: .seconds(1))),
            retryBudget: nil)
        return Dependency(
            name: name, policy: policy, clock: clock, rateLimiter: rateLimiter, bulkhead: bulkhead,
            metricsFactory: metrics, random: SeededRandom(seed: 5), onTransition: log.append)
    }

    func calls(_ outcome: String, dependency: String = "exchange") -> Int64? {
        metrics.counter(DependencyMetrics.Label.calls, [("dependency", dependency), ("outcome", outcome)])
    }

    func gauge(_ label: String, dependency: String = "exchange") -> Double? {
        metrics.gauge(label, [("dependency", dependency)])
    }

    func failOnce(_ exchange: Dependency<ManualClock>) async {
        await #expect(throws: Boom()) {
            try await exchange.call(.nonIdempotent) { () async throws -> Int in throw Boom() }
        }
    }

    @Test func successfulCallIsRecordedAsSuccess() async throws {
        let exchange = makeExchange()
        #expect(gauge(DependencyMetrics.Label.breakerState) == 0)
        #expect(try await exchange.call(.idempotent) { "meta" } == "meta")
        #expect(calls("success") == 1)
        #expect(calls("failure") == 0)
        #expect(exchange.status().breaker.bufferedCalls == 1)
        // Below the minimum number of calls the rates are published as -1.
        #expect(gauge(DependencyMetrics.Label.failureRate) == -1)
        #expect(gauge(DependencyMetrics.Label.slowCallRate) == -1)
    }

    @Test func openBreakerRejectsWithoutCallingTheDependency() async {
        let exchange = makeExchange()
        for _ in 0..<4 { await failOnce(exchange) }
        #expect(calls("failure") == 4)
        #expect(log.pairs == ["closed->open"])
        #expect(gauge(DependencyMetrics.Label.breakerState) == 1)
        #expect(gauge(DependencyMetrics.Label.failureRate) == 100)
        #expect(gauge(DependencyMetrics.Label.slowCallRate) == 0)

        let invoked = Box(false)
        await #expect(throws: CallNotPermitted(dependency: "exchange", state: .open)) {
            try await exchange.call(.idempotent) { invoked.update { $0 = true } }
        }
        #expect(!invoked.current)
        #expect(clock.sleeperCount == 0)  // no deadline timer was even started
        #expect(metrics.counter(DependencyMetrics.Label.notPermittedCalls, [("dependency", "exchange")]) == 1)
        #expect(exchange.status().breaker.notPermittedCalls == 1)
    }

    @Test func breakerRecoversThroughHalfOpen() async throws {
        let exchange = makeExchange()
        for _ in 0..<4 { await failOnce(exchange) }
        clock.advance(by: .seconds(11))
        #expect(try await exchange.call(.idempotent) { 1 } == 1)
        #expect(log.pairs == ["closed->open", "open->half_open", "half_open->closed"])
        #expect(metrics.gaugeHistory(DependencyMetrics.Label.breakerState, [("dependency", "exchange")]).contains(2))
        #expect(gauge(DependencyMetrics.Label.breakerState) == 0)
    }

    @Test func deadlineOverrunCountsAsASlowFailure() async {
        let exchange = makeExchange()
        let venue = Gate()
        let call = Task { try await exchange.call(.nonIdempotent) { await venue.wait() } }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(2))
        await #expect(throws: DeadlineExceeded(timeout: .seconds(2))) { try await call.value }
        venue.open()
        #expect(calls("slow_failure") == 1)
        let snapshot = exchange.status().breaker
        #expect(snapshot.failedCalls == 1)
        #expect(snapshot.slowCalls == 1)
    }

    @Test func idempotentCallIsRetriedInsideTheDeadline() async throws {
        let exchange = makeExchange()
        let attempts = Box(0)
        let call = Task {
            try await exchange.call(.idempotent) {
                var attempt = 0
                attempts.update {
                    $0 += 1
                    attempt = $0
                }
                if attempt == 1 { throw Boom() }
                return "open orders"
            }
        }
        await clock.waitForSleepers(count: 2)  // the deadline and the backoff
        clock.advance(by: .milliseconds(100))
        #expect(try await call.value == "open orders")
        #expect(attempts.current == 2)
        // The breaker sees the call once, as a success.
        #expect(calls("success") == 1)
        #expect(calls("failure") == 0)
        #expect(exchange.status().breaker.bufferedCalls == 1)
    }

    @Test func nonIdempotentOrderIsPlacedExactlyOnce() async {
        let exchange = makeExchange()
        let placed = Box(0)
        await #expect(throws: Boom()) {
            try await exchange.call(.nonIdempotent, weight: HyperliquidLimits.exchangeWeight(batchSize: 1)) {
                placed.update { $0 += 1 }
                throw Boom()
            }
        }
        #expect(placed.current == 1)
        #expect(calls("failure") == 1)
    }

    @Test func localRateLimitRejectionCountsNeitherWay() async throws {
        let limiter = RateLimiter<Instant>(limit: RateLimit(capacity: 1, refillAmount: 1, per: .seconds(1)), mode: .reject)
        let exchange = makeExchange(rateLimiter: limiter)
        _ = try await exchange.call(.nonIdempotent) { 1 }
        await #expect(throws: RateLimitRejection.insufficientTokens(weight: 1, retryAfter: .seconds(1))) {
            try await exchange.call(.nonIdempotent) { 2 }
        }
        #expect(calls("ignored") == 1)
        #expect(exchange.status().breaker.bufferedCalls == 1)
        #expect(exchange.status().availableRateTokens == 0)
    }

    @Test func fullBulkheadRejectsAndCountsNeitherWay() async throws {
        let exchange = makeExchange(bulkhead: Bulkhead(maxConcurrentCalls: 1, maxQueuedCalls: 0))
        let venue = Gate()
        let holding = Task { try await exchange.call(.idempotent) { await venue.wait() } }
        #expect(await eventually { exchange.status().runningCalls == 1 })
        await #expect(throws: BulkheadFull.self) { try await exchange.call(.idempotent) {} }
        #expect(calls("ignored") == 1)
        venue.open()
        try await holding.value
        #expect(calls("success") == 1)
    }

    @Test func callerCancellationGivesTheHalfOpenTrialBack() async throws {
        let exchange = makeExchange()
        for _ in 0..<4 { await failOnce(exchange) }
        clock.advance(by: .seconds(11))
        let venue = Gate()
        let trial = Task { try await exchange.call(.idempotent) { await venue.wait() } }
        await clock.waitForSleepers(count: 1)
        trial.cancel()
        await #expect(throws: CancellationError.self) { try await trial.value }
        venue.open()
        #expect(calls("ignored") == 1)
        #expect(exchange.breaker.state == .halfOpen)
        // The single trial permit is available again.
        #expect(try await exchange.call(.idempotent) { 7 } == 7)
        #expect(exchange.breaker.state == .closed)
    }

    @Test func operatorOverridesAreVisibleInTheStateGauge() async {
        let exchange = makeExchange()
        exchange.forceOpen()
        #expect(gauge(DependencyMetrics.Label.breakerState) == 3)
        await #expect(throws: CallNotPermitted(dependency: "exchange", state: .forcedOpen)) {
            try await exchange.call(.idempotent) {}
        }
        exchange.disableBreaker()
        #expect(gauge(DependencyMetrics.Label.breakerState) == 4)
        exchange.resetBreaker()
        #expect(gauge(DependencyMetrics.Label.breakerState) == 0)
        #expect(log.pairs == ["closed->forced_open", "forced_open->disabled", "disabled->closed"])
        #expect(exchange.status().breaker.state == .closed)
    }

    @Test func metricsAreKeptApartPerDependency() async throws {
        let exchange = makeExchange(name: "exchange")
        let info = makeExchange(name: "info")
        _ = try await info.call(.idempotent) { 1 }
        await failOnce(exchange)
        #expect(calls("success", dependency: "info") == 1)
        #expect(calls("failure", dependency: "info") == 0)
        #expect(calls("failure", dependency: "exchange") == 1)
        #expect(calls("success", dependency: "exchange") == 0)
    }
}
