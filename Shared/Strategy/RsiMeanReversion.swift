import Market
import Schema

/// RSI mean reversion: long when oversold, short when overbought.
public struct RsiMeanReversion: ClosingPriceStrategy {
    public struct Parameters: Sendable, Equatable, Codable {
        public var period: Int
        public var oversold: Double
        public var overbought: Double
        public init(period: Int = 14, oversold: Double = 30, overbought: Double = 70) {
            self.period = period
            self.oversold = oversold
            self.overbought = overbought
        }

        /// RSI(14), 35/65: the narrowest band, the most trades.
        public static let tight = Parameters(period: 14, oversold: 35, overbought: 65)
        /// RSI(14), 30/70: Wilder's classic band.
        public static let standard = Parameters(period: 14, oversold: 30, overbought: 70)
        /// RSI(14), 25/75: only the deepest excursions.
        public static let loose = Parameters(period: 14, oversold: 25, overbought: 75)

        public func validate() throws(StrategyConfigError) {
            var problems: [String] = []
            if period < 1 { problems.append("RSI period \(period) must be at least 1") }
            if !(oversold > 0 && oversold < overbought && overbought < 100) {
                problems.append("RSI band must satisfy 0 < oversold (\(oversold)) < overbought (\(overbought)) < 100")
            }
            try StrategyConfigError.check(problems)
        }
    }

    public enum Preset: String, Codable, Sendable, Hashable, CaseIterable {
        case tight, standard, loose
        public var parameters: Parameters {
            switch self {
            case .tight: .tight
            case .standard: .standard
            case .loose: .loose
            }
        }
    }

    /// What the strategy wants, and why.
    public typealias View = StrategyView

    public let name: String
    public let parameters: Parameters
    public var style: StrategyStyle { .meanReversion }
    public var warmUpBars: Int { parameters.period + 1 }
    private var rsi: RelativeStrengthIndex

    public init(name: String = "rsi_mean_reversion", parameters: Parameters = Parameters()) {
        self.name = name
        self.parameters = parameters
        self.rsi = RelativeStrengthIndex(period: parameters.period)
    }

    /// Named `rsi_mean_reversion_<preset>`.
    public init(preset: Preset) {
        self.init(name: "rsi_mean_reversion_\(preset.rawValue)", parameters: preset.parameters)
    }

    public mutating func update(close: Double) -> View {
        guard let value = rsi.update(close) else {
            return View(
                direction: nil, confidence: 0, indicators: [:],
                reason: Reason(.warmingUp, "RSI(\(parameters.period)) needs \(parameters.period + 1) closes"))
        }
        let indicators = ["rsi": value]
        if value < parameters.oversold {
            return View(
                direction: .long, confidence: min(1, (parameters.oversold - value) / parameters.oversold),
                indicators: indicators,
                reason: Reason(.approved, "RSI \(Self.format(value)) < oversold \(Self.format(parameters.oversold))"))
        }
        if value > parameters.overbought {
            return View(
                direction: .short,
                confidence: min(1, (value - parameters.overbought) / (100 - parameters.overbought)),
                indicators: indicators,
                reason: Reason(
                    .approved, "RSI \(Self.format(value)) > overbought \(Self.format(parameters.overbought))"))
        }
        return View(
            direction: nil, confidence: 0, indicators: indicators,
            reason: Reason(
                .belowThreshold,
                "RSI \(Self.format(value)) inside \(Self.format(parameters.oversold))–\(Self.format(parameters.overbought))"
            ))
    }

    static func format(_ value: Double) -> String { formatted(value) }
}
