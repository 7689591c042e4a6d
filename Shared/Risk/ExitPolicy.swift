import Schema

/// Which rule closed (part of) a position. The raw value goes into the intent's origin
/// ("exit:hard_stop") so every exit can be traced to the path that fired.
///
/// Declared in priority order: when several fire in one evaluation, the first wins.
/// Loss protection comes first, worst case first; then the trailing stop that protects
/// gains; then the force-stop, which only fires short of those stops' levels; then the full
/// exits by time and signal; the partial take-profit last, since any full exit firing at the
/// same moment supersedes it.
public enum ExitPath: String, Codable, Sendable, CaseIterable, Comparable {
    case emergencyLoss = "emergency_loss"
    case hardStop = "hard_stop"
    case atrStop = "atr_stop"
    case softStop = "soft_stop"
    case trailingStop = "trailing_stop"
    case forceStop = "force_stop"
    case maxHoldingTime = "max_holding_time"
    case signal = "signal"
    case takeProfit = "take_profit"

    /// 0 is the highest priority.
    public var priority: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    public static func < (lhs: ExitPath, rhs: ExitPath) -> Bool { lhs.priority < rhs.priority }
}

/// Every exit rule; a nil (or empty) rule is off. Fractions are of the entry price
/// (0.02 = 2 %) unless said otherwise.
///
/// `ExitPolicy()` has every rule off (tests build the one rule they check); `ExitPolicy.standard`
/// holds the defaults a service runs with, and config overrides them path by path.
public struct ExitPolicy: Codable, Sendable, Equatable {
    /// Losses measured against the account equity, each tier fired once per position.
    public var emergencyTiers: [EmergencyTier]
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
    /// Exits at market when the mark is within this fraction (of the mark) of the protective
    /// stop, rather than wait for the exchange's trigger: a stop that close is as good as hit.
    public var forceStopDistance: Double?
    /// The exit intent's time to live.
    public var intentTimeToLiveNanos: Int64
    public var orderType: OrderType

    public init(
        emergencyTiers: [EmergencyTier] = [], hardStop: Double? = nil, softStop: SoftStop? = nil,
        atrStop: AtrStop? = nil, trailingStop: TrailingStop? = nil, takeProfits: [TakeProfitLevel] = [],
        signalExit: SignalExit? = nil, maxHoldingNanos: Int64? = nil, forceStopDistance: Double? = nil,
        intentTimeToLiveNanos: Int64 = 5 * Nanos.second, orderType: OrderType = .market
    ) {
        self.emergencyTiers = emergencyTiers.sorted { $0.loss < $1.loss }
        self.hardStop = hardStop
        self.softStop = softStop
        self.atrStop = atrStop
        self.trailingStop = trailingStop
        self.takeProfits = takeProfits.sorted { $0.profit < $1.profit }
        self.signalExit = signalExit
        self.maxHoldingNanos = maxHoldingNanos
        self.forceStopDistance = forceStopDistance
        self.intentTimeToLiveNanos = intentTimeToLiveNanos
        self.orderType = orderType
    }

    /// The defaults of every path, in one place: what the risk gate runs unless `risk.exits.*`
    /// says otherwise. Each rule's parameters are its type's `standard`; this says which are on.
    public static let standard = ExitPolicy(
        // 2 % of equity lost on one position halves it; 5 % closes it.
        emergencyTiers: [.init(loss: 0.02, fraction: 0.5), .init(loss: 0.05, fraction: 1)],
        hardStop: 0.03,
        // Off: the hard and ATR stops already bound the loss. Configuring a loss switches it on
        // with `SoftStop.standard`'s confirmations.
        softStop: nil,
        atrStop: .standard,
        trailingStop: .standard,
        // Half at +3 %; the rest is left to the trailing stop.
        takeProfits: [.init(profit: 0.03, fraction: 0.5)],
        signalExit: .standard,
        // Off: a trade is closed by its stops and signals, not the clock.
        maxHoldingNanos: nil,
        // 0.1 %: about a tick's worth of slippage on a liquid perpetual, far inside every stop distance.
        forceStopDistance: 0.001)

    enum CodingKeys: String, CodingKey {
        case emergencyTiers, hardStop, softStop, atrStop, trailingStop, takeProfits, signalExit, maxHoldingNanos
        case forceStopDistance, intentTimeToLiveNanos, orderType
    }

