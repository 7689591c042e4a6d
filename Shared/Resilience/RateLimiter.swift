import Synchronization

/// A token bucket: `capacity` tokens at most, refilled continuously at `refillAmount` per `refillPeriod`.
public struct RateLimit: Sendable, Equatable {
    public var capacity: Int
    public var refillAmount: Int
    public var refillPeriod: Duration

    public init(capacity: Int, refillAmount: Int, per refillPeriod: Duration) {
        precondition(capacity >= 1 && refillAmount >= 1 && refillPeriod > .zero, "rate limit needs positive figures")
        self.capacity = capacity
        self.refillAmount = refillAmount
        self.refillPeriod = refillPeriod
    }

    /// Time to earn one token.
    public var tokenInterval: Duration { refillPeriod / refillAmount }
}

/// Hyperliquid's REST limits.
public enum HyperliquidLimits {
    /// 1,200 weight per minute per IP, refilling continuously.
    public static let ipRateLimit = RateLimit(capacity: 1200, refillAmount: 1200, per: .seconds(60))

    /// Weight of an `/exchange` request carrying `batchSize` orders or cancels: `1 + floor(batchSize / 40)`.
    public static func exchangeWeight(batchSize: Int) -> Int {
        precondition(batchSize >= 0, "batch size must not be negative")
        return 1 + batchSize / 40
    }
}

/// What a limiter does with a request the bucket cannot pay for yet.
public enum RateLimitMode: Sendable, Equatable {
    /// Wait up to `maximum` for the tokens; beyond that, reject.
    case wait(maximum: Duration)
    /// Reject at once.
    case reject
}

public enum RateLimitRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request weighs more than the bucket can ever hold; waiting would never help.
    case exceedsCapacity(weight: Int, capacity: Int)
    /// Not enough tokens now (or within the maximum wait); they will be there after `retryAfter`.
    case insufficientTokens(weight: Int, retryAfter: Duration)

    public var retryAfter: Duration? {
        if case .insufficientTokens(_, let retryAfter) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .exceedsCapacity(let weight, let capacity):
            "request weight \(weight) exceeds the rate limit capacity \(capacity)"
        case .insufficientTokens(let weight, let retryAfter):
            "rate limited: weight \(weight) available in \(retryAfter)"
        }
    }
}

/// A weighted token-bucket rate limiter, kept as GCRA (the instant at which the bucket would be full
/// again), which is an exact continuous refill in integer `Duration` arithmetic.
///
/// In wait mode a request reserves its tokens immediately and is told how long to wait; the tokens stay
/// spent if the caller gives up, which errs on the side of staying under the remote limit.
public final class RateLimiter<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let limit: RateLimit
    public let mode: RateLimitMode
    /// When the bucket will be full again; nil or past means full now.
    private let fullAt: Mutex<Instant?>

    public init(limit: RateLimit, mode: RateLimitMode) {
        if case .wait(let maximum) = mode { precondition(maximum >= .zero, "maximum wait must not be negative") }
        self.limit = limit
        self.mode = mode
        fullAt = Mutex(nil)
    }

    /// Takes `weight` tokens and returns how long to wait before sending (zero when they are there now).
    /// Throws `RateLimitRejection` without taking anything when the mode does not allow the wait.
    public func reserve(weight: Int, now: Instant) throws(RateLimitRejection) -> Duration {
        precondition(weight >= 0, "weight must not be negative")
        guard weight <= limit.capacity else {
            throw .exceedsCapacity(weight: weight, capacity: limit.capacity)
        }
        let interval = limit.tokenInterval
        let result: Result<Duration, RateLimitRejection> = fullAt.withLock { fullAt in
            let start = max(fullAt ?? now, now)
            let afterThis = start.advanced(by: interval * weight)
            let wait = now.duration(to: afterThis) - interval * limit.capacity
            guard wait > .zero else {
                fullAt = afterThis
                return .success(.zero)
            }
            switch mode {
            case .wait(let maximum) where wait <= maximum:
                fullAt = afterThis
                return .success(wait)
            case .wait, .reject:
                return .failure(.insufficientTokens(weight: weight, retryAfter: wait))
            }
        }
        return try result.get()
    }

    /// Takes `weight` tokens, sleeping on `clock` until they are there in wait mode.
    public func acquire<C: Clock<Duration>>(weight: Int, clock: C) async throws where C.Instant == Instant {
        let wait = try reserve(weight: weight, now: clock.now)
        if wait > .zero { try await clock.sleep(for: wait) }
    }

    /// Whole tokens available now.
    public func availableTokens(now: Instant) -> Int {
        let interval = limit.tokenInterval
        return fullAt.withLock { fullAt in
            guard let fullAt, fullAt > now else { return limit.capacity }
            let owed = now.duration(to: fullAt)
            let owedTokens = (owed.wholeNanoseconds + interval.wholeNanoseconds - 1) / interval.wholeNanoseconds
            return max(limit.capacity - Int(owedTokens), 0)
        }
    }
}
