import Foundation
import Schema

/// Time with at least one position of a group open: the union of its trades' [entry, exit]
/// intervals (overlapping trades count once), clipped to the span.
///
/// Closed trades only: a position still open at the end of the span is not counted.
public struct Exposure: Sendable, Hashable {
    /// Nanoseconds with at least one position open.
    public var openNanos: Int64
    /// openNanos / (span end − span start), in 0…1; nil without a span or with one of zero length.
    public var share: Double?

    public init(trades: some Sequence<ClosedTrade>, span: ClosedRange<EpochNanos>?) {
        var intervals: [(start: EpochNanos, end: EpochNanos)] = trades.map {
            var start = $0.entryTime, end = max($0.entryTime, $0.exitTime)
            if let span {
                start = min(max(start, span.lowerBound), span.upperBound)
                end = min(max(end, span.lowerBound), span.upperBound)
            }
            return (start: start, end: end)
        }
        intervals.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        var total: Int64 = 0
        var current: (start: EpochNanos, end: EpochNanos)?
        for interval in intervals {
            if let open = current, interval.start <= open.end {
                current = (start: open.start, end: max(open.end, interval.end))
            } else {
                if let open = current { total = Self.adding(total, Self.length(open.start, open.end)) }
                current = interval
            }
        }
        if let open = current { total = Self.adding(total, Self.length(open.start, open.end)) }
        openNanos = total
        if let span {
            let length = Self.length(span.lowerBound, span.upperBound)
            share = length > 0 ? min(Double(total) / Double(length), 1) : nil
        } else {
            share = nil
        }
    }

    public var openSeconds: Double { Double(openNanos) / 1e9 }

    /// end − start, saturating: times come from outside and must not trap.
    static func length(_ start: EpochNanos, _ end: EpochNanos) -> Int64 {
        let (difference, overflow) = end.subtractingReportingOverflow(start)
        return overflow ? .max : max(difference, 0)
    }

    static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}

/// Daily returns of equity and the ratios on them.
///
/// Equity is the starting capital plus the cumulative net P&L of the trades closed so far, by exit
/// time; once it reaches zero or below it is zero for good (the account is ruined). A day is a UTC
/// calendar day; every day of the span counts, and a day with no trade closed carries the previous
/// day's equity forward (a return of 0). Day d's return is E(d) / E(d − 1) − 1, with E before the
/// first day the starting capital; a day that starts at zero equity has no return, so the series
/// ends at ruin.
///
/// - Sharpe = mean(r) / sd(r) × √365, sd the sample standard deviation (n − 1); nil with fewer than
///   two returns or when they do not vary.
/// - Sortino = mean(r) / dd(r) × √365, dd the downside deviation with target 0:
///   √(Σ min(r, 0)² / n) over all n days; nil with no return below zero.
///
/// Both assume a risk-free rate of 0 and annualise by √365: crypto trades every day of the year.
public struct DailyReturns: Sendable, Hashable {
    public static let nanosPerDay: Int64 = 86_400_000_000_000
    public static let tradingDaysPerYear = 365.0
    /// √365, the factor that makes a daily ratio annual.
    public static var annualisation: Double { tradingDaysPerYear.squareRoot() }

    /// Equity at the end of each day of the span, first day first (after the returns stop at ruin, none).
    public var closingEquity: [Amount]
    /// One per day of the span, as fractions (0.01 is 1 %).
    public var returns: [Double]

    public init(startingCapital: Amount, trades: [ClosedTrade], span: ClosedRange<EpochNanos>?) {
        closingEquity = []
        returns = []
        guard let span, startingCapital.isPositive else { return }
        let ordered = trades.enumerated().sorted {
            ($0.element.exitTime, $0.offset) < ($1.element.exitTime, $1.offset)
        }.map(\.element)
        let firstDay = Self.day(span.lowerBound), lastDay = Self.day(span.upperBound)
        var equity = startingCapital
        var previous = startingCapital
        var next = ordered.startIndex
        var day = firstDay
        while day <= lastDay {
            while next < ordered.endIndex, Self.day(ordered[next].exitTime) <= day {
                if equity.isPositive {
                    equity += ordered[next].netPnl
                    if !equity.isPositive { equity = .zero }
                }
                next += 1
            }
            guard previous.isPositive else { break }
            closingEquity.append(equity)
            returns.append(((equity - previous) / previous).doubleValue)
            previous = equity
            day += 1
        }
    }

