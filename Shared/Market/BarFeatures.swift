import Foundation

/// The model features of one symbol's bars: the one definition that training, live signals and
/// backtests share, so a model sees in production exactly the columns it was trained on.
///
/// Every column is scale-free (a ratio, a return or a 0…1 oscillator), so one model can serve
/// symbols of very different prices. A value that cannot be computed (a zero volume average, a
/// flat Bollinger band) is NaN, which the model reads as missing.
///
/// | column | definition |
/// |---|---|
/// | `return_1`, `return_5`, `return_15` | log return over 1, 5, 15 bars |
/// | `close_sma_20` | close / SMA(20) − 1 |
/// | `sma_10_50` | SMA(10) / SMA(50) − 1 |
/// | `rsi_14` | RSI(14) / 100 (Wilder) |
/// | `macd`, `macd_signal`, `macd_histogram` | MACD(12, 26, 9) line, signal and histogram, each / close |
/// | `atr_14` | ATR(14) / close (Wilder) |
/// | `bollinger_percent_b` | (close − lower) / (upper − lower), Bollinger(20, 2) |
/// | `bollinger_bandwidth` | (upper − lower) / middle |
/// | `volume_trend` | SMA(5) / SMA(20) of volume − 1 |
/// | `volatility_20` | sample standard deviation of the last 20 log returns |
/// | `range_1` | (high − low) / close |
public struct BarFeatures: Sendable {
    /// Bumped whenever a column's definition changes: a model records the version it was trained on.
    public static let version = 1

    public static let names = [
        "return_1", "return_5", "return_15", "close_sma_20", "sma_10_50", "rsi_14", "macd", "macd_signal",
        "macd_histogram", "atr_14", "bollinger_percent_b", "bollinger_bandwidth", "volume_trend", "volatility_20",
        "range_1",
    ]

    /// Bars before the first row: the slowest input, SMA(50), is then full.
    public static let warmUpBars = 50

    private var closes = RollingWindow(capacity: 16)
    private var smaFast = SimpleMovingAverage(period: 10)
    private var smaMid = SimpleMovingAverage(period: 20)
    private var smaSlow = SimpleMovingAverage(period: 50)
    private var rsi = RelativeStrengthIndex(period: 14)
    private var emaFast = ExponentialMovingAverage(period: 12)
    private var emaSlow = ExponentialMovingAverage(period: 26)
    private var macdSignal = ExponentialMovingAverage(period: 9)
    private var atr = AverageTrueRange(period: 14)
    private var bollinger = BollingerBands(period: 20, k: 2)
    private var volumeFast = SimpleMovingAverage(period: 5)
    private var volumeSlow = SimpleMovingAverage(period: 20)
    private var returns = RollingWindow(capacity: 20)
    private var bars = 0

    public init() {}

    /// Feeds one closed bar; the row of `names.count` values once warm, else nil. A bar whose
    /// prices are not positive and finite feeds nothing and yields nil: it is not a market.
    public mutating func update(high: Double, low: Double, close: Double, volume: Double) -> [Double]? {
        guard close > 0, high > 0, low > 0, close.isFinite, high.isFinite, low.isFinite else { return nil }
        let volume = volume.isFinite && volume >= 0 ? volume : .nan
        let previous = closes.last
        closes.push(close)
        bars += 1
        if let previous { returns.push(log(close / previous)) }

        let fast = smaFast.update(close)
        let mid = smaMid.update(close)
        let slow = smaSlow.update(close)
        let strength = rsi.update(close)
        let macdLine = zip(emaFast.update(close), emaSlow.update(close)).map { $0 - $1 }
        let signal = macdLine.flatMap { macdSignal.update($0) }
        let range = atr.update(high: high, low: low, close: close)
        let band = bollinger.update(close)
        let volumeRatio = volume.isNaN ? nil : zip(volumeFast.update(volume), volumeSlow.update(volume))

        guard bars >= Self.warmUpBars, let fast, let mid, let slow, let strength, let macdLine, let signal,
            let range, let band
        else { return nil }
        let width = band.upper - band.lower
        return [
            log(close / closes.back(1)),
            log(close / closes.back(5)),
            log(close / closes.back(15)),
            close / mid - 1,
            fast / slow - 1,
            strength / 100,
            macdLine / close,
            signal / close,
            (macdLine - signal) / close,
            range / close,
            width > 0 ? (close - band.lower) / width : .nan,
            band.middle > 0 ? width / band.middle : .nan,
            volumeRatio.map { $0.1 > 0 ? $0.0 / $0.1 - 1 : .nan } ?? .nan,
            sampleDeviation(returns),
            (high - low) / close,
        ]
    }

    private func sampleDeviation(_ window: RollingWindow) -> Double {
        guard window.count > 1 else { return .nan }
        let (_, squares) = window.meanAndSquaredDeviations()
        return (squares / Double(window.count - 1)).squareRoot()
    }
}

private func zip(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
