import Schema
/// Whether a call may be repeated. Required wherever a call can be retried, so that a call with side
/// effects (placing an order) is never retried by accident.
public enum Idempotency: String, Sendable, Codable {
    /// Repeating the call has the same effect as making it once (reads, cancels by client order id).
    case idempotent
    /// The call goes through exactly once, whatever the retry policy says.
    case nonIdempotent = "non_idempotent"
}

/// Backoff between retries, as defined in the AWS Architecture Blog's "Exponential Backoff And Jitter".
public struct Backoff: Sendable, Equatable {
    public enum Jitter: Sendable, Equatable {
        /// `min(cap, base * 2^n)`.
        case none
        /// `random(0, min(cap, base * 2^n))`.
        case full
        /// `min(cap, random(base, previous * 3))`, starting from `previous = base`.
        case decorrelated
    }

    public var base: Duration
    public var cap: Duration
    public var jitter: Jitter

    public init(base: Duration, cap: Duration, jitter: Jitter) {
        precondition(base > .zero && cap >= base, "backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    public static func exponential(base: Duration, cap: Duration) -> Backoff {
        Backoff(base: base, cap: cap, jitter: .none)
    }

    public static func fullJitter(base: Duration, cap: Duration) -> Backoff {
        Backoff(base: base, cap: cap, jitter: .full)
    }

    public static func decorrelatedJitter(base: Duration, cap: Duration) -> Backoff {
        Backoff(base: base, cap: cap, jitter: .decorrelated)
    }

    /// The delays of one call's retries; decorrelated jitter depends on the previous delay.
    public func delays() -> Delays { Delays(backoff: self) }

    public struct Delays: Sendable {
        public let backoff: Backoff
        private var retries = 0
        private var previous: Duration

        init(backoff: Backoff) {
            self.backoff = backoff
            previous = backoff.base
        }

        /// The delay before the next retry.
        public mutating func next(using random: inout some RandomNumberGenerator) -> Duration {
            defer { retries += 1 }
            switch backoff.jitter {
            case .none:
                return exponentialCeiling
            case .full:
                return Duration.random(in: .zero...exponentialCeiling, using: &random)
            case .decorrelated:
                previous = min(backoff.cap, Duration.random(in: backoff.base...(previous * 3), using: &random))
                return previous
            }
        }

        /// `min(cap, base * 2^retries)` without overflowing for large retry counts.
        private var exponentialCeiling: Duration {
            var ceiling = backoff.base
            for _ in 0..<retries {
                if ceiling >= backoff.cap { break }
                ceiling = ceiling * 2
            }
            return min(ceiling, backoff.cap)
        }
    }
}

extension Duration {
    static func random(in range: ClosedRange<Duration>, using random: inout some RandomNumberGenerator) -> Duration {
        .nanoseconds(Int64.random(in: range.lowerBound.wholeNanoseconds...range.upperBound.wholeNanoseconds, using: &random))
    }
}

/// When and how often an idempotent call is retried.
public struct RetryPolicy: Sendable {
    /// Attempts in total, the first included; 1 means no retries.
    public var maxAttempts: Int
    public var backoff: Backoff
    /// Whether an error is worth another attempt. Cancellation is never retried.
    public var isRetryable: @Sendable (any Error) -> Bool

    public init(
        maxAttempts: Int = 3,
        backoff: Backoff = .fullJitter(base: .milliseconds(50), cap: .seconds(2)),
        isRetryable: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) {
        precondition(maxAttempts >= 1, "maxAttempts counts the first attempt and must be at least 1")
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.isRetryable = isRetryable
    }

    /// One attempt, never retried.
    public static let never = RetryPolicy(maxAttempts: 1)
}

/// Runs `operation`, retrying failures of an idempotent call with backoff slept on `clock`.
///
/// A `.nonIdempotent` call runs exactly once. A retry also needs the budget (when given) to allow it;
/// every call, retried or not, deposits into the budget. The error of the last attempt is rethrown.
public func retrying<C: Clock<Duration>, T>(
    _ idempotency: Idempotency,
    policy: RetryPolicy,
    budget: RetryBudget<C.Instant>? = nil,
    clock: C,
    random: inout some RandomNumberGenerator,
    isolation: isolated (any Actor)? = #isolation,
    operation: () async throws -> T
) async throws -> T {
    budget?.recordCall(now: clock.now)
    guard idempotency == .idempotent else { return try await operation() }
    var delays = policy.backoff.delays()
    var attempt = 1
    while true {
        do {
            return try await operation()
        } catch {
            guard attempt < policy.maxAttempts,
                !(error is CancellationError), !Task.isCancelled,
                policy.isRetryable(error),
                budget?.tryWithdraw(now: clock.now) ?? true
            else { throw error }
        }
        try await clock.sleep(for: delays.next(using: &random))
        attempt += 1
    }
}