    /// The UTC calendar day of a time: days since 1970-01-01 (floor, so times before 1970 work too).
    public static func day(_ time: EpochNanos) -> Int64 {
        let (quotient, remainder) = time.quotientAndRemainder(dividingBy: nanosPerDay)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// Mean daily return; nil with no days.
    public var mean: Double? { returns.isEmpty ? nil : returns.reduce(0, +) / Double(returns.count) }

    /// Sample standard deviation (n − 1); nil with fewer than two days.
    public var standardDeviation: Double? {
        guard returns.count >= 2, let mean else { return nil }
        let squares = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(returns.count - 1)).squareRoot()
    }

    /// √(Σ min(r, 0)² / n) over every day (target 0); nil with no days.
    public var downsideDeviation: Double? {
        guard !returns.isEmpty else { return nil }
        let squares = returns.reduce(0) { $0 + min($1, 0) * min($1, 0) }
        return (squares / Double(returns.count)).squareRoot()
    }

    /// mean / sd × √365; nil when sd is nil or (to rounding) zero.
    public var sharpe: Double? { Self.ratio(mean, standardDeviation) }

    /// mean / downside deviation × √365; nil when no day lost.
    public var sortino: Double? { Self.ratio(mean, downsideDeviation) }

    private static func ratio(_ mean: Double?, _ deviation: Double?) -> Double? {
        guard let mean, let deviation, deviation.isFinite, mean.isFinite else { return nil }
        // Returns equal but for the last bit of rounding are returns that do not vary.
        guard deviation > 1e-12 * max(abs(mean), 1e-12) else { return nil }
        let value = mean / deviation * annualisation
        return value.isFinite ? value : nil
    }
}

/// The statistics traders read for one group of closed trades (a strategy, a symbol, or all):
/// counts and money figures (`TradeStatistics`), exposure, max drawdown, and the daily ratios.
/// Every ratio that would divide by zero is nil, never NaN or infinity.
public struct PerformanceFigures: Sendable, Hashable {
    public var trades: TradeStatistics
    /// The group's own equity: starting capital + its trades' cumulative net P&L, at each close.
    public var equityCurve: EquityCurve
    public var exposure: Exposure
    public var dailyReturns: DailyReturns
    /// What time was measured over: the report's span (the same for every group, so shares compare).
    public var span: ClosedRange<EpochNanos>?

    /// - Parameter span: the period reported on; by default from the first entry to the last exit.
    public init(trades: [ClosedTrade], startingCapital: Amount, span: ClosedRange<EpochNanos>? = nil) {
        let span = span ?? Self.span(of: trades)
        self.trades = TradeStatistics(trades: trades)
        equityCurve = EquityCurve(startingCapital: startingCapital, trades: trades)
        exposure = Exposure(trades: trades, span: span)
        dailyReturns = DailyReturns(startingCapital: startingCapital, trades: trades, span: span)
        self.span = span
    }

    /// First entry to last exit; nil with no trades.
    public static func span(of trades: [ClosedTrade]) -> ClosedRange<EpochNanos>? {
        guard let first = trades.map(\.entryTime).min(), let last = trades.map(\.exitTime).max() else { return nil }
        return min(first, last)...max(first, last)
    }

    /// Largest fall of equity from its running peak (starting at the starting capital), 0…1.
    public var maxDrawdown: Double { equityCurve.maxDrawdown }
    public var sharpe: Double? { dailyReturns.sharpe }
    public var sortino: Double? { dailyReturns.sortino }
}
