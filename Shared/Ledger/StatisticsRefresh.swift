import Schema

/// When the trading statistics are computed again: once a trade has closed, and at most once per
/// interval, so a burst of closing fills costs one pass over the trades instead of one per fill.
/// The first close after a quiet interval is computed at once; later ones wait for the interval.
public struct StatisticsRefresh: Sendable, Equatable {
    public let intervalNanos: Int64
    /// A trade closed since the last computation (true at start: nothing computed yet).
    public private(set) var stale = true
    public private(set) var lastComputedAt: EpochNanos?

    public init(intervalNanos: Int64 = 5_000_000_000) { self.intervalNanos = max(0, intervalNanos) }

    public mutating func tradeClosed() { stale = true }

    /// Whether to compute now; when it is, the computation counts as done at `now`.
    public mutating func due(now: EpochNanos) -> Bool {
        guard stale else { return false }
        if let lastComputedAt, now - lastComputedAt < intervalNanos, now >= lastComputedAt { return false }
        stale = false
        lastComputedAt = now
        return true
    }
}
