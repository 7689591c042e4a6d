import Schema

/// Realised equity over time: starting capital + realised P&L − fees + funding after each fill and each
/// funding payment, booked by the FIFO ledger's rules in the order the P&L report books them
/// (`FifoLedger.replay`). What the report page draws as the equity curve and its drawdown.
public struct EquityHistory: Sendable, Equatable {
    public var startingCapital: Amount
    /// One per fill and funding payment, in booking order, at the record's own time.
    public var points: [EquityPoint]

    public init(startingCapital: Amount, points: [EquityPoint]) {
        self.startingCapital = startingCapital
        self.points = points
    }

    /// Replays `fills` (in the given order) and `funding` (by time, between the fills) into a fresh ledger.
    public init(fills: [Fill], funding: [FundingSettlement], startingCapital: Amount) throws(LedgerError) {
        self = try ReplayedLedger(fills: fills, funding: funding, startingCapital: startingCapital).equity
    }

    /// The last equity; the starting capital before the first record.
    public var finalEquity: Amount { points.last?.equity ?? startingCapital }

    /// The fall from the running peak at each point, as a fraction of the peak (the peak starts at the
    /// starting capital): 0 at a new high, 1 once equity is at or below zero. The rule of
    /// `EquityCurve.maxDrawdown`, point by point.
    public var drawdowns: [Double] {
        guard startingCapital.isPositive else { return points.map { _ in 1 } }
        var peak = startingCapital
        var ruined = false
        return points.map { point in
            if ruined || !point.equity.isPositive {
                ruined = true
                return 1
            }
            if point.equity > peak { peak = point.equity }
            return min(max(((peak - point.equity) / peak).doubleValue, 0), 1)
        }
    }

    /// The largest of `drawdowns`, 0 with no points.
    public var maxDrawdown: Double {
        EquityCurve.maxDrawdown(startingCapital: startingCapital, equities: points.map(\.equity))
    }
}

/// One error of the window with its publish time, grouped as `PipelineReport.errors` groups errors:
/// an exchange reject under `exchange` and its reason code, a breaker opening under its dependency,
/// an alert above info under its service and code.
public struct ErrorEvent: Sendable, Equatable {
    public var time: EpochNanos
    public var dependency: String
    public var type: String

    public init(time: EpochNanos, dependency: String, type: String) {
        self.time = time
        self.dependency = dependency
        self.type = type
    }

    /// The errors among these messages (each with its publish time), oldest first.
    public static func events(
        rejects: [(time: EpochNanos, reject: OrderReject)] = [],
        breakers: [(time: EpochNanos, transition: BreakerTransition)] = [],
        alerts: [(time: EpochNanos, alert: Alert)] = []
    ) -> [ErrorEvent] {
        var events: [ErrorEvent] = []
        events += rejects.map { ErrorEvent(time: $0.time, dependency: "exchange", type: $0.reject.reason.code.rawValue) }
        events += breakers.filter { $0.transition.to == .open }.map {
            ErrorEvent(time: $0.time, dependency: $0.transition.dependency, type: "breaker_open")
        }
        events += alerts.filter { $0.alert.severity != .info }.map {
            ErrorEvent(time: $0.time, dependency: $0.alert.service, type: $0.alert.code)
        }
        return events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }
}

/// Errors counted per time bucket and dependency: the report page's error timeline.
public struct ErrorTimeline: Sendable, Equatable {
    public var start: EpochNanos
    /// Each bucket's length; the last bucket ends at or after `end`.
    public var bucketNanos: Int64
    /// Dependencies, most errors first (ties by name).
    public var series: [String]
    /// counts[bucket][series index].
    public var counts: [[Int]]

    /// `buckets` equal buckets over start…end (at least one nanosecond each); events outside are left out.
    public init(events: [ErrorEvent], start: EpochNanos, end: EpochNanos, buckets: Int) {
        let buckets = max(buckets, 1)
        let end = max(end, start)
        self.start = start
        // In Double: a span of absurd times must not trap.
        let span = Double(end) - Double(start) + 1
        bucketNanos = Int64(min(max((span / Double(buckets)).rounded(.up), 1), Double(Int64.max / 2)))
        let inside = events.filter { $0.time >= start && $0.time <= end }
        var totals: [String: Int] = [:]
        for event in inside { totals[event.dependency, default: 0] += 1 }
        series = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        let index = Dictionary(uniqueKeysWithValues: series.enumerated().map { ($0.element, $0.offset) })
        var counts = Array(repeating: Array(repeating: 0, count: series.count), count: buckets)
        for event in inside {
            let bucket = Int(min((Double(event.time) - Double(start)) / Double(bucketNanos), Double(buckets - 1)))
            counts[max(bucket, 0)][index[event.dependency]!] += 1
        }
        self.counts = counts
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
}
