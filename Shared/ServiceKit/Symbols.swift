/// The symbols the system trades: one list (`symbols`) that every service reads through here.
public enum Symbols {
    /// The default paper market's perpetuals (exchange-sim lists them; all exist on Hyperliquid too).
    public static let defaults = ["BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "AVAX", "LINK", "SUI", "ARB"]
    public static let maximum = 1_000

    public static func read(_ settings: inout Settings) -> [String] {
        let symbols = settings.stringList("symbols", default: defaults)
        if symbols.isEmpty { settings.problem("symbols: name at least one symbol") }
        if symbols.count > maximum { settings.problem("symbols: \(symbols.count) symbols; at most \(maximum)") }
        var seen = Set<String>()
        for symbol in symbols {
            if symbol.isEmpty || symbol.count > 20 || !symbol.allSatisfy({ $0.isLetter || $0.isNumber }) {
                settings.problem("symbols: \"\(symbol)\" is not a coin name (letters and digits, at most 20)")
            } else if !seen.insert(symbol).inserted {
                settings.problem("symbols: \(symbol) is named twice")
            }
        }
        return symbols
    }
}
