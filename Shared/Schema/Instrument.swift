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
    /// The venue's maximum leverage (its maintenance margin is half the initial margin at it); nil
    /// when the venue did not say.
    public var maxLeverage: Int?

    public init(symbol: String, szDecimals: Int, isPerp: Bool = true, minOrderValue: Amount = 10, maxLeverage: Int? = nil) {
        self.maxLeverage = maxLeverage
        self.symbol = symbol
        self.szDecimals = szDecimals
        self.isPerp = isPerp
        self.minOrderValue = minOrderValue
    }

    public static let maxSignificantFigures = 5
    public var maxPriceDecimals: Int { (isPerp ? 6 : 8) - szDecimals }

    /// The nearest valid price; `mode` lets a buyer round down and a seller up.
    public func roundPrice(_ price: Amount, _ mode: NSDecimalNumber.RoundingMode = .plain) -> Amount {
        // An exponent ≥ 0 is an integer; any other integer is left unchanged by the rounding below
        // (its scale is never negative).
        if price.decimal.exponent >= 0 || price.isNaN { return price }
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
        // From the double when it is clearly between two powers of ten (its error is some 1e-14,
        // relative); otherwise exactly, below.
        let estimate = log10(magnitude.doubleValue)
        if estimate.isFinite, estimate >= 0 {
            let whole = estimate.rounded(.down)
            let fraction = estimate - whole
            if fraction > 1e-9, fraction < 1 - 1e-9 { return Int(whole) + 1 }
        }
        if magnitude >= 1 {
            // An estimate from the double, made exact against powers of ten (printing the decimal
            // to count its digits costs far more).
            var digits = max(1, Int(log10(magnitude.doubleValue).rounded(.down)) + 1)
            while digits > 1, magnitude < Self.powerOfTen(digits - 1) { digits -= 1 }
            while magnitude >= Self.powerOfTen(digits) { digits += 1 }
            return digits
        }
        var leadingZeros = 0
        var scaled = magnitude
        while scaled < Amount("0.1"), leadingZeros < 40, !scaled.isZero {
            scaled = scaled * 10
            leadingZeros += 1
        }
        return -leadingZeros
    }

    private static func powerOfTen(_ power: Int) -> Amount {
        Amount(Decimal(sign: .plus, exponent: power, significand: 1))
    }
}
