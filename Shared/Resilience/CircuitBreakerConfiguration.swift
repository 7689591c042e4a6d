/// How a dependency's circuit breaker decides; defaults are resilience4j's.
public struct CircuitBreakerConfiguration: Sendable {
    public enum SlidingWindow: Sendable, Equatable {
        /// The last `calls` calls.
        case countBased(calls: Int)
        /// The calls of the last `seconds` seconds, in one-second buckets.
        case timeBased(seconds: Int)
    }

    /// How long the breaker stays open before it lets trial calls through.
    public struct OpenStateWait: Sendable, Equatable {
        public var initial: Duration
        /// Growth per successive opening (1 keeps the wait fixed).
        public var multiplier: Double
        public var maximum: Duration

        public static func fixed(_ wait: Duration) -> OpenStateWait {
            OpenStateWait(initial: wait, multiplier: 1, maximum: wait)
        }

        /// resilience4j's exponential IntervalFunction: `initial * multiplier^(opening - 1)`, capped at `maximum`.
        public static func exponential(initial: Duration, multiplier: Double = 2, maximum: Duration) -> OpenStateWait {
            OpenStateWait(initial: initial, multiplier: multiplier, maximum: maximum)
        }

        /// The wait for the `opening`-th successive opening (1-based); openings reset when the breaker closes.
        public func duration(forOpening opening: Int) -> Duration {
            var wait = initial
            var step = 1
            while step < opening && wait < maximum {
                wait = wait * multiplier
                step += 1
            }
            return min(wait, maximum)
        }
    }

    /// Percent of failed calls at or above which the breaker opens.
    public var failureRateThreshold: Double
    /// Percent of slow calls at or above which the breaker opens.
    public var slowCallRateThreshold: Double
    /// A call taking longer than this is slow.
    public var slowCallDurationThreshold: Duration
    public var slidingWindow: SlidingWindow
    /// Calls the window must hold before rates are computed (capped at a count window's size).
    public var minimumNumberOfCalls: Int
    /// Trial calls let through in half-open; their outcomes decide between closed and open.
    public var permittedCallsInHalfOpenState: Int
    public var waitInOpenState: OpenStateWait
    /// Whether an error is a failure of the dependency; errors that are not count as successes.
    public var isFailure: @Sendable (any Error) -> Bool
    /// Errors that count neither way, e.g. a validation error that says nothing about the dependency.
    public var isIgnored: @Sendable (any Error) -> Bool

    public init(
        failureRateThreshold: Double = 50,
        slowCallRateThreshold: Double = 100,
        slowCallDurationThreshold: Duration = .seconds(60),
        slidingWindow: SlidingWindow = .countBased(calls: 100),
        minimumNumberOfCalls: Int = 100,
        permittedCallsInHalfOpenState: Int = 10,
        waitInOpenState: OpenStateWait = .fixed(.seconds(60)),
        isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true },
        isIgnored: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.failureRateThreshold = failureRateThreshold
        self.slowCallRateThreshold = slowCallRateThreshold
        self.slowCallDurationThreshold = slowCallDurationThreshold
        self.slidingWindow = slidingWindow
        self.minimumNumberOfCalls = minimumNumberOfCalls
        self.permittedCallsInHalfOpenState = permittedCallsInHalfOpenState
        self.waitInOpenState = waitInOpenState
        self.isFailure = isFailure
        self.isIgnored = isIgnored
    }

    /// Problems that make the configuration unusable; empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !(failureRateThreshold > 0 && failureRateThreshold <= 100) {
            problems.append("failureRateThreshold must be in (0, 100], got \(failureRateThreshold)")
        }
        if !(slowCallRateThreshold > 0 && slowCallRateThreshold <= 100) {
            problems.append("slowCallRateThreshold must be in (0, 100], got \(slowCallRateThreshold)")
        }
        if slowCallDurationThreshold < .zero { problems.append("slowCallDurationThreshold must not be negative") }
        switch slidingWindow {
        case .countBased(let calls) where calls < 1: problems.append("count-based window needs at least 1 call")
        case .timeBased(let seconds) where seconds < 1: problems.append("time-based window needs at least 1 second")
        default: break
        }
        if minimumNumberOfCalls < 1 { problems.append("minimumNumberOfCalls must be at least 1") }
        if permittedCallsInHalfOpenState < 1 { problems.append("permittedCallsInHalfOpenState must be at least 1") }
        if waitInOpenState.initial < .zero || waitInOpenState.maximum < waitInOpenState.initial {
            problems.append("waitInOpenState needs 0 <= initial <= maximum")
        }
        if !(waitInOpenState.multiplier >= 1) { problems.append("waitInOpenState.multiplier must be at least 1") }
        return problems
    }

    func validate() {
        let problems = problems
        precondition(problems.isEmpty, "invalid circuit breaker configuration: \(problems.joined(separator: "; "))")
    }
}
