import Foundation

/// Wilder's Average True Range, as `ta.volatility.AverageTrueRange` defines it.
///
/// The true range is max(high − low, |high − previous close|, |low − previous close|);
/// the first bar has no previous close, so its true range is high − low. The first
/// ATR is the mean of the first `period` true ranges (available at the `period`-th
/// bar); then ATR = (ATR × (period − 1) + true range) / period. (TA-Lib instead skips
/// the first bar and starts one bar later.)
public struct AverageTrueRange: Sendable, Equatable {
    public let period: Int
    public private(set) var value: Double?
    private var previousClose: Double?
    /// Bars seen so far (the value appears at `period`).
    public private(set) var bars = 0
    private var average = 0.0

    public init(period: Int = 14) {
        precondition(period > 0, "ATR period must be positive")
        self.period = period
    }

    public mutating func update(high: Double, low: Double, close: Double) -> Double? {
        defer { previousClose = close }
        var trueRange = high - low
        if let previousClose {
            trueRange = max(trueRange, abs(high - previousClose), abs(low - previousClose))
        }
        bars += 1
        let length = Double(period)
        if bars < period {
            average += trueRange
            return nil
        }
        average = bars == period ? (average + trueRange) / length : (average * (length - 1) + trueRange) / length
        value = average
        return average
    }
}

/// Bollinger Bands: the SMA of the last `period` closes ± k population standard
/// deviations, as `ta.volatility.BollingerBands`.
public struct BollingerBands: Sendable, Equatable {
    public struct Value: Sendable, Equatable {
        public var middle: Double
        public var upper: Double
        public var lower: Double
        public var standardDeviation: Double
        /// (upper − lower) / middle × 100, as `ta`'s `bollinger_wband`.
        public var bandwidth: Double
        /// Where the close sits in the band: 0 at the lower band, 1 at the upper; nil
        /// when the band has no width.
        public var percentB: Double?
    }

    public let period: Int
    public let k: Double
    public private(set) var value: Value?
    private var window: RollingWindow

    public init(period: Int = 20, k: Double = 2) {
        precondition(period > 0, "Bollinger period must be positive")
        precondition(k >= 0, "Bollinger width must not be negative")
        self.period = period
        self.k = k
        self.window = RollingWindow(capacity: period)
    }

    public mutating func update(_ close: Double) -> Value? {
        window.push(close)
        guard window.isFull else { return nil }
        let (mean, squaredDeviations) = window.meanAndSquaredDeviations()
        let deviation = (squaredDeviations / Double(period)).squareRoot()
        let upper = mean + k * deviation
        let lower = mean - k * deviation
        let width = upper - lower
        value = Value(
            middle: mean, upper: upper, lower: lower, standardDeviation: deviation,
            bandwidth: mean != 0 ? width / mean * 100 : .infinity,
            percentB: width > 0 ? (close - lower) / width : nil)
        return value
    }
}

/// Realised volatility: the sample standard deviation (n − 1) of the last `period`
/// log returns, times √`annualisationFactor` (1 leaves it per bar; 525,600 turns
/// 1-minute bars into a yearly figure). Needs `period + 1` closes, all positive.
public struct RealisedVolatility: Sendable, Equatable {
    public let period: Int
    public let annualisationFactor: Double
    public private(set) var value: Double?
    private var returns: RollingWindow
    private var previousClose: Double?

    public init(period: Int, annualisationFactor: Double = 1) {
        precondition(period > 1, "a standard deviation needs at least two returns")
        precondition(annualisationFactor > 0, "the annualisation factor must be positive")
        self.period = period
        self.annualisationFactor = annualisationFactor
        self.returns = RollingWindow(capacity: period)
    }

    public mutating func update(_ close: Double) -> Double? {
        precondition(close > 0, "log returns need positive prices")
        defer { previousClose = close }
        guard let previousClose else { return nil }
        returns.push(Foundation.log(close / previousClose))
        guard returns.isFull else { return nil }
        let (_, squaredDeviations) = returns.meanAndSquaredDeviations()
        value = (squaredDeviations / Double(period - 1) * annualisationFactor).squareRoot()
        return value
    }
}
