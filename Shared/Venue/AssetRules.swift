import Hyperliquid
import Schema

/// Hyperliquid's tick and lot rules for perps: a price has at most 5 significant figures and at
/// most (6 − szDecimals) decimals, an integer price is always valid; a size has at most
/// szDecimals decimals; an order is worth at least $10.
enum AssetRules {
    static let maxSignificantFigures = 5
    static let perpMaxDecimals = 6
    static let minimumOrderValue: Amount = 10

    /// Digits after the point of a normalised decimal.
    static func decimals(_ value: Amount) -> Int {
        let text = Wire.plain(value)
        guard let dot = text.firstIndex(of: ".") else { return 0 }
        return text.distance(from: dot, to: text.endIndex) - 1
    }

    /// Significant figures of a normalised decimal (trailing integer zeros count, as the exchange does:
    /// 123450.5 has 7).
    static func significantFigures(_ value: Amount) -> Int {
        let digits = Wire.plain(value.magnitude).filter { $0 != "." }
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.count
    }

    /// nil when the price is valid, otherwise the exchange's error.
    static func priceError(_ price: Amount, spec: AssetSpec, asset: Int) -> String? {
        guard price.isPositive else { return VenueError.invalidPrice }
        if decimals(price) == 0 { return nil }  // integer prices are always valid
        if decimals(price) > perpMaxDecimals - spec.szDecimals { return VenueError.tick(asset: asset) }
        if significantFigures(price) > maxSignificantFigures { return VenueError.invalidPrice }
        return nil
    }

    static func sizeError(_ size: Amount, spec: AssetSpec) -> String? {
        if size.isZero { return VenueError.zeroSize }
        if size.isNegative || decimals(size) > spec.szDecimals { return VenueError.invalidSize }
        return nil
    }

    /// The nearest valid price, rounded towards `down` or up (used for synthetic books and slippage).
    static func roundPrice(_ price: Amount, spec: AssetSpec, down: Bool) -> Amount {
        let mode: NSDecimalNumberRoundingModeCompat = down ? .down : .up
        let integerDigits = Wire.plain(price.rounded(scale: 0, .down)).count
        let sigScale = maxSignificantFigures - (price >= 1 ? integerDigits : 0)
        var scale = min(perpMaxDecimals - spec.szDecimals, sigScale)
        if price < 1 {
            // Leading zeros after the point do not count as significant.
            var zeros = 0
            var scaled = price
            while scaled < Amount("0.1"), zeros < 12, scaled.isPositive {
                scaled = scaled * 10
                zeros += 1
            }
            scale = min(perpMaxDecimals - spec.szDecimals, maxSignificantFigures + zeros)
        }
        let rounded = price.rounded(scale: max(scale, 0), mode.foundation)
        return rounded.isPositive ? rounded : price
    }

    /// Price rounded to `n` significant figures (the `nSigFigs` aggregation of l2Book).
    static func roundSignificant(_ price: Amount, figures n: Int, down: Bool) -> Amount {
        guard price.isPositive else { return price }
        let integerDigits = Wire.plain(price.rounded(scale: 0, .down)).count
        var scale = n - integerDigits
        if price < 1 {
            var zeros = 0
            var scaled = price
            while scaled < Amount("0.1"), zeros < 12 {
                scaled = scaled * 10
                zeros += 1
            }
            scale = n + zeros
        }
        if scale >= 0 { return price.rounded(scale: scale, down ? .down : .up) }
        // Round to tens, hundreds…: divide, round, multiply.
        var factor: Amount = 1
        for _ in 0..<(-scale) { factor = factor * 10 }
        return (price / factor).rounded(scale: 0, down ? .down : .up) * factor
    }
}

import Foundation

/// Keeps `Foundation` rounding-mode names out of the call sites above.
enum NSDecimalNumberRoundingModeCompat {
    case down, up
    var foundation: NSDecimalNumber.RoundingMode { self == .down ? .down : .up }
}
