import Schema

/// Which rule closed (part of) a position. The raw value goes into the intent's origin
/// ("exit:hard_stop") so every exit can be traced to the path that fired.
///
/// Declared in priority order: when several fire in one evaluation, the first wins.
/// Loss protection comes first, worst case first; then the trailing stop that protects
/// gains; then the full exits by time and signal; the partial take-profit last, since any
/// full exit firing at the same moment supersedes it.
public enum ExitPath: String, Codable, Sendable, CaseIterable, Comparable {
    case emergencyLoss = "emergency_loss"
    case hardStop = "hard_stop"
    case atrStop = "atr_stop"
    case softStop = "soft_stop"
    case trailingStop = "trailing_stop"
    case maxHoldingTime = "max_holding_time"
    case signal = "signal"
    case takeProfit = "take_profit"

    /// 0 is the highest priority.
    public var priority: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    public static func < (lhs: ExitPath, rhs: ExitPath) -> Bool { lhs.priority < rhs.priority }
}

/// Every exit rule; a nil (or empty) rule is off. Fractions are of the entry price
/// (0.02 = 2 %) unless said otherwise.
public struct ExitPolicy: Codable, Sendable, Equatable {
    /// Closes when the unrealised loss reaches this much money (quote currency).
    public var emergencyLoss: Amount?
    /// Closes at this fraction against the entry, at once.
    public var hardStop: Double?
    public var softStop: SoftStop?
    public var atrStop: AtrStop?
    public var trailingStop: TrailingStop?
    /// Partial exits, each fired once.
    public var takeProfits: [TakeProfitLevel]
    public var signalExit: SignalExit?
    /// Closes when the position has been held this long.
    public var maxHoldingNanos: Int64?
    /// The exit intent's time to live.
    public var intentTimeToLiveNanos: Int64
    public var orderType: OrderType

    public init(
        emergencyLoss: Amount? = nil, hardStop: Double? = nil, softStop: SoftStop? = nil, atrStop: AtrStop? = nil,
        trailingStop: TrailingStop? = nil, takeProfits: [TakeProfitLevel] = [], signalExit: SignalExit? = nil,
        maxHoldingNanos: Int64? = nil, intentTimeToLiveNanos: Int64 = 5 * Nanos.second, orderType: OrderType = .market
    ) {
        self.emergencyLoss = emergencyLoss
        self.hardStop = hardStop
        self.softStop = softStop
        self.atrStop = atrStop
        self.trailingStop = trailingStop
        self.takeProfits = takeProfits.sorted { $0.profit < $1.profit }
        self.signalExit = signalExit
        self.maxHoldingNanos = maxHoldingNanos
        self.intentTimeToLiveNanos = intentTimeToLiveNanos
        self.orderType = orderType
    }

    enum CodingKeys: String, CodingKey {
        case emergencyLoss, hardStop, softStop, atrStop, trailingStop, takeProfits, signalExit, maxHoldingNanos
        case intentTimeToLiveNanos, orderType
    }

