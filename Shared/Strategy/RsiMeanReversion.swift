import Market
import Schema

/// RSI mean reversion: long when oversold, short when overbought.
public struct RsiMeanReversion: Sendable {
    public struct Parameters: Sendable, Equatable, Codable {
        public var period: Int
        public var oversold: Double
        public var overbought: Double
        public init(period: Int = 14, oversold: Double = 30, overbought: Double = 70) {
            self.period = period
            self.oversold = oversold
            self.overbought = overbought
        }
    }

    /// What the strategy wants, and why.
    public struct View: Sendable, Equatable {
        /// nil: no view (warming up or inside the band).
        public var direction: Direction?
        public var confidence: Double
        public var indicators: [String: Double]
        public var reason: Reason
    }

    public let name: String
    public let parameters: Parameters
    private var rsi: RelativeStrengthIndex

    public init(name: String = "rsi_mean_reversion", parameters: Parameters = Parameters()) {
        self.name = name
        self.parameters = parameters
        self.rsi = RelativeStrengthIndex(period: parameters.period)
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

    static func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return "\(scaled)"
    }
}
