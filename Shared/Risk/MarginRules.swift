import Schema

/// Leverage and the margin limits an entry faces. Hyperliquid's rules: a position's initial margin
/// is its notional over its leverage; its maintenance margin is half the initial margin at the asset's
/// maximum leverage; an account whose value falls below its maintenance margin is liquidated. Like
/// exchange-sim, the whole account counts as one cross balance.
public struct MarginRules: Sendable, Equatable {
    /// The leverage set on the exchange for a symbol without its own.
    public var defaultLeverage: Int
    public var leverage: [String: Int]
    public var isCross: Bool
    /// An entry may not bring the margin used above this share of equity (1: only equity bounds it).
    public var maxMarginUsage: Double
    /// An entry may not leave its symbol's liquidation price closer to the mark than this share of
    /// it (0: not checked).
    public var minLiquidationDistance: Double

    public init(
        defaultLeverage: Int = 5, leverage: [String: Int] = [:], isCross: Bool = true, maxMarginUsage: Double = 1,
        minLiquidationDistance: Double = 0
    ) {
        self.defaultLeverage = defaultLeverage
        self.leverage = leverage
        self.isCross = isCross
        self.maxMarginUsage = maxMarginUsage
        self.minLiquidationDistance = minLiquidationDistance
    }

    /// The leverage of `symbol`, never above what the venue allows for it.
    public func leverage(_ symbol: String, maxLeverage: Int?) -> Int {
        let wanted = leverage[symbol] ?? defaultLeverage
        return maxLeverage.map { Swift.min(wanted, $0) } ?? wanted
    }

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

    public init(symbol: String, size: Amount, mark: Amount, leverage: Int, maxLeverage: Int?) {
        self.symbol = symbol
        self.size = size
        self.mark = mark
        self.leverage = leverage
        self.maxLeverage = maxLeverage
    }

    public var notional: Amount { size.magnitude * mark }
    public var initialMargin: Amount { notional / Amount(leverage) }
    var maintenanceLeverage: Int { 2 * (maxLeverage ?? leverage) }
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

    /// The mark of `symbol` at which the account's value meets its maintenance margin, the other
    /// marks held: `mark − side × available / |size| / (1 − l × side)`, `l = 1 / maintenance leverage`,
    /// available = equity − maintenance margin (Hyperliquid's formula). nil without a position.
    public func liquidationPrice(_ symbol: String) -> Amount? {
        guard let position = positions.first(where: { $0.symbol == symbol }) else { return nil }
        let side = Amount(position.size.signum)
        let l = Amount(1) / Amount(position.maintenanceLeverage)
        let available = equity - maintenanceMargin
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