    /// A config may name only the rules it uses.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ExitPolicy()
        self.init(
            emergencyLoss: try c.decodeIfPresent(Amount.self, forKey: .emergencyLoss),
            hardStop: try c.decodeIfPresent(Double.self, forKey: .hardStop),
            softStop: try c.decodeIfPresent(SoftStop.self, forKey: .softStop),
            atrStop: try c.decodeIfPresent(AtrStop.self, forKey: .atrStop),
            trailingStop: try c.decodeIfPresent(TrailingStop.self, forKey: .trailingStop),
            takeProfits: try c.decodeIfPresent([TakeProfitLevel].self, forKey: .takeProfits) ?? [],
            signalExit: try c.decodeIfPresent(SignalExit.self, forKey: .signalExit),
            maxHoldingNanos: try c.decodeIfPresent(Int64.self, forKey: .maxHoldingNanos),
            intentTimeToLiveNanos: try c.decodeIfPresent(Int64.self, forKey: .intentTimeToLiveNanos)
                ?? defaults.intentTimeToLiveNanos,
            orderType: try c.decodeIfPresent(OrderType.self, forKey: .orderType) ?? defaults.orderType)
    }

    /// A stop that tolerates a brief poke through its level.
    public struct SoftStop: Codable, Sendable, Equatable {
        /// Fraction against the entry.
        public var loss: Double
        /// Consecutive evaluations beyond the level that confirm it; a bar close beyond it confirms at once.
        public var confirmations: Int
        public init(loss: Double, confirmations: Int) {
            self.loss = loss
            self.confirmations = confirmations
        }
    }

    /// entry ∓ multiple × ATR.
    public struct AtrStop: Codable, Sendable, Equatable {
        public var multiple: Double
        public init(multiple: Double) { self.multiple = multiple }
    }

    /// Follows the best price once the trade is `activationProfit` in profit, at a distance of
    /// `atrMultiple` × ATR clamped to [`minDistance`, `maxDistance`] (fractions of the best price).
    /// Without an ATR the distance is `maxDistance`.
    public struct TrailingStop: Codable, Sendable, Equatable {
        public var activationProfit: Double
        public var atrMultiple: Double
        public var minDistance: Double
        public var maxDistance: Double
        public init(activationProfit: Double, atrMultiple: Double, minDistance: Double, maxDistance: Double) {
            self.activationProfit = activationProfit
            self.atrMultiple = atrMultiple
            self.minDistance = minDistance
            self.maxDistance = maxDistance
        }
    }

    /// At `profit`, close `fraction` of the largest size the position had.
    public struct TakeProfitLevel: Codable, Sendable, Equatable {
        public var profit: Double
        public var fraction: Double
        public init(profit: Double, fraction: Double) {
            self.profit = profit
            self.fraction = fraction
        }
    }

    /// Closes on `confirmations` consecutive opposite signals, once the trade is at least
    /// `minProfit` in profit and `cooldownNanos` have passed since entry. Signals during the
    /// cooldown do not count: the entry's own noise must not close it.
    public struct SignalExit: Codable, Sendable, Equatable {
        public var minProfit: Double
        public var confirmations: Int
        public var cooldownNanos: Int64
        public init(minProfit: Double, confirmations: Int, cooldownNanos: Int64) {
            self.minProfit = minProfit
            self.confirmations = confirmations
            self.cooldownNanos = cooldownNanos
        }
    }

    /// Problems that must stop a service from starting; empty when the policy is usable.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        if let emergencyLoss, !emergencyLoss.isPositive { errors.append("emergencyLoss must be > 0") }
        if let hardStop, !(hardStop > 0 && hardStop < 1) { errors.append("hardStop must be within (0, 1)") }
        if let softStop {
            if !(softStop.loss > 0 && softStop.loss < 1) { errors.append("softStop.loss must be within (0, 1)") }
            if softStop.confirmations < 1 { errors.append("softStop.confirmations must be ≥ 1") }
        }
        if let atrStop, !(atrStop.multiple > 0) { errors.append("atrStop.multiple must be > 0") }
        if let trailingStop {
            if trailingStop.activationProfit < 0 { errors.append("trailingStop.activationProfit must be ≥ 0") }
            if !(trailingStop.minDistance > 0 && trailingStop.minDistance <= trailingStop.maxDistance
                && trailingStop.maxDistance < 1)
            {
                errors.append("trailingStop needs 0 < minDistance ≤ maxDistance < 1")
            }
        }
        for level in takeProfits where !(level.profit > 0 && level.fraction > 0 && level.fraction <= 1) {
            errors.append("takeProfit level \(level.profit) needs profit > 0 and fraction within (0, 1]")
        }
        if takeProfits.reduce(0, { $0 + $1.fraction }) > 1 + 1e-9 { errors.append("takeProfit fractions exceed 1") }
        if let signalExit, signalExit.confirmations < 1 { errors.append("signalExit.confirmations must be ≥ 1") }
        if let maxHoldingNanos, maxHoldingNanos <= 0 { errors.append("maxHoldingNanos must be > 0") }
        return errors
    }
}
