/// The market's state as strategies see it.
public enum Regime: String, Codable, Sendable, Hashable, CaseIterable {
    case trendingUp, trendingDown, ranging, highVolatility
}

/// Inputs and thresholds of the `RegimeClassifier`. Every field is optional in JSON;
/// a missing one takes its default.
public struct RegimeConfig: Codable, Sendable, Equatable {
    /// Fast and slow simple moving averages of the close; their distance is the trend.
    public var fastPeriod: Int
    public var slowPeriod: Int
    /// ATR period: the trend distance is measured in ATRs, so the same threshold
    /// works at any price level and bar size.
    public var atrPeriod: Int
    /// Realised volatility (sample std dev of log returns) period, in bars.
    public var volatilityPeriod: Int
    /// Multiplies the variance of returns (e.g. 525,600 for 1-minute bars to get a
    /// yearly figure); `highVolatilityThreshold` is in the same units.
    public var volatilityAnnualisationFactor: Double
    /// Realised volatility above this is `highVolatility`, whatever the trend.
    public var highVolatilityThreshold: Double
    /// (fast SMA − slow SMA) / ATR at or beyond ± this enters a trend.
    public var trendEntryThreshold: Double
    /// A trend already entered holds while the distance stays at or beyond ± this
    /// (≤ the entry threshold), so a trend does not flicker at the boundary.
    public var trendExitThreshold: Double

    /// Defaults for 1-minute BTC bars: 0.002 per bar is about the 95th percentile of
    /// 30-bar realised volatility in the January 2022 FTX candles.
    public init(
        fastPeriod: Int = 20, slowPeriod: Int = 50, atrPeriod: Int = 14, volatilityPeriod: Int = 30,
        volatilityAnnualisationFactor: Double = 1, highVolatilityThreshold: Double = 0.002,
        trendEntryThreshold: Double = 1.0, trendExitThreshold: Double = 0.5
    ) {
        self.fastPeriod = fastPeriod
        self.slowPeriod = slowPeriod
        self.atrPeriod = atrPeriod
        self.volatilityPeriod = volatilityPeriod
        self.volatilityAnnualisationFactor = volatilityAnnualisationFactor
        self.highVolatilityThreshold = highVolatilityThreshold
        self.trendEntryThreshold = trendEntryThreshold
        self.trendExitThreshold = trendExitThreshold
    }

    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var problems: [String]
        public var description: String { "invalid regime config: " + problems.joined(separator: "; ") }
    }

    /// Throws with every problem at once, so a config file can be fixed in one go.
    public func validate() throws(Invalid) {
        var problems: [String] = []
        if fastPeriod < 1 { problems.append("fastPeriod \(fastPeriod) must be at least 1") }
        if slowPeriod <= fastPeriod { problems.append("slowPeriod \(slowPeriod) must exceed fastPeriod \(fastPeriod)") }
        if atrPeriod < 1 { problems.append("atrPeriod \(atrPeriod) must be at least 1") }
        if volatilityPeriod < 2 { problems.append("volatilityPeriod \(volatilityPeriod) must be at least 2") }
        if !(volatilityAnnualisationFactor > 0) {
            problems.append("volatilityAnnualisationFactor \(volatilityAnnualisationFactor) must be positive")
        }
        if !(highVolatilityThreshold > 0) {
            problems.append("highVolatilityThreshold \(highVolatilityThreshold) must be positive")
        }
        if !(trendEntryThreshold > 0) { problems.append("trendEntryThreshold \(trendEntryThreshold) must be positive") }
        if !(trendExitThreshold >= 0 && trendExitThreshold <= trendEntryThreshold) {
            problems.append(
                "trendExitThreshold \(trendExitThreshold) must be between 0 and trendEntryThreshold \(trendEntryThreshold)"
            )
        }
        if !problems.isEmpty { throw Invalid(problems: problems) }
    }

    enum CodingKeys: String, CodingKey {
        case fastPeriod, slowPeriod, atrPeriod, volatilityPeriod, volatilityAnnualisationFactor
        case highVolatilityThreshold, trendEntryThreshold, trendExitThreshold
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RegimeConfig()
        fastPeriod = try container.decodeIfPresent(Int.self, forKey: .fastPeriod) ?? defaults.fastPeriod
        slowPeriod = try container.decodeIfPresent(Int.self, forKey: .slowPeriod) ?? defaults.slowPeriod
        atrPeriod = try container.decodeIfPresent(Int.self, forKey: .atrPeriod) ?? defaults.atrPeriod
        volatilityPeriod =
            try container.decodeIfPresent(Int.self, forKey: .volatilityPeriod) ?? defaults.volatilityPeriod
        volatilityAnnualisationFactor =
            try container.decodeIfPresent(Double.self, forKey: .volatilityAnnualisationFactor)
            ?? defaults.volatilityAnnualisationFactor
        highVolatilityThreshold =
            try container.decodeIfPresent(Double.self, forKey: .highVolatilityThreshold)
            ?? defaults.highVolatilityThreshold
        trendEntryThreshold =
            try container.decodeIfPresent(Double.self, forKey: .trendEntryThreshold) ?? defaults.trendEntryThreshold
        trendExitThreshold =
            try container.decodeIfPresent(Double.self, forKey: .trendExitThreshold) ?? defaults.trendExitThreshold
    }
}

