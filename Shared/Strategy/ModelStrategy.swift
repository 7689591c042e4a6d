import Market
import Model
import Schema

/// Trades what an XGBoost model predicts for a symbol: `BarFeatures` of each bar → class
/// probabilities (sell, hold, buy) → the likeliest class. Buy and sell are views with the class's
/// probability as confidence; hold, or a probability below `minProbability`, is no view.
///
/// No model is `model_missing`; a model older than `maxAgeNanos` is `model_expired`: no view, so no
/// entry, while the risk gate's exits carry on. Features are fed on every bar either way, so a model
/// installed later can predict at once. Installing a model resets the prediction shares.
public struct ModelStrategy: BarStrategy {
    public struct Settings: Sendable, Equatable {
        public var maxAgeNanos: Int64
        public var minProbability: Double
        public var sharesWindow: Int

        public init(maxAgeNanos: Int64, minProbability: Double, sharesWindow: Int) {
            self.maxAgeNanos = maxAgeNanos
            self.minProbability = minProbability
            self.sharesWindow = sharesWindow
        }
    }

    public let name: String
    /// A forecast of the next bars' direction: it follows the move it predicts.
    public let style = StrategyStyle.trendFollowing
    public var warmUpBars: Int { BarFeatures.warmUpBars }
    public let settings: Settings
    public private(set) var model: ServedModel?
    public private(set) var shares: PredictionShares
    /// The latest prediction (sell, hold, buy), nil before the first.
    public private(set) var lastProbabilities: [Double]?
    private var features = BarFeatures()
    private var probabilities = [0.0, 0.0, 0.0]

    public init(name: String = "model", settings: Settings, model: ServedModel? = nil) {
        self.name = name
        self.settings = settings
        self.model = model
        self.shares = PredictionShares(capacity: settings.sharesWindow)
    }

    public mutating func install(_ model: ServedModel?) {
        self.model = model
        shares = PredictionShares(capacity: settings.sharesWindow)
        lastProbabilities = nil
    }

    public func isExpired(at now: EpochNanos) -> Bool {
        model.map { $0.ageNanos(at: now) > settings.maxAgeNanos } ?? false
    }

    public mutating func update(bar: Bar, now: EpochNanos) -> StrategyView {
        let row = features.update(
            high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue,
            volume: bar.volume.doubleValue)
        guard let row else {
            return StrategyView(
                direction: nil, confidence: 0, indicators: [:],
                reason: Reason(.warmingUp, "features need \(BarFeatures.warmUpBars) bars"))
        }
        guard let model else {
            return StrategyView(
                direction: nil, confidence: 0, indicators: [:],
                reason: Reason(.modelMissing, "no model loaded for \(bar.symbol ?? "this symbol")"))
        }
        let ageHours = Double(model.ageNanos(at: now)) / 3.6e12
        if model.ageNanos(at: now) > settings.maxAgeNanos {
            return StrategyView(
                direction: nil, confidence: 0, indicators: ["model_age_hours": ageHours],
                reason: Reason(
                    .modelExpired,
                    "model \(model.version) is \(Self.rounded(ageHours)) h old; model.maxAgeHours is \(Self.rounded(Double(settings.maxAgeNanos) / 3.6e12))"
                ))
        }
        do { try model.model.probabilities(row, into: &probabilities) } catch {
            return StrategyView(
                direction: nil, confidence: 0, indicators: [:],
                reason: Reason(.modelMissing, "model \(model.version) cannot predict: \(error)"))
        }
        lastProbabilities = probabilities
        let best = TradeClass.allCases.max { probabilities[$0.rawValue] < probabilities[$1.rawValue] }!
        shares.record(best)
        let confidence = probabilities[best.rawValue]
        let indicators = [
            "p_sell": probabilities[0], "p_hold": probabilities[1], "p_buy": probabilities[2],
            "model_age_hours": ageHours,
        ]
        let said = "model \(model.version): p(\(best.name)) \(Self.rounded(confidence))"
        switch best {
        case .hold:
            return StrategyView(
                direction: nil, confidence: confidence, indicators: indicators, reason: Reason(.belowThreshold, said))
        case .buy, .sell:
            guard confidence >= settings.minProbability else {
                return StrategyView(
                    direction: nil, confidence: confidence, indicators: indicators,
                    reason: Reason(.belowThreshold, "\(said) < model.minProbability \(settings.minProbability)"))
            }
            return StrategyView(
                direction: best == .buy ? .long : .short, confidence: confidence, indicators: indicators,
                reason: Reason(.approved, said))
        }
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
