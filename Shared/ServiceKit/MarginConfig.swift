import Risk

extension MarginRules {
    /// The `margin.*` keys, read here once for the executor and the risk gate.
    public static func read(_ settings: inout Settings, symbols: [String]) -> MarginRules {
        let modes = MarginMode.allCases.map(\.rawValue)
        // Hyperliquid's own default for an account that never set one: 20× cross.
        let defaultLeverage = settings.int("margin.defaultLeverage", default: 20, in: 1...100)
        let defaultMode = MarginMode(rawValue: settings.oneOf("margin.mode", default: "cross", allowed: modes)) ?? .cross
        var leverage: [String: Int] = [:]
        var symbolModes: [String: MarginMode] = [:]
        for symbol in symbols {
            let value = settings.int("margin.leverage.\(symbol)", default: defaultLeverage, in: 1...100)
            if value != defaultLeverage { leverage[symbol] = value }
            let mode = MarginMode(
                rawValue: settings.oneOf("margin.modes.\(symbol)", default: defaultMode.rawValue, allowed: modes))
            if let mode, mode != defaultMode { symbolModes[symbol] = mode }
        }
        let rules = MarginRules(
            defaultLeverage: defaultLeverage, leverage: leverage, defaultMode: defaultMode, modes: symbolModes,
            maxMarginUsage: settings.double("margin.maxUsage", default: 1, in: 0.01...1),
            minLiquidationDistance: settings.double("margin.minLiquidationDistance", default: 0, in: 0...0.99),
            minLiquidationDistanceAtr: settings.double("margin.minLiquidationDistanceAtr", default: 0, in: 0...100))
        for problem in rules.problems { settings.problem("margin: \(problem)") }
        return rules
    }
}
