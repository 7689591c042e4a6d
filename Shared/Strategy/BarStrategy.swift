import Schema

/// Whether a strategy bets on prices coming back (mean reversion) or carrying on (trend).
/// `RegimeSelection` admits strategies by style.
public enum StrategyStyle: String, Codable, Sendable, Hashable, CaseIterable {
    case meanReversion = "mean_reversion"
    case trendFollowing = "trend_following"
}

/// What a strategy wants after one close, and why.
public struct StrategyView: Sendable, Equatable {
    /// nil: no view (warming up or inside the band).
    public var direction: Direction?
    /// 0…1; how strongly the strategy holds its view.
    public var confidence: Double
    /// The indicator values behind the view, by name.
    public var indicators: [String: Double]
    /// `.approved` with a direction, otherwise `.warmingUp` or `.belowThreshold`.
    public var reason: Reason

    public init(direction: Direction?, confidence: Double, indicators: [String: Double], reason: Reason) {
        self.direction = direction
        self.confidence = confidence
        self.indicators = indicators
        self.reason = reason
    }
}

/// A strategy that forms a view from each closed bar. Pure: no clock, no I/O.
public protocol BarStrategy: Sendable {
    /// The name signals and intents carry.
    var name: String { get }
    var style: StrategyStyle { get }
    /// Bars needed before the first view.
    var warmUpBars: Int { get }
    /// `now` is for views that age (a model past its limit); bar-driven strategies ignore it.
    mutating func update(bar: Bar, now: EpochNanos) -> StrategyView
}

/// A strategy that reads only closing prices.
public protocol ClosingPriceStrategy: BarStrategy {
    mutating func update(close: Double) -> StrategyView
}

extension ClosingPriceStrategy {
    public mutating func update(bar: Bar, now: EpochNanos) -> StrategyView { update(close: bar.close.doubleValue) }
}

/// The six ready-made strategies, by the name a config file uses.
///
/// | preset | strategy | parameters |
/// |---|---|---|
/// | `rsi_tight` | RSI mean reversion | RSI(14), long < 35, short > 65 (trades most) |
/// | `rsi_standard` | RSI mean reversion | RSI(14), long < 30, short > 70 |
/// | `rsi_loose` | RSI mean reversion | RSI(14), long < 25, short > 75 (trades least) |
/// | `sma_fast` | SMA trend | SMA(5) vs SMA(20), margin 5 bps |
/// | `sma_standard` | SMA trend | SMA(10) vs SMA(50), margin 10 bps |
/// | `sma_slow` | SMA trend | SMA(20) vs SMA(100), margin 20 bps |
public enum StrategyPreset: String, Codable, Sendable, Hashable, CaseIterable {
    case rsiTight = "rsi_tight"
    case rsiStandard = "rsi_standard"
    case rsiLoose = "rsi_loose"
    case smaFast = "sma_fast"
    case smaStandard = "sma_standard"
    case smaSlow = "sma_slow"

    public var style: StrategyStyle {
        switch self {
        case .rsiTight, .rsiStandard, .rsiLoose: .meanReversion
        case .smaFast, .smaStandard, .smaSlow: .trendFollowing
        }
    }

    /// A fresh strategy (no history) with this preset's parameters and name.
    public func makeStrategy() -> any BarStrategy {
        switch self {
        case .rsiTight: RsiMeanReversion(preset: .tight)
        case .rsiStandard: RsiMeanReversion(preset: .standard)
        case .rsiLoose: RsiMeanReversion(preset: .loose)
        case .smaFast: SmaTrend(preset: .fast)
        case .smaStandard: SmaTrend(preset: .standard)
        case .smaSlow: SmaTrend(preset: .slow)
        }
    }
}