    /// A config may name only the rules it uses.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ExitPolicy()
        self.init(
            emergencyTiers: try c.decodeIfPresent([EmergencyTier].self, forKey: .emergencyTiers) ?? [],
            hardStop: try c.decodeIfPresent(Double.self, forKey: .hardStop),
            softStop: try c.decodeIfPresent(SoftStop.self, forKey: .softStop),
            atrStop: try c.decodeIfPresent(AtrStop.self, forKey: .atrStop),
            trailingStop: try c.decodeIfPresent(TrailingStop.self, forKey: .trailingStop),
            takeProfits: try c.decodeIfPresent([TakeProfitLevel].self, forKey: .takeProfits) ?? [],
            signalExit: try c.decodeIfPresent(SignalExit.self, forKey: .signalExit),
            maxHoldingNanos: try c.decodeIfPresent(Int64.self, forKey: .maxHoldingNanos),
            forceStopDistance: try c.decodeIfPresent(Double.self, forKey: .forceStopDistance),
            intentTimeToLiveNanos: try c.decodeIfPresent(Int64.self, forKey: .intentTimeToLiveNanos)
                ?? defaults.intentTimeToLiveNanos,
            orderType: try c.decodeIfPresent(OrderType.self, forKey: .orderType) ?? defaults.orderType)
    }

    /// At an unrealised loss of `loss` × the account equity, close `fraction` of the largest size
    /// the position had. The tier with the largest loss closes everything, whatever its fraction:
    /// the last resort never leaves a remainder.
    public struct EmergencyTier: Codable, Sendable, Equatable {
        /// Fraction of the equity.
        public var loss: Double
        public var fraction: Double
        public init(loss: Double, fraction: Double) {
            self.loss = loss
            self.fraction = fraction
        }
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

        /// The parameters a soft stop takes when switched on without them: 2 %, inside the
        /// 3 % hard stop so it has room to act first, confirmed by 3 marks (or one bar close).
        public static let standard = SoftStop(loss: 0.02, confirmations: 3)
    }

    /// entry ∓ multiple × ATR.
    public struct AtrStop: Codable, Sendable, Equatable {
        public var multiple: Double
        public init(multiple: Double) { self.multiple = multiple }
        /// 3 × ATR: outside a bar's ordinary range, so noise does not stop the trade out.
        public static let standard = AtrStop(multiple: 3)
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
        /// Trails from +1 % at 3 × ATR, never nearer than 0.3 % nor farther than 2 %.
        public static let standard = TrailingStop(activationProfit: 0.01, atrMultiple: 3, minDistance: 0.003, maxDistance: 0.02)
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
        /// Two opposite signals, 0.5 % in profit, none counted in the first 5 minutes.
        public static let standard = SignalExit(minProfit: 0.005, confirmations: 2, cooldownNanos: 5 * Nanos.minute)
    }

    /// Problems that must stop a service from starting; empty when the policy is usable.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        for tier in emergencyTiers where !(tier.loss > 0 && tier.loss < 1 && tier.fraction > 0 && tier.fraction <= 1) {
            errors.append("emergency tier \(tier.loss) needs loss within (0, 1) and fraction within (0, 1]")
        }
        if Set(emergencyTiers.map(\.loss)).count != emergencyTiers.count { errors.append("emergency tiers repeat a loss") }
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
        if let forceStopDistance, !(forceStopDistance > 0 && forceStopDistance < 1) {
            errors.append("forceStopDistance must be within (0, 1)")
        }
        return errors
    }

    // MARK: Config text

    /// A list in config that does not parse, with what is wrong with it.
    public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Take-profit levels as config writes them, "profit:fraction" ("0.03:0.5"); items may also
    /// hold several pairs separated by commas. "off" (or nothing) is no level.
    public static func takeProfits(parsing items: [String]) throws(ConfigError) -> [TakeProfitLevel] {
        try pairs(items).map { TakeProfitLevel(profit: $0.0, fraction: $0.1) }
    }

    /// Emergency tiers as config writes them, "loss:fraction" of equity ("0.02:0.5,0.05:1").
    /// "off" (or nothing) is no tier.
    public static func emergencyTiers(parsing items: [String]) throws(ConfigError) -> [EmergencyTier] {
        try pairs(items).map { EmergencyTier(loss: $0.0, fraction: $0.1) }
    }

    /// Take-profit levels as config writes them: what `takeProfits(parsing:)` reads back.
    public static func configText(_ levels: [TakeProfitLevel]) -> [String] {
        levels.isEmpty ? ["off"] : levels.map { "\($0.profit):\($0.fraction)" }
    }

    /// Emergency tiers as config writes them: what `emergencyTiers(parsing:)` reads back.
    public static func configText(_ tiers: [EmergencyTier]) -> [String] {
        tiers.isEmpty ? ["off"] : tiers.map { "\($0.loss):\($0.fraction)" }
    }

    private static func pairs(_ items: [String]) throws(ConfigError) -> [(Double, Double)] {
        let texts = items.flatMap { $0.split(separator: ",") }.map { String($0.filter { !$0.isWhitespace }) }
            .filter { !$0.isEmpty }
        if texts.count == 1, texts[0].lowercased() == "off" { return [] }
        var found: [(Double, Double)] = []
        for text in texts {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let first = Double(parts[0]), let second = Double(parts[1]), first.isFinite,
                second.isFinite
            else { throw ConfigError(description: "\"\(text)\" is not two numbers a:b (e.g. 0.02:0.5), nor \"off\"") }
            found.append((first, second))
        }
        return found
    }
}
