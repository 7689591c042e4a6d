import Schema

/// Closing prices per symbol, keyed by bar open time, from which the portfolio-risk figures
/// draw their joint historical returns.
///
/// Bars come from the feed (recorded by the system) or a file; the caller passes them in,
/// oldest first per symbol. Prices are doubles: risk figures are estimates, not ledger money.
public struct ReturnHistory: Sendable, Equatable {
    /// Bar length: every bar recorded must have it, and horizons are counted in it.
    public let intervalSeconds: Int
    /// Bars kept per symbol; the oldest go first.
    public let capacity: Int
    private var series: [String: Series] = [:]

    struct Series: Sendable, Equatable {
        var openTimes: [EpochNanos] = []
        var closes: [Double] = []
    }

    public enum RecordError: Error, Sendable, Equatable, CustomStringConvertible {
        case wrongInterval(symbol: String, expected: Int, got: Int)
        case invalidClose(symbol: String, openTime: EpochNanos, close: Double)
        case outOfOrder(symbol: String, openTime: EpochNanos, latest: EpochNanos)
        case misaligned(symbol: String, openTime: EpochNanos, intervalSeconds: Int)
        case missingSymbol

        public var description: String {
            switch self {
            case let .wrongInterval(symbol, expected, got):
                "\(symbol): bar interval \(got) s, the history keeps \(expected) s bars"
            case let .invalidClose(symbol, openTime, close):
                "\(symbol) bar at \(openTime): close \(close) is not a positive finite price"
            case let .outOfOrder(symbol, openTime, latest):
                "\(symbol) bar at \(openTime) is older than the latest recorded (\(latest))"
            case let .misaligned(symbol, openTime, intervalSeconds):
                "\(symbol) bar at \(openTime) does not start on a \(intervalSeconds) s boundary"
            case .missingSymbol: "bar without a symbol"
            }
        }
    }

    /// - Parameters:
    ///   - intervalSeconds: bar length (60 for the one-minute bars the feed builds).
    ///   - capacity: bars kept per symbol; 64,800 one-minute bars = 45 days.
    public init(intervalSeconds: Int = 60, capacity: Int = 64_800) {
        self.intervalSeconds = max(1, intervalSeconds)
        self.capacity = max(2, capacity)
    }

    public var intervalNanos: Int64 { Int64(intervalSeconds) * Nanos.second }
    public var symbols: [String] { series.keys.sorted() }
    public func barCount(_ symbol: String) -> Int { series[symbol]?.closes.count ?? 0 }
    public func latestOpenTime(_ symbol: String) -> EpochNanos? { series[symbol]?.openTimes.last }

    /// Records a closed bar. A bar with the latest open time again replaces it (a revised bar);
    /// an older one is refused, so the series stays sorted.
    public mutating func record(_ bar: Bar) throws(RecordError) {
        guard let symbol = bar.symbol, !symbol.isEmpty else { throw .missingSymbol }
        guard bar.intervalSeconds == intervalSeconds else {
            throw .wrongInterval(symbol: symbol, expected: intervalSeconds, got: bar.intervalSeconds)
        }
        try record(symbol: symbol, openTime: bar.openTime, close: bar.close.doubleValue)
    }

    public mutating func record(symbol: String, openTime: EpochNanos, close: Double) throws(RecordError) {
        guard close.isFinite, close > 0 else { throw .invalidClose(symbol: symbol, openTime: openTime, close: close) }
        guard openTime % intervalNanos == 0 else {
            throw .misaligned(symbol: symbol, openTime: openTime, intervalSeconds: intervalSeconds)
        }
        if let latest = series[symbol]?.openTimes.last {
            if openTime == latest {
                series[symbol]!.closes[series[symbol]!.closes.count - 1] = close
                return
            }
            guard openTime > latest else { throw .outOfOrder(symbol: symbol, openTime: openTime, latest: latest) }
        }
        // In place: a copy taken out of the dictionary made every append copy the whole series.
        Self.append(&series[symbol, default: Series()], openTime: openTime, close: close, capacity: capacity)
    }

    private static func append(_ s: inout Series, openTime: EpochNanos, close: Double, capacity: Int) {
        s.openTimes.append(openTime)
        s.closes.append(close)
        if s.closes.count > capacity {
            // Trim in chunks so recording stays amortised O(1).
            let excess = s.closes.count - capacity + capacity / 8
            s.openTimes.removeFirst(excess)
            s.closes.removeFirst(excess)
        }
    }

