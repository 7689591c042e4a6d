import Synchronization

/// Finagle's RetryBudget: retries may add at most `percentCanRetry` of the calls made in the last `ttl`,
/// plus a reserve of `minRetriesPerSecond` so that a quiet client can still retry. Shared by all calls
/// to one dependency so that retries cannot multiply the load of an outage.
///
/// Kept, like Finagle's TokenRetryBudget, as a balance in a windowed counter: each call deposits
/// `scale`, each retry withdraws `scale / percentCanRetry`, and both expire after `ttl`.
public final class RetryBudget<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    private static var scale: Int { 1000 }
    private static var slices: Int { 10 }

    public let ttl: Duration
    public let minRetriesPerSecond: Int
    public let percentCanRetry: Double
    private let deposit: Int
    private let withdrawal: Int
    private let reserve: Int
    private let sliceLength: Duration
    private let window: Mutex<Window>

    private struct Window {
        var origin: Instant?
        /// Net deposits per slice, keyed by slice number modulo the slice count.
        var slices: [(number: Int64, amount: Int)]
    }

    /// - Parameters:
    ///   - percentCanRetry: retries as a fraction of calls, e.g. 0.2 for 20 %; between 0 and 10.
    public init(ttl: Duration = .seconds(10), minRetriesPerSecond: Int = 10, percentCanRetry: Double = 0.2) {
        precondition(ttl >= .seconds(1) && ttl <= .seconds(60), "ttl must be between 1 and 60 seconds")
        precondition(minRetriesPerSecond >= 0, "minRetriesPerSecond must not be negative")
        precondition(percentCanRetry >= 0 && percentCanRetry <= 10, "percentCanRetry must be between 0 and 10")
        self.ttl = ttl
        self.minRetriesPerSecond = minRetriesPerSecond
        self.percentCanRetry = percentCanRetry
        // Without a percentage every retry costs 1 and only the reserve pays for it.
        deposit = percentCanRetry == 0 ? 0 : Self.scale
        withdrawal = percentCanRetry == 0 ? 1 : Int(Double(Self.scale) / percentCanRetry)
        reserve = minRetriesPerSecond * Int(ttl.components.seconds) * withdrawal
        sliceLength = ttl / Self.slices
        window = Mutex(Window(slices: Array(repeating: (number: -1, amount: 0), count: Self.slices)))
    }

    /// Counts one call (not a retry); every call earns retries for the next `ttl`.
    public func recordCall(now: Instant) {
        window.withLock { add(deposit, now: now, to: &$0) }
    }

    /// Takes the budget for one retry, or returns false when it is spent.
    public func tryWithdraw(now: Instant) -> Bool {
        window.withLock { window in
            guard reserve + sum(now: now, in: &window) >= withdrawal else { return false }
            add(-withdrawal, now: now, to: &window)
            return true
        }
    }

    /// Retries currently allowed.
    public func balance(now: Instant) -> Int {
        window.withLock { (reserve + sum(now: now, in: &$0)) / withdrawal }
    }

    private func sliceNumber(_ now: Instant, in window: inout Window) -> Int64 {
        guard let origin = window.origin else {
            window.origin = now
            return 0
        }
        let elapsed = max(origin.duration(to: now), .zero)
        return elapsed.wholeNanoseconds / sliceLength.wholeNanoseconds
    }

    private func add(_ amount: Int, now: Instant, to window: inout Window) {
        let number = sliceNumber(now, in: &window)
        let index = Int(number % Int64(Self.slices))
        if window.slices[index].number != number { window.slices[index] = (number, 0) }
        window.slices[index].amount += amount
    }

    private func sum(now: Instant, in window: inout Window) -> Int {
        let current = sliceNumber(now, in: &window)
        return window.slices.reduce(0) { total, slice in
            slice.number > current - Int64(Self.slices) ? total + slice.amount : total
        }
    }
}
