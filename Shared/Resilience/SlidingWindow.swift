/// Aggregated outcomes of the calls currently in a breaker's sliding window.
struct CallTally: Sendable, Equatable {
    var calls = 0
    var failed = 0
    var slow = 0
    var slowFailed = 0

    mutating func add(_ outcome: RecordedCall) {
        calls += 1
        if outcome.isFailure { failed += 1 }
        if outcome.isSlow { slow += 1 }
        if outcome.isFailure && outcome.isSlow { slowFailed += 1 }
    }

    mutating func subtract(_ other: CallTally) {
        calls -= other.calls
        failed -= other.failed
        slow -= other.slow
        slowFailed -= other.slowFailed
    }
}

/// A call outcome that the breaker counts (ignored calls never reach a window).
struct RecordedCall: Sendable, Equatable {
    var isFailure: Bool
    var isSlow: Bool

    var tally: CallTally {
        var tally = CallTally()
        tally.add(self)
        return tally
    }
}

/// resilience4j's FixedSizeSlidingWindowMetrics: the last `size` calls.
struct CountWindow: Sendable {
    let size: Int
    private var ring: [RecordedCall?]
    private var head = 0
    private(set) var total = CallTally()

    init(size: Int) {
        self.size = size
        ring = Array(repeating: nil, count: max(size, 0))
    }

    mutating func record(_ call: RecordedCall) {
        guard size > 0 else { return }
        if let evicted = ring[head] { total.subtract(evicted.tally) }
        ring[head] = call
        total.add(call)
        head = (head + 1) % size
    }
}

/// resilience4j's SlidingTimeWindowMetrics: one bucket per second over the last `seconds` seconds.
///
/// Seconds are counted from the first instant the window sees, so bucket boundaries are aligned to
/// that instant rather than to wall-clock seconds; the arithmetic is otherwise the same.
struct TimeWindow<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    private struct Bucket: Sendable {
        var second: Int64
        var tally = CallTally()
    }

    let seconds: Int
    private var buckets: [Bucket]
    private var head = 0
    private var origin: Instant?
    private(set) var total = CallTally()

    init(seconds: Int) {
        self.seconds = seconds
        buckets = Array(repeating: Bucket(second: 0), count: seconds)
    }

    mutating func record(_ call: RecordedCall, now: Instant) {
        advance(to: now)
        buckets[head].tally.add(call)
        total.add(call)
    }

    /// Drops the buckets that fell out of the window and returns what is left.
    mutating func tally(now: Instant) -> CallTally {
        advance(to: now)
        return total
    }

    private mutating func advance(to now: Instant) {
        guard let origin else {
            origin = now
            return
        }
        let second = max(origin.duration(to: now).components.seconds, 0)
        let latest = buckets[head].second
        // An instant older than the newest bucket (a racing caller) is counted in the newest bucket.
        guard second > latest else { return }
        var remaining = min(second - latest, Int64(seconds))
        while remaining > 0 {
            remaining -= 1
            head = (head + 1) % seconds
            total.subtract(buckets[head].tally)
            buckets[head] = Bucket(second: second - remaining)
        }
    }
}

/// The window a breaker state records into, with that state's minimum number of calls.
struct BreakerWindow<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    // Two optionals rather than an enum so that recording mutates the ring buffer in place.
    private var countWindow: CountWindow?
    private var timeWindow: TimeWindow<Instant>?
    let minimumNumberOfCalls: Int
    var notPermittedCalls = 0

    private init(count: CountWindow? = nil, time: TimeWindow<Instant>? = nil, minimumNumberOfCalls: Int) {
        countWindow = count
        timeWindow = time
        self.minimumNumberOfCalls = minimumNumberOfCalls
    }

    /// The closed state's window; like resilience4j, a count window never waits for more calls than it holds.
    static func closed(_ configuration: CircuitBreakerConfiguration) -> BreakerWindow {
        switch configuration.slidingWindow {
        case .countBased(let calls):
            BreakerWindow(
                count: CountWindow(size: calls), minimumNumberOfCalls: min(configuration.minimumNumberOfCalls, calls))
        case .timeBased(let seconds):
            BreakerWindow(time: TimeWindow(seconds: seconds), minimumNumberOfCalls: configuration.minimumNumberOfCalls)
        }
    }

    static func halfOpen(_ configuration: CircuitBreakerConfiguration) -> BreakerWindow {
        let permitted = configuration.permittedCallsInHalfOpenState
        return BreakerWindow(
            count: CountWindow(size: permitted), minimumNumberOfCalls: min(configuration.minimumNumberOfCalls, permitted))
    }

    /// Forced-open and disabled record nothing.
    static var empty: BreakerWindow {
        BreakerWindow(count: CountWindow(size: 0), minimumNumberOfCalls: 0)
    }

    mutating func record(_ call: RecordedCall, now: Instant) -> CallTally {
        countWindow?.record(call)
        timeWindow?.record(call, now: now)
        return tally(now: now)
    }

    mutating func tally(now: Instant) -> CallTally {
        if let total = countWindow?.total { return total }
        return timeWindow?.tally(now: now) ?? CallTally()
    }

    /// Failure and slow-call rates in percent, or nil while fewer than the minimum calls were recorded.
    func rates(of tally: CallTally) -> (failure: Double, slow: Double)? {
        guard tally.calls > 0, tally.calls >= minimumNumberOfCalls else { return nil }
        let calls = Double(tally.calls)
        return (Double(tally.failed) * 100 / calls, Double(tally.slow) * 100 / calls)
    }
}
