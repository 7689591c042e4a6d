import Foundation
import Market
import Schema

/// What a model predicts for a bar: where the close will be `horizonBars` later, beyond a neutral
/// band either way or within it. The order is the model's class order.
public enum TradeClass: Int, Sendable, CaseIterable, Codable {
    case sell = 0
    case hold = 1
    case buy = 2

    public var name: String {
        switch self {
        case .sell: "sell"
        case .hold: "hold"
        case .buy: "buy"
        }
    }

    public static let names = allCases.map(\.name)
}

/// How a bar is labelled: the log return from its close to the close `horizonBars` later, against a
/// neutral band of `neutralBandBps` either way.
public struct LabelRule: Sendable, Equatable {
    public var horizonBars: Int
    public var neutralBandBps: Double

    public init(horizonBars: Int, neutralBandBps: Double) {
        self.horizonBars = horizonBars
        self.neutralBandBps = neutralBandBps
    }

    public func label(from close: Double, to later: Double) -> TradeClass {
        let move = log(later / close)
        let band = neutralBandBps / 10_000
        return move > band ? .buy : (move < -band ? .sell : .hold)
    }
}

public struct TrainingSetError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Feature rows with their labels, in time order, from one symbol's bars: the same `BarFeatures`
/// the live strategy computes. A row is labelled only when the bar `horizonBars` later is exactly
/// that many intervals away, so a gap in the recording never becomes a made-up return.
public struct TrainingSet: Sendable {
    public var symbol: String
    public var rule: LabelRule
    public var featureNames: [String]
    public var rows: [[Double]]
    public var labels: [TradeClass]
    /// Open time of each row's bar.
    public var times: [EpochNanos]
    /// Bars skipped because their horizon crossed a gap.
    public var rowsSkippedForGaps: Int

    public var classShares: [String: Double] {
        var counts: [TradeClass: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        let total = Double(max(labels.count, 1))
        return Dictionary(uniqueKeysWithValues: TradeClass.allCases.map { ($0.name, Double(counts[$0] ?? 0) / total) })
    }

    /// `bars` of one symbol and one interval, in any order (sorted here); duplicates (same open
    /// time) are refused, as are bars of other symbols or intervals.
    public static func build(bars: [Bar], rule: LabelRule) throws(TrainingSetError) -> TrainingSet {
        guard rule.horizonBars > 0 else { throw TrainingSetError("the horizon must be at least one bar") }
        guard rule.neutralBandBps >= 0, rule.neutralBandBps.isFinite else {
            throw TrainingSetError("the neutral band must be a non-negative number of basis points")
        }
        guard let first = bars.first else { throw TrainingSetError("no bars to train on") }
        let symbol = first.symbol ?? ""
        let interval = first.intervalSeconds
        let sorted = bars.sorted { $0.openTime < $1.openTime }
        for (index, bar) in sorted.enumerated() {
            guard bar.symbol == first.symbol, bar.intervalSeconds == interval else {
                throw TrainingSetError(
                    "bar at \(bar.openTime) is \(bar.symbol ?? "?") \(bar.intervalSeconds) s; expected \(symbol) \(interval) s")
            }
            if index > 0, sorted[index - 1].openTime == bar.openTime {
                throw TrainingSetError("two bars open at \(bar.openTime)")
            }
        }
        var features = BarFeatures()
        var set = TrainingSet(
            symbol: symbol, rule: rule, featureNames: BarFeatures.names, rows: [], labels: [], times: [],
            rowsSkippedForGaps: 0)
        let step = Int64(interval) * 1_000_000_000
        for (index, bar) in sorted.enumerated() {
            let close = bar.close.doubleValue
            guard
                let row = features.update(
                    high: bar.high.doubleValue, low: bar.low.doubleValue, close: close, volume: bar.volume.doubleValue)
            else { continue }
            let later = index + rule.horizonBars
            guard later < sorted.count else { break }
            guard sorted[later].openTime - bar.openTime == Int64(rule.horizonBars) * step else {
                set.rowsSkippedForGaps += 1
                continue
            }
            set.rows.append(row)
            set.labels.append(rule.label(from: close, to: sorted[later].close.doubleValue))
            set.times.append(bar.openTime)
        }
        guard !set.rows.isEmpty else {
            throw TrainingSetError(
                "\(bars.count) bars give no labelled row: features need \(BarFeatures.warmUpBars) bars and the label \(rule.horizonBars) more")
        }
        return set
    }

    /// Header `time,<features…>,label`; NaN features as empty cells (xgboost's missing value).
    public func csv() -> String {
        var text = "time," + featureNames.joined(separator: ",") + ",label\n"
        text.reserveCapacity(rows.count * featureNames.count * 12)
        for (index, row) in rows.enumerated() {
            text += "\(times[index])"
            for value in row {
                text += ","
                if value.isFinite { text += "\(value)" }
            }
            text += ",\(labels[index].rawValue)\n"
        }
        return text
    }
}
