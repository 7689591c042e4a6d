/// Wilder's Relative Strength Index, as TA-Lib's `RSI` defines it.
///
/// The first average gain and loss are the simple means of the first `period` price
/// changes (so the first value comes with the `period + 1`-th close); after that each
/// is smoothed as avg = (avg × (period − 1) + latest) / period, and
/// RSI = 100 × avgGain / (avgGain + avgLoss).
///
/// One deliberate difference: when there has been no change at all (both averages
/// zero) TA-Lib reports 0, which reads as "deeply oversold"; this reports the neutral
/// 50. Wilder smoothing never brings both averages back to zero, so this can only
/// happen on a flat start.
public struct RelativeStrengthIndex: Sendable, Equatable {
    public let period: Int
    public private(set) var value: Double?
    private var previousClose: Double?
    private var changes = 0
    private var averageGain = 0.0
    private var averageLoss = 0.0

    public init(period: Int = 14) {
        precondition(period > 0, "RSI period must be positive")
        self.period = period
    }

    public mutating func update(_ close: Double) -> Double? {
        defer { previousClose = close }
        guard let previousClose else { return nil }
        let change = close - previousClose
        let gain = max(change, 0)
        let loss = max(-change, 0)
        changes += 1
        let length = Double(period)
        if changes < period {
            averageGain += gain
            averageLoss += loss
            return nil
        } else if changes == period {
            averageGain = (averageGain + gain) / length
            averageLoss = (averageLoss + loss) / length
        } else {
            averageGain = (averageGain * (length - 1) + gain) / length
            averageLoss = (averageLoss * (length - 1) + loss) / length
        }
        let total = averageGain + averageLoss
        value = total > 0 ? 100 * averageGain / total : 50
        return value
    }
}

/// Rate of change in percent: 100 × (close − close `period` bars ago) / that close,
/// as `ta.momentum.ROCIndicator`.
public struct RateOfChange: Sendable, Equatable {
    public let period: Int
    public private(set) var value: Double?
    private var window: RollingWindow

    public init(period: Int) {
        precondition(period > 0, "ROC period must be positive")
        self.period = period
        self.window = RollingWindow(capacity: period)
    }

    public mutating func update(_ close: Double) -> Double? {
        guard let past = window.push(close) else { return nil }
        guard past != 0 else {
            value = nil
            return nil
        }
        value = (close - past) / past * 100
        return value
    }
}