    /// The close of the bar that opened at `openTime`, if recorded.
    public func close(_ symbol: String, at openTime: EpochNanos) -> Double? {
        guard let s = series[symbol] else { return nil }
        var low = 0
        var high = s.openTimes.count
        while low < high {
            let mid = (low + high) / 2
            if s.openTimes[mid] < openTime { low = mid + 1 } else { high = mid }
        }
        return low < s.openTimes.count && s.openTimes[low] == openTime ? s.closes[low] : nil
    }

    /// Joint simple returns of `symbols` over `horizonBars` bars, one vector per scenario.
    ///
    /// A scenario ending at bar open time `e` is, for every symbol, close(e) / close(e − horizon) − 1,
    /// and exists only when all symbols have both bars (aligned on open time; a gap drops the scenario,
    /// never fills it). End times are the anchor − k × `stepBars` bars, k = 0, 1, …, where the anchor is
    /// the latest open time at which every symbol has a bar; the most recent `window` scenarios are kept.
    ///
    /// Sampling: `stepBars == horizonBars` gives non-overlapping returns (one per day for a 1-day
    /// horizon of 1,440 one-minute bars): independent draws, but only as many as there are days.
    /// `stepBars == 1` gives overlapping returns, one per bar: many more scenarios, but neighbours
    /// share all but one bar of their path, so they are strongly autocorrelated — the 99 % quantile
    /// is smoother yet carries no more information than the number of days behind it, and a
    /// back-test's exceptions cluster.
    public func jointReturns(symbols: [String], horizonBars: Int, stepBars: Int, window: Int) -> JointReturns {
        let empty = JointReturns(
            symbols: symbols, endTimes: [], returns: [], horizonBars: horizonBars, stepBars: stepBars)
        guard horizonBars >= 1, stepBars >= 1, window >= 1, !symbols.isEmpty else { return empty }
        let chosen = symbols.compactMap { series[$0] }
        guard chosen.count == symbols.count, chosen.allSatisfy({ !$0.openTimes.isEmpty }) else { return empty }
        let step = Int64(stepBars) * intervalNanos
        let horizon = Int64(horizonBars) * intervalNanos
        let earliest = chosen.map { $0.openTimes[0] }.max()!
        // The anchor: walk the first symbol's bars back from the latest common time.
        let latestCommon = chosen.map { $0.openTimes.last! }.min()!
        var anchor: EpochNanos?
        let first = chosen[0]
        var i = first.openTimes.count - 1
        while i >= 0, first.openTimes[i] >= earliest {
            let t = first.openTimes[i]
            if t <= latestCommon, symbols.allSatisfy({ close($0, at: t) != nil }) {
                anchor = t
                break
            }
            i -= 1
        }
        guard let anchor else { return empty }

        var endTimes: [EpochNanos] = []
        var returns: [[Double]] = []
        var end = anchor
        while end - horizon >= earliest, endTimes.count < window {
            var vector: [Double] = []
            vector.reserveCapacity(symbols.count)
            for symbol in symbols {
                guard let last = close(symbol, at: end), let start = close(symbol, at: end - horizon) else { break }
                vector.append(last / start - 1)
            }
            if vector.count == symbols.count {
                endTimes.append(end)
                returns.append(vector)
            }
            end -= step
        }
        return JointReturns(
            symbols: symbols, endTimes: endTimes.reversed(), returns: returns.reversed(), horizonBars: horizonBars,
            stepBars: stepBars)
    }
}

/// Joint historical returns: one vector per scenario (oldest first), one entry per symbol.
public struct JointReturns: Sendable, Equatable {
    public let symbols: [String]
    /// Open time of each scenario's last bar.
    public let endTimes: [EpochNanos]
    /// `returns[scenario][symbolIndex]`: simple return over the horizon.
    public let returns: [[Double]]
    public let horizonBars: Int
    public let stepBars: Int

    public init(symbols: [String], endTimes: [EpochNanos], returns: [[Double]], horizonBars: Int, stepBars: Int) {
        self.symbols = symbols
        self.endTimes = endTimes
        self.returns = returns
        self.horizonBars = horizonBars
        self.stepBars = stepBars
    }

    public var count: Int { returns.count }

    /// One symbol's returns across the scenarios.
    public func column(_ symbol: String) -> [Double]? {
        guard let index = symbols.firstIndex(of: symbol) else { return nil }
        return returns.map { $0[index] }
    }
}
