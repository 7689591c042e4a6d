/// The `margin.*` keys, read here once for the executor (which sets each symbol's leverage on the
/// exchange at start) and the risk gate (whose margin checks assume that leverage).
public struct MarginConfig: Sendable, Equatable {
    /// Hyperliquid's own default for an account that never set one: 20× cross.
    public var defaultLeverage: Int
    public var leverage: [String: Int]
    public var isCross: Bool
    public var maxUsage: Double
    public var minLiquidationDistance: Double

    public static func read(_ settings: inout Settings, symbols: [String]) -> MarginConfig {
        let defaultLeverage = settings.int("margin.defaultLeverage", default: 20, in: 1...100)
        var leverage: [String: Int] = [:]
        for symbol in symbols {
            let value = settings.int("margin.leverage.\(symbol)", default: defaultLeverage, in: 1...100)
            if value != defaultLeverage { leverage[symbol] = value }
        }
        return MarginConfig(
            defaultLeverage: defaultLeverage, leverage: leverage,
            isCross: settings.oneOf("margin.mode", default: "cross", allowed: ["cross", "isolated"]) == "cross",
            maxUsage: settings.double("margin.maxUsage", default: 1, in: 0.01...1),
            minLiquidationDistance: settings.double("margin.minLiquidationDistance", default: 0, in: 0...0.99))
    }

    /// The leverage of `symbol`, never above the venue's maximum for it.
    public func leverage(_ symbol: String, maxLeverage: Int?) -> Int {
        let wanted = leverage[symbol] ?? defaultLeverage
        return maxLeverage.map { min(wanted, $0) } ?? wanted
    }
}
