import Schema

/// Reason codes the strategies and the quoter add to Schema's open set.
extension ReasonCode {
    // Signal evaluation
    /// Another strategy already traded this symbol on this bar: one intent per bar.
    public static let superseded: ReasonCode = "superseded"

    // Quoting
    /// A side stopped or shrank because inventory reached its maximum.
    public static let inventoryLimit: ReasonCode = "inventory_limit"
    /// A side widened after its fills were followed by an adverse move of the mid.
    public static let adverseSelection: ReasonCode = "adverse_selection"
    /// A side widened because the book leans against it.
    public static let bookImbalance: ReasonCode = "book_imbalance"
    /// The book's best bid is at or above its best ask: nothing is quoted.
    public static let crossedBook: ReasonCode = "crossed_book"
    /// No usable reference price (missing, zero or negative): nothing is quoted.
    public static let noReferencePrice: ReasonCode = "no_reference_price"
    /// The spread is wider than its minimum because of realised volatility (or because the
    /// volatility is not known yet).
    public static let volatilitySpread: ReasonCode = "volatility_spread"
    /// A side has no quotes because every tier is below the minimum lot or the venue's minimum
    /// order value, or the ladder could not be sized at all.
    public static let ladderTooSmall: ReasonCode = "ladder_too_small"
}

/// Every problem of a strategy or quoter configuration at once, so a config file can
/// be fixed in one go.
public struct StrategyConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { "invalid strategy config: " + problems.joined(separator: "; ") }

    static func check(_ problems: [String]) throws(StrategyConfigError) {
        if !problems.isEmpty { throw StrategyConfigError(problems: problems) }
    }
}

/// Two decimals, for reason details a human reads.
func formatted(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}
