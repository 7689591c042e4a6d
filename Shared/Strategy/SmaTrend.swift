import Market
import Schema

/// SMA trend: long while the fast simple moving average of the close is above the slow
/// one by at least a margin, short while it is below by at least the margin.
///
/// The gap is (fast − slow) / slow in basis points, so one margin works at any price.
/// Confidence is |gap| / (3 × margin), capped at 1: a third at the margin, full at three
/// margins.
public struct SmaTrend: ClosingPriceStrategy {
    public struct Parameters: Sendable, Equatable, Codable {
        public var fastPeriod: Int
        public var slowPeriod: Int
        /// The gap, in basis points of the slow average, needed for a view.
        public var marginBps: Double

        public init(fastPeriod: Int = 10, slowPeriod: Int = 50, marginBps: Double = 10) {
            self.fastPeriod = fastPeriod
            self.slowPeriod = slowPeriod
            self.marginBps = marginBps
        }

        /// SMA(5) vs SMA(20), 5 bps.
        public static let fast = Parameters(fastPeriod: 5, slowPeriod: 20, marginBps: 5)
        /// SMA(10) vs SMA(50), 10 bps.
        public static let standard = Parameters(fastPeriod: 10, slowPeriod: 50, marginBps: 10)
        /// SMA(20) vs SMA(100), 20 bps.
        public static let slow = Parameters(fastPeriod: 20, slowPeriod: 100, marginBps: 20)

        public func validate() throws(StrategyConfigError) {
            var problems: [String] = []
            if fastPeriod < 1 { problems.append("SMA fastPeriod \(fastPeriod) must be at least 1") }
            if slowPeriod <= fastPeriod {
                problems.append("SMA slowPeriod \(slowPeriod) must exceed fastPeriod \(fastPeriod)")
            }
            if !(marginBps >= 0) { problems.append("SMA marginBps \(marginBps) must not be negative") }
            try StrategyConfigError.check(problems)
        }
    }

    public enum Preset: String, Codable, Sendable, Hashable, CaseIterable {
        case fast, standard, slow
        public var parameters: Parameters {
            switch self {
            case .fast: .fast
            case .standard: .standard
            case .slow: .slow
            }
        }
    }

    public let name: String
    public let parameters: Parameters
    public var style: StrategyStyle { .trendFollowing }
    public var warmUpBars: Int { parameters.slowPeriod }
    private var fast: SimpleMovingAverage
    private var slow: SimpleMovingAverage

    /// The parameters must be valid (see `Parameters.validate()`).
    public init(name: String = "sma_trend", parameters: Parameters = Parameters()) {
        do { try parameters.validate() } catch { preconditionFailure("\(error)") }
        self.name = name
        self.parameters = parameters
        self.fast = SimpleMovingAverage(period: parameters.fastPeriod)
        self.slow = SimpleMovingAverage(period: parameters.slowPeriod)
    }

    /// Named `sma_trend_<preset>`.
    public init(preset: Preset) {
        self.init(name: "sma_trend_\(preset.rawValue)", parameters: preset.parameters)
    }

    public mutating func update(close: Double) -> StrategyView {
        let fastValue = fast.update(close)
        let slowValue = slow.update(close)
        let label = "SMA(\(parameters.fastPeriod)) vs SMA(\(parameters.slowPeriod))"
        guard let fastValue, let slowValue else {
            return StrategyView(
                direction: nil, confidence: 0, indicators: [:],
                reason: Reason(.warmingUp, "\(label) needs \(parameters.slowPeriod) closes"))
        }
        let gap = slowValue != 0 ? (fastValue - slowValue) / slowValue * 10_000 : 0
        let indicators = ["sma_fast": fastValue, "sma_slow": slowValue, "sma_gap_bps": gap]
        let margin = parameters.marginBps
        let detail =
            "\(label) \(formatted(fastValue)) / \(formatted(slowValue)), gap \(formatted(gap)) bps"
        let confidence = margin > 0 ? min(1, abs(gap) / (3 * margin)) : 1
        if gap >= margin, gap > 0 {
            return StrategyView(
                direction: .long, confidence: confidence, indicators: indicators,
                reason: Reason(.approved, "\(detail) ≥ \(formatted(margin)) bps"))
        }
        if gap <= -margin, gap < 0 {
            return StrategyView(
                direction: .short, confidence: confidence, indicators: indicators,
                reason: Reason(.approved, "\(detail) ≤ −\(formatted(margin)) bps"))
        }
        return StrategyView(
            direction: nil, confidence: 0, indicators: indicators,
            reason: Reason(.belowThreshold, "\(detail) within ±\(formatted(margin)) bps"))
    }
}