/// A regime and the numbers that decided it.
public struct RegimeReading: Sendable, Equatable, Codable {
    public var regime: Regime
    public var realisedVolatility: Double
    public var fastAverage: Double
    public var slowAverage: Double
    public var averageTrueRange: Double
    /// (fast − slow) / ATR: positive in an uptrend.
    public var trendStrength: Double

    public init(
        regime: Regime, realisedVolatility: Double, fastAverage: Double, slowAverage: Double,
        averageTrueRange: Double, trendStrength: Double
    ) {
        self.regime = regime
        self.realisedVolatility = realisedVolatility
        self.fastAverage = fastAverage
        self.slowAverage = slowAverage
        self.averageTrueRange = averageTrueRange
        self.trendStrength = trendStrength
    }
}

/// Classifies each closed bar, in this order:
/// 1. realised volatility above `highVolatilityThreshold` → `highVolatility`;
/// 2. (fast SMA − slow SMA) / ATR at or above `trendEntryThreshold` → `trendingUp`,
///    at or below its negative → `trendingDown` (a trend already on holds down to
///    `trendExitThreshold`);
/// 3. otherwise `ranging`.
public struct RegimeClassifier: Sendable {
    public let config: RegimeConfig
    /// The latest reading; nil while any input is warming up.
    public private(set) var current: RegimeReading?
    private var fast: SimpleMovingAverage
    private var slow: SimpleMovingAverage
    private var atr: AverageTrueRange
    private var volatility: RealisedVolatility

    /// The config must be valid (see `RegimeConfig.validate()`).
    public init(config: RegimeConfig = RegimeConfig()) {
        do {
            try config.validate()
        } catch {
            preconditionFailure("\(error)")
        }
        self.config = config
        fast = SimpleMovingAverage(period: config.fastPeriod)
        slow = SimpleMovingAverage(period: config.slowPeriod)
        atr = AverageTrueRange(period: config.atrPeriod)
        volatility = RealisedVolatility(
            period: config.volatilityPeriod, annualisationFactor: config.volatilityAnnualisationFactor)
    }

    public var regime: Regime? { current?.regime }

    /// Feeds one closed bar; returns the reading once every input has warmed up.
    public mutating func update(high: Double, low: Double, close: Double) -> RegimeReading? {
        let fastAverage = fast.update(close)
        let slowAverage = slow.update(close)
        let range = atr.update(high: high, low: low, close: close)
        let realised = volatility.update(close)
        guard let fastAverage, let slowAverage, let range, let realised else { return nil }
        // A market that has not moved at all has no trend to measure.
        let strength = range > 0 ? (fastAverage - slowAverage) / range : 0
        let reading = RegimeReading(
            regime: classify(volatility: realised, strength: strength, previous: current?.regime),
            realisedVolatility: realised, fastAverage: fastAverage, slowAverage: slowAverage,
            averageTrueRange: range, trendStrength: strength)
        current = reading
        return reading
    }

    public mutating func update(bar: TradeBar) -> RegimeReading? {
        update(high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue)
    }

    private func classify(volatility: Double, strength: Double, previous: Regime?) -> Regime {
        if volatility > config.highVolatilityThreshold { return .highVolatility }
        if strength >= config.trendEntryThreshold { return .trendingUp }
        if strength <= -config.trendEntryThreshold { return .trendingDown }
        if previous == .trendingUp, strength >= config.trendExitThreshold { return .trendingUp }
        if previous == .trendingDown, strength <= -config.trendExitThreshold { return .trendingDown }
        return .ranging
    }
}
