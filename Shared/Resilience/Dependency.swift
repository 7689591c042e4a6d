import Schema
import CoreMetrics

/// Finagle-style retry budget figures for one dependency (see `RetryBudget`).
public struct RetryBudgetPolicy: Sendable, Equatable {
    public var ttl: Duration
    public var minRetriesPerSecond: Int
    public var percentCanRetry: Double

    public init(ttl: Duration = .seconds(10), minRetriesPerSecond: Int = 10, percentCanRetry: Double = 0.2) {
        self.ttl = ttl
        self.minRetriesPerSecond = minRetriesPerSecond
        self.percentCanRetry = percentCanRetry
    }
}

/// How calls to one dependency are protected.
public struct ResiliencePolicy: Sendable {
    /// Time allowed for a whole call, retries and waits included.
    public var deadline: Duration
    public var circuitBreaker: CircuitBreakerConfiguration
    /// Applied to idempotent calls only.
    public var retry: RetryPolicy
    /// nil: retries are limited by `retry.maxAttempts` alone.
    public var retryBudget: RetryBudgetPolicy?

    public init(
        deadline: Duration,
        circuitBreaker: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        retry: RetryPolicy = RetryPolicy(),
        retryBudget: RetryBudgetPolicy? = RetryBudgetPolicy()
    ) {
        precondition(deadline > .zero, "deadline must be positive")
        self.deadline = deadline
        self.circuitBreaker = circuitBreaker
        self.retry = retry
        self.retryBudget = retryBudget
    }
}

/// What `/status` and heartbeats show about one dependency.
public struct DependencyStatus: Sendable, Equatable, Codable {
    public let name: String
    public let breaker: BreakerSnapshot
    public let availableRateTokens: Int?
    public let retryBudgetBalance: Int?
    public let runningCalls: Int?
    public let queuedCalls: Int?
}

/// One remote dependency (an exchange endpoint, a feed) with its protections composed in a fixed order:
/// deadline → circuit breaker → retry (idempotent calls only) → rate limiter → bulkhead → call.
///
/// The breaker sees one outcome per call, retries included: a deadline overrun is a slow failure; a call
/// the caller cancelled or that was refused locally (rate limit, bulkhead) counts neither way, since it
/// says nothing about the dependency's health, and local refusals are not retried. A call the breaker refuses throws `CallNotPermitted` before
/// anything else runs, so the caller can take its fallback at once.
public final class Dependency<C: Clock<Duration>>: Sendable {
    public let name: String
    public let policy: ResiliencePolicy
    public let clock: C
    public let breaker: CircuitBreaker<C.Instant>
    public let rateLimiter: RateLimiter<C.Instant>?
    public let bulkhead: Bulkhead?
    public let retryBudget: RetryBudget<C.Instant>?
    public let metrics: DependencyMetrics
    private let random: SharedRandom
    private let retryPolicy: RetryPolicy

    /// - Parameters:
    ///   - rateLimiter: may be shared between dependencies that share a remote limit (Hyperliquid's is per IP).
    ///   - bulkhead: may likewise be shared.
    ///   - random: jitter source; pass a seeded one for reproducible runs.
    ///   - onTransition: every breaker transition, e.g. to publish on the bus; see `CircuitBreaker.init`.
    public init(
        name: String,
        policy: ResiliencePolicy,
        clock: C,
        rateLimiter: RateLimiter<C.Instant>? = nil,
        bulkhead: Bulkhead? = nil,
        metricsFactory: any MetricsFactory,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        onTransition: @escaping CircuitBreaker<C.Instant>.Observer = { _ in }
    ) {
        let metrics = DependencyMetrics(dependency: name, factory: metricsFactory)
        self.name = name
        self.policy = policy
        self.clock = clock
        self.rateLimiter = rateLimiter
        self.bulkhead = bulkhead
        self.metrics = metrics
        self.random = SharedRandom(random)
        // Local rejections shed load; retrying them would only add it back.
        var retryPolicy = policy.retry
        retryPolicy.isRetryable = { [isRetryable = policy.retry.isRetryable] error in
            !Self.isLocalRejection(error) && isRetryable(error)
        }
        self.retryPolicy = retryPolicy
        retryBudget = policy.retryBudget.map {
            RetryBudget(ttl: $0.ttl, minRetriesPerSecond: $0.minRetriesPerSecond, percentCanRetry: $0.percentCanRetry)
        }
        breaker = CircuitBreaker(name: name, configuration: policy.circuitBreaker) { transition in
            metrics.record(state: transition.to)
            onTransition(transition)
        }
        metrics.record(state: breaker.state)
        metrics.record(breaker.snapshot(now: clock.now))
    }

    /// Calls the dependency through every protection. `weight` is what one attempt costs the rate limiter.
    public func call<T: Sendable>(
        _ idempotency: Idempotency,
        weight: Int = 1,
        operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let start = clock.now
        do {
            try breaker.acquirePermission(now: start)
        } catch {
            metrics.recordNotPermitted()
            metrics.record(breaker.snapshot(now: start))
            throw error
        }
        let outcome: CallOutcome
        defer {
            metrics.record(outcome)
            metrics.record(breaker.snapshot(now: clock.now))
        }
        do {
            let value = try await withDeadline(policy.deadline, clock: clock) {
                var random = self.random
                return try await retrying(
                    idempotency, policy: self.retryPolicy, budget: self.retryBudget, clock: self.clock, random: &random
                ) {
                    try await self.attempt(weight: weight, operation)
                }
            }
            let now = clock.now
            outcome = breaker.onSuccess(duration: start.duration(to: now), now: now)
            return value
        } catch {
            let now = clock.now
            let duration = start.duration(to: now)
            switch error {
            case is DeadlineExceeded:
                outcome = breaker.onTimeout(duration: duration, now: now)
            case _ where error is CancellationError || Self.isLocalRejection(error):
                breaker.releasePermission()
                outcome = .ignored
            default:
                outcome = breaker.onError(duration: duration, error: error, now: now)
            }
            throw error
        }
    }

    private static func isLocalRejection(_ error: any Error) -> Bool {
        error is RateLimitRejection || error is BulkheadFull
    }

    private func attempt<T>(weight: Int, _ operation: @Sendable () async throws -> T) async throws -> T {
        if let rateLimiter { try await rateLimiter.acquire(weight: weight, clock: clock) }
        guard let bulkhead else { return try await operation() }
        return try await bulkhead.run { try await operation() }
    }

    public func status() -> DependencyStatus {
        let now = clock.now
        return DependencyStatus(
            name: name,
            breaker: breaker.snapshot(now: now),
            availableRateTokens: rateLimiter?.availableTokens(now: now),
            retryBudgetBalance: retryBudget?.balance(now: now),
            runningCalls: bulkhead?.runningCalls,
            queuedCalls: bulkhead?.queuedCalls)
    }

    // MARK: Operator overrides

    /// Takes the dependency out of service: every call fails fast with `CallNotPermitted`.
    public func forceOpen() { override { breaker.transitionToForcedOpen(now: $0) } }
    /// Turns the breaker off: every call goes through and nothing is recorded.
    public func disableBreaker() { override { breaker.transitionToDisabled(now: $0) } }
    /// Back to normal operation with a fresh closed breaker.
    public func resetBreaker() { override { breaker.reset(now: $0) } }

    private func override(_ transition: (C.Instant) -> Void) {
        let now = clock.now
        transition(now)
        metrics.record(breaker.snapshot(now: now))
    }
}
