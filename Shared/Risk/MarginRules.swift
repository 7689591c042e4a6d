import Schema

/// Cross margin shares the account's balance; isolated margin is the position's own.
public enum MarginMode: String, Sendable, Codable, CaseIterable {
    case cross, isolated
}

/// Leverage, margin mode and the margin limits an entry faces: the `margin.*` keys, read once for
/// the executor (which sets each symbol's leverage and mode on the exchange at start) and the risk
/// gate (whose checks assume them). Hyperliquid's rules: a position's initial margin is its notional
/// over its leverage; its maintenance margin is half the initial margin at the asset's maximum
/// leverage; cross positions are liquidated when the account's cross value falls below their
/// maintenance margin, an isolated position when its own margin and P&L do.
public struct MarginRules: Sendable, Equatable {
    /// The leverage set on the exchange for a symbol without its own.
    public var defaultLeverage: Int
    public var leverage: [String: Int]
    public var defaultMode: MarginMode
    public var modes: [String: MarginMode]
    /// An entry may not bring the margin used above this share of equity (1: only equity bounds it).
    public var maxMarginUsage: Double
    /// An entry may not leave its symbol's liquidation price closer to the mark than this share of
    /// it (0: not checked)…
    public var minLiquidationDistance: Double
    /// …nor closer than this many average true ranges (14 bars) of the symbol (0: not checked).
    public var minLiquidationDistanceAtr: Double

    public init(
        defaultLeverage: Int = 5, leverage: [String: Int] = [:], defaultMode: MarginMode = .cross,
        modes: [String: MarginMode] = [:], maxMarginUsage: Double = 1, minLiquidationDistance: Double = 0,
        minLiquidationDistanceAtr: Double = 0
    ) {
        self.defaultLeverage = defaultLeverage
        self.leverage = leverage
        self.defaultMode = defaultMode
        self.modes = modes
        self.maxMarginUsage = maxMarginUsage
        self.minLiquidationDistance = minLiquidationDistance
        self.minLiquidationDistanceAtr = minLiquidationDistanceAtr
    }

    /// The leverage of `symbol`, never above what the venue allows for it.
    public func leverage(_ symbol: String, maxLeverage: Int?) -> Int {
        let wanted = leverage[symbol] ?? defaultLeverage
        return maxLeverage.map { Swift.min(wanted, $0) } ?? wanted
    }

    public func mode(_ symbol: String) -> MarginMode { modes[symbol] ?? defaultMode }

    public var problems: [String] {
        var problems: [String] = []
        if defaultLeverage < 1 { problems.append("defaultLeverage \(defaultLeverage) must be at least 1") }
        for (symbol, value) in leverage.sorted(by: { $0.key < $1.key }) where value < 1 {
            problems.append("leverage of \(symbol) \(value) must be at least 1")
        }
        if !(0.01...1).contains(maxMarginUsage) { problems.append("maxMarginUsage \(maxMarginUsage) must be within 0.01…1") }
        if !(0..<1).contains(minLiquidationDistance) {
            problems.append("minLiquidationDistance \(minLiquidationDistance) must be within 0…1 (a share of the mark)")
        }
        if !(0...100).contains(minLiquidationDistanceAtr) {
            problems.append("minLiquidationDistanceAtr \(minLiquidationDistanceAtr) must be within 0…100 ATRs")
        }
        return problems
    }
}

/// One position as the margin arithmetic sees it.
public struct MarginPosition: Sendable, Equatable {
    public var symbol: String
    /// Signed size.
    public var size: Amount
    public var mark: Amount
    public var leverage: Int
    /// The venue's maximum leverage for the asset; nil when unknown (then the position's own leverage,
    /// which can only overstate the maintenance margin).
    public var maxLeverage: Int?
    /// Isolated: the margin the position holds on its own (its entry notional over its leverage; margin
    /// added on the exchange is not known here, so the liquidation price can only be overstated).
    /// nil for cross.
    public var isolatedMargin: Amount?
    /// The position's average entry price (the mark for a new one): its unrealised P&L.
    public var entryPrice: Amount

    public init(
        symbol: String, size: Amount, mark: Amount, leverage: Int, maxLeverage: Int?, mode: MarginMode = .cross,
        entryPrice: Amount? = nil
    ) {
        self.symbol = symbol
        self.size = size
        self.mark = mark
        self.leverage = leverage
        self.maxLeverage = maxLeverage
        self.entryPrice = entryPrice ?? mark
        isolatedMargin = mode == .isolated ? size.magnitude * (entryPrice ?? mark) / Amount(leverage) : nil
    }

    public var notional: Amount { size.magnitude * mark }
    public var initialMargin: Amount { notional / Amount(leverage) }
    var maintenanceLeverage: Int { 2 * (maxLeverage ?? leverage) }
    public var unrealizedPnl: Amount { size * (mark - entryPrice) }
    public var maintenanceMargin: Amount { notional / Amount(maintenanceLeverage) }
}

/// Margin used, maintenance margin and liquidation prices of a set of positions against equity.
public struct MarginAccount: Sendable, Equatable {
    public var equity: Amount
    public var positions: [MarginPosition]

    public init(equity: Amount, positions: [MarginPosition]) {
        self.equity = equity
        self.positions = positions.filter { !$0.size.isZero }
    }

    public var marginUsed: Amount { positions.reduce(.zero) { $0 + $1.initialMargin } }
    public var maintenanceMargin: Amount { positions.reduce(.zero) { $0 + $1.maintenanceMargin } }

    /// Margin used over equity; nil when equity is not positive (then every entry is refused).
    public var usage: Double? { equity.isPositive ? (marginUsed / equity).doubleValue : nil }

    /// The mark of `symbol` at which its margin meets its maintenance margin, the other marks held:
    /// `mark − side × available / |size| / (1 − l × side)`, `l = 1 / maintenance leverage` (Hyperliquid's
    /// formula). Cross: available = the account's cross value (equity less what isolated positions
    /// hold) − the cross positions' maintenance margin. Isolated: available = the position's margin +
    /// its unrealised P&L − its maintenance margin. nil without a position.
    public func liquidationPrice(_ symbol: String) -> Amount? {
        guard let position = positions.first(where: { $0.symbol == symbol }) else { return nil }
        let side = Amount(position.size.signum)
        let l = Amount(1) / Amount(position.maintenanceLeverage)
        let available: Amount
        if let isolated = position.isolatedMargin {
            available = isolated + position.unrealizedPnl - position.maintenanceMargin
        } else {
            let isolatedValue = positions.reduce(Amount.zero) { total, p in
                p.isolatedMargin.map { total + $0 + p.unrealizedPnl } ?? total
            }
            let crossMaintenance = positions.filter { $0.isolatedMargin == nil }.reduce(.zero) { $0 + $1.maintenanceMargin }
            available = equity - isolatedValue - crossMaintenance
        }
        let price = position.mark - side * available / position.size.magnitude / (1 - l * side)
        return price.isNegative ? .zero : price
    }

    /// How far the mark may move against the position before liquidation, as a share of the mark
    /// (0 when it is already there).
    public func liquidationDistance(_ symbol: String) -> Double? {
        guard let position = positions.first(where: { $0.symbol == symbol }), let price = liquidationPrice(symbol),
            position.mark.isPositive
        else { return nil }
        let away = Amount(position.size.signum) * (position.mark - price) / position.mark
        return Swift.max(away.doubleValue, 0)
    }
}
