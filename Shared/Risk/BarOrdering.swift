import Schema

/// The gate judges an intent after the bar it was decided on, as the backtest does. The feed's bars
/// and the signal generator's intents reach the gate's socket from two publishers, which ZeroMQ
/// fair-queues: when both wait there (the gate was off the CPU for a moment), the intent can be read
/// first, and would be judged, and its stop priced, at the previous bar's mark. Such an intent waits
/// for its bar, at most `maxWaitNanos` (a bar lost on the way, or a gate that started after it);
/// later intents for the symbol wait behind it, so each symbol's intents keep their order.
public struct BarOrdering: Sendable {
    public struct Held: Sendable, Equatable {
        public let intent: OrderIntent
        public let traceId: String
        /// The open time of the bar it waits for; nil when it only waits behind an earlier intent.
        public let bar: EpochNanos?
        public let until: EpochNanos
        /// Judged without its bar: the wait ran out.
        public internal(set) var overdue = false
    }

    /// Long against a bus hop (tens of µs) and a descheduled thread (a few ms), short against a bar.
    public static let defaultMaxWaitNanos: Int64 = 250_000_000

    public let maxWaitNanos: Int64
    /// The open time of the latest bar heard, by symbol.
    private var barHeard: [String: EpochNanos] = [:]
    /// Each signal's bar until its intent comes (or the bar, after which it cannot wait).
    private var signalBars: [String: (symbol: String, bar: EpochNanos)] = [:]
    /// Waiting intents by symbol, in arrival order.
    private var waiting: [String: [Held]] = [:]

    public init(maxWaitNanos: Int64 = BarOrdering.defaultMaxWaitNanos) { self.maxWaitNanos = maxWaitNanos }

    /// A signal comes from the same publisher as its intent, just before it.
    public mutating func heard(_ signal: Signal) {
        guard let symbol = signal.symbol, !isHeard(symbol, bar: signal.barTime) else { return }
        signalBars[signal.signalId] = (symbol, signal.barTime)
    }

    /// The intents to judge now, in order: this one, unless it waits for its bar or behind another.
    public mutating func admit(_ intent: OrderIntent, traceId: String, now: EpochNanos) -> [Held] {
        let origin = signalBars.removeValue(forKey: intent.origin)
        guard let symbol = intent.symbol else { return [Held(intent: intent, traceId: traceId, bar: nil, until: now)] }
        let bar = origin.flatMap { $0.symbol == symbol && !isHeard(symbol, bar: $0.bar) ? $0.bar : nil }
        let queue = waiting[symbol, default: []]
        guard bar != nil || !queue.isEmpty else { return [Held(intent: intent, traceId: traceId, bar: nil, until: now)] }
        // The intents ahead were admitted earlier, so their waits run out first.
        waiting[symbol] = queue + [Held(intent: intent, traceId: traceId, bar: bar, until: now + maxWaitNanos)]
        return []
    }

    /// After the gate has heard `bar`: the intents that waited for it (and those behind them).
    public mutating func heard(_ bar: Bar, now: EpochNanos) -> [Held] {
        guard let symbol = bar.symbol else { return [] }
        barHeard[symbol] = Swift.max(barHeard[symbol] ?? bar.openTime, bar.openTime)
        signalBars = signalBars.filter { $0.value.symbol != symbol || $0.value.bar > bar.openTime }
        return release(symbol, now: now)
    }

    /// The intents whose wait ran out (and those behind them), marked overdue.
    public mutating func due(now: EpochNanos) -> [Held] {
        waiting.keys.sorted().flatMap { release($0, now: now) }
    }

    /// When the next wait runs out.
    public var nextDeadline: EpochNanos? { waiting.values.compactMap { $0.first?.until }.min() }

    public var waitingCount: Int { waiting.values.map(\.count).reduce(0, +) }

    private func isHeard(_ symbol: String, bar: EpochNanos) -> Bool { barHeard[symbol].map { $0 >= bar } ?? false }

    /// From the front of the symbol's queue: every intent whose bar was heard, or whose wait ran out.
    private mutating func release(_ symbol: String, now: EpochNanos) -> [Held] {
        guard var queue = waiting[symbol] else { return [] }
        var released: [Held] = []
        while var first = queue.first {
            let ready = first.bar.map { isHeard(symbol, bar: $0) } ?? true
            guard ready || first.until <= now else { break }
            first.overdue = !ready
            released.append(first)
            queue.removeFirst()
        }
        waiting[symbol] = queue.isEmpty ? nil : queue
        return released
    }
}
