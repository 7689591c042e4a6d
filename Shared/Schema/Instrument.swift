import Foundation

/// A tradable instrument and the venue's rules for its prices and sizes.
/// Hyperliquid's rules: a price has at most 5 significant figures and at most
/// (6 − szDecimals) decimals for perps (8 − szDecimals for spot); an integer price is
/// always allowed; a size has at most szDecimals decimals.
public struct Instrument: Codable, Sendable, Hashable {
    public var symbol: String
    public var szDecimals: Int
    public var isPerp: Bool
    /// The smallest order value the venue accepts, in quote currency.
    public var minOrderValue: Amount

    public init(symbol: String, szDecimals: Int, isPerp: Bool = true, minOrderValue: Amount = 10) {
        self.symbol = symbol
        self.szDecimals = szDecimals
        self.isPerp = isPerp
        self.minOrderValue = minOrderValue
    }

    public static let maxSignificantFigures = 5
    public var maxPriceDecimals: Int { (isPerp ? 6 : 8) - szDecimals }

    /// The nearest valid price; `mode` lets a buyer round down and a seller up.
    public func roundPrice(_ price: Amount, _ mode: NSDecimalNumber.RoundingMode = .plain) -> Amount {
        if price.rounded(scale: 0, .down) == price { return price }
        let integerDigits = integerDigitCount(price)
        let significantScale = Self.maxSignificantFigures - integerDigits
        let scale = min(maxPriceDecimals, significantScale)
        return price.rounded(scale: max(scale, 0), mode)
    }

    public func isValidPrice(_ price: Amount) -> Bool { price.isPositive && roundPrice(price) == price }

    public func roundSize(_ size: Amount, _ mode: NSDecimalNumber.RoundingMode = .down) -> Amount {
        size.rounded(scale: szDecimals, mode)
    }

    public func isValidSize(_ size: Amount) -> Bool { size.isPositive && roundSize(size) == size }

    /// Digits before the point, or for a price below 1 minus the leading zeros after it,
    /// so that 0.001234 keeps five significant figures.
    private func integerDigitCount(_ price: Amount) -> Int {
        let magnitude = price.magnitude
        if magnitude >= 1 {
            return magnitude.rounded(scale: 0, .down).description.count
        }
        var leadingZeros = 0
        var scaled = magnitude
        while scaled < Amount("0.1"), leadingZeros < 40, !scaled.isZero {
            scaled = scaled * 10
            leadingZeros += 1
        }
        return -leadingZeros
    }
}
