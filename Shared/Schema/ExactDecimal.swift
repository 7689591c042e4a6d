import Foundation

/// Foundation's `Decimal` arithmetic redone in fixed-width integers for the operands prices and
/// sizes have, with the very result Foundation gives (the same bytes, so the same value, text and
/// exponent). On Linux `Decimal`'s long arithmetic works on heap arrays: an add, a multiply or a
/// comparison costs microseconds, and a quote pass does thousands of them.
///
/// Each function answers nil when the operands leave the exact path (NaN, a result that does not
/// fit 128 bits, an exponent near the ends of its range, or a `Decimal` layout other than the one
/// checked at start-up): the caller then asks Foundation. Inside the path the integer result is
/// exact and is the result Foundation computes, because Foundation's own result is exact there too:
/// it only rounds a significand that outgrows its 128 bits.
enum ExactDecimal {
    /// `Decimal`'s stored fields as swift-foundation lays them out: the exponent; the length in
    /// 16-bit words (high nibble), negative (0x08) and compact (0x04); 18 reserved bits; the
    /// significand in eight 16-bit words, least significant first.
    struct Layout {
        var exponent: Int8
        var flags: UInt8
        var reserved: UInt16
        var words: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)
    }

    /// A finite, non-zero decimal read from its fields: (−1)^negative × significand × 10^exponent.
    struct Parts {
        var negative: Bool
        var exponent: Int
        var significand: UInt128
    }

    /// A decimal read for the exact path.
    enum Value {
        case zero
        case nonZero(Parts)
    }

    /// Whether this platform's `Decimal` has the layout above (Darwin's NSDecimal packs its flags
    /// differently): checked once against values Foundation builds itself; otherwise every
    /// operation goes to Foundation.
    static let layoutHolds: Bool = {
        guard MemoryLayout<Decimal>.size == MemoryLayout<Layout>.size,
            MemoryLayout<Decimal>.alignment >= MemoryLayout<Layout>.alignment
        else { return false }
        // −0.281483566841863 × 10^-3: four words, negative, compact.
        let significand: UInt64 = 0x0001_0002_0003_0007
        let probe = Decimal(sign: .minus, exponent: -3, significand: Decimal(significand))
        let raw = unsafeBitCast(probe, to: Layout.self)
        let w = raw.words
        guard raw.exponent == -3, raw.flags == (4 << 4) | 0x08 | 0x04, raw.reserved == 0,
            (w.0, w.1, w.2, w.3) == (7, 3, 2, 1), (w.4, w.5, w.6, w.7) == (0, 0, 0, 0)
        else { return false }
        let one = unsafeBitCast(Decimal(1), to: Layout.self)
        return one.exponent == 0 && one.flags & 0xF8 == 1 << 4 && one.words.0 == 1
            && unsafeBitCast(Decimal.zero, to: Layout.self).flags == 0
    }()

    // MARK: Reading and writing

    @inline(__always)
    static func value(_ decimal: Decimal) -> Value? {
        guard layoutHolds else { return nil }
        let raw = unsafeBitCast(decimal, to: Layout.self)
        let length = Int(raw.flags >> 4)
        let negative = raw.flags & 0x08 != 0
        guard length > 0 else { return negative ? nil : .zero }  // length 0 and negative: NaN
        guard length <= 8, raw.flags & 0x03 == 0, raw.reserved == 0 else { return nil }
        let w = raw.words
        let low =
            UInt64(w.0) | UInt64(w.1) << 16 | UInt64(w.2) << 32 | UInt64(w.3) << 48
        var significand = UInt128(low)
        if length > 4 {
            let high = UInt64(w.4) | UInt64(w.5) << 16 | UInt64(w.6) << 32 | UInt64(w.7) << 48
            significand |= UInt128(high) << 64
        }
        if length < 8 { significand &= (UInt128(1) << (16 * length)) - 1 }
        guard significand != 0 else { return nil }  // a non-zero length over zero words: not Foundation's
        return .nonZero(Parts(negative: negative, exponent: Int(raw.exponent), significand: significand))
    }

    /// The compact decimal Foundation's arithmetic leaves: trailing zeros moved into the exponent
    /// (up to its maximum, 127), flagged compact. Nil when the exponent does not fit.
    @inline(__always)
    static func compact(negative: Bool, exponent: Int, significand: UInt128) -> Decimal? {
        guard significand != 0 else { return Decimal.zero }
        var significand = significand
        var exponent = exponent
        if significand <= UInt64.max {
            var small = UInt64(significand)
            while exponent < 127 {
                let (quotient, remainder) = small.quotientAndRemainder(dividingBy: 10)
                guard remainder == 0 else { break }
                small = quotient
                exponent += 1
            }
            significand = UInt128(small)
        } else {
            while exponent < 127 {
                let (quotient, remainder) = significand.quotientAndRemainder(dividingBy: 10)
                guard remainder == 0 else { break }
                significand = quotient
                exponent += 1
            }
        }
        guard (-128...127).contains(exponent) else { return nil }
        return encode(negative: negative, exponent: exponent, significand: significand, compact: true)
    }

    @inline(__always)
    static func encode(negative: Bool, exponent: Int, significand: UInt128, compact: Bool) -> Decimal {
        let length = significand == 0 ? 0 : (128 - significand.leadingZeroBitCount + 15) / 16
        let low = UInt64(truncatingIfNeeded: significand)
        let high = UInt64(truncatingIfNeeded: significand >> 64)
        let raw = Layout(
            exponent: Int8(exponent),
            flags: UInt8(length << 4) | (negative ? 0x08 : 0) | (compact ? 0x04 : 0), reserved: 0,
            words: (
                UInt16(truncatingIfNeeded: low), UInt16(truncatingIfNeeded: low >> 16),
                UInt16(truncatingIfNeeded: low >> 32), UInt16(truncatingIfNeeded: low >> 48),
                UInt16(truncatingIfNeeded: high), UInt16(truncatingIfNeeded: high >> 16),
                UInt16(truncatingIfNeeded: high >> 32), UInt16(truncatingIfNeeded: high >> 48)
            ))
        return unsafeBitCast(raw, to: Decimal.self)
    }

    /// 10^0 … 10^38, all that fit 128 bits.
    static let powersOfTen: [UInt128] = {
        var powers: [UInt128] = [1]
        for _ in 1...38 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    /// significand × 10^power, nil when it outgrows 128 bits.
    @inline(__always)
    static func scale(_ significand: UInt128, up power: Int) -> UInt128? {
        guard power > 0 else { return significand }
        guard power <= 38 else { return nil }
        let (product, overflow) = significand.multipliedReportingOverflow(by: powersOfTen[power])
        return overflow ? nil : product
    }

    // MARK: Arithmetic

    /// lhs + rhs (rhs negated first when `subtracting`), as `Decimal`'s `+` and `-`.
    static func sum(_ lhs: Decimal, _ rhs: Decimal, subtracting: Bool = false) -> Decimal? {
        guard let a = value(lhs), let b = value(rhs) else { return nil }
        // Foundation hands an operand back untouched when the other is zero.
        guard case .nonZero(let x) = a else {
            guard case .nonZero = b, subtracting else { return rhs }
            var negated = unsafeBitCast(rhs, to: Layout.self)
            negated.flags ^= 0x08
            return unsafeBitCast(negated, to: Decimal.self)
        }
        guard case .nonZero(var y) = b else { return lhs }
        if subtracting { y.negative.toggle() }
        // Aligned to the smaller exponent, as Foundation aligns them.
        let exponent = min(x.exponent, y.exponent)
        guard let m = scale(x.significand, up: x.exponent - exponent),
            let n = scale(y.significand, up: y.exponent - exponent)
        else { return nil }
        if x.negative == y.negative {
            let (total, overflow) = m.addingReportingOverflow(n)
            guard !overflow else { return nil }
            return compact(negative: x.negative, exponent: exponent, significand: total)
        }
        if m == n { return Decimal.zero }
        return m > n
            ? compact(negative: x.negative, exponent: exponent, significand: m - n)
            : compact(negative: y.negative, exponent: exponent, significand: n - m)
    }

    /// lhs × rhs, as `Decimal`'s `*`.
    static func product(_ lhs: Decimal, _ rhs: Decimal) -> Decimal? {
        guard let a = value(lhs), let b = value(rhs) else { return nil }
        guard case .nonZero(let x) = a, case .nonZero(let y) = b else { return Decimal.zero }
        let exponent = x.exponent + y.exponent
        guard (-128...127).contains(exponent) else { return nil }
        let significand: UInt128
        if x.significand <= UInt64.max, y.significand <= UInt64.max {
            let (high, low) = UInt64(x.significand).multipliedFullWidth(by: UInt64(y.significand))
            significand = UInt128(high) << 64 | UInt128(low)
        } else {
            let (full, overflow) = x.significand.multipliedReportingOverflow(by: y.significand)
            guard !overflow else { return nil }
            significand = full
        }
        return compact(negative: x.negative != y.negative, exponent: exponent, significand: significand)
    }

    /// −1, 0 or 1 as lhs is below, equal to or above rhs.
    static func compare(_ lhs: Decimal, _ rhs: Decimal) -> Int? {
        guard let a = value(lhs), let b = value(rhs) else { return nil }
        switch (a, b) {
        case (.zero, .zero): return 0
        case (.zero, .nonZero(let y)): return y.negative ? 1 : -1
        case (.nonZero(let x), .zero): return x.negative ? -1 : 1
        case (.nonZero(let x), .nonZero(let y)):
            if x.negative != y.negative { return x.negative ? -1 : 1 }
            let exponent = min(x.exponent, y.exponent)
            guard let m = scale(x.significand, up: x.exponent - exponent),
                let n = scale(y.significand, up: y.exponent - exponent)
            else { return nil }
            let magnitude = m == n ? 0 : (m < n ? -1 : 1)
            return x.negative ? -magnitude : magnitude
        }
    }

    /// lhs ÷ rhs, as `Decimal`'s `/`, when the quotient terminates within 38 further decimal places and
    /// fits 128 bits (an average price: a notional over a size). Foundation divides lhs × 10^38 by
    /// rhs, truncates to 128 bits and compacts: for such a quotient that is the exact value, compact.
    /// Nil for the rest — a quotient that does not terminate, a divisor of zero, exponents 19 or more
    /// apart (where Foundation first normalises, losing digits) or near the ends of the range.
    static func quotient(_ lhs: Decimal, _ rhs: Decimal) -> Decimal? {
        guard let a = value(lhs), let b = value(rhs), case .nonZero(let y) = b else { return nil }
        guard case .nonZero(let x) = a else { return Decimal.zero }
        let exponent = x.exponent - y.exponent
        // Foundation's pre-compact exponent (exponent − 38 + digits dropped) must not underflow.
        guard exponent < 19, exponent - 38 >= -128 else { return nil }
        // The quotient terminates only if the divisor's factors other than 2 and 5 divide lhs; then
        // at most max(twos, fives) places are needed.
        var odd = y.significand
        let twos = odd.trailingZeroBitCount
        odd >>= twos
        var fives = 0
        while odd % 5 == 0 {
            odd /= 5
            fives += 1
        }
        guard x.significand % odd == 0 else { return nil }
        for places in 0...min(38, max(twos, fives)) {
            guard let numerator = scale(x.significand, up: places) else { return nil }
            let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: y.significand)
            if remainder == 0 {
                return compact(negative: x.negative != y.negative, exponent: exponent - places, significand: quotient)
            }
        }
        return nil
    }

    /// (lhs ÷ rhs) rounded down to `scale` places, both non-negative: a size from a notional and a
    /// price. The floor of the exact quotient, which is what Foundation's truncated quotient rounds
    /// down to (they could differ only where the exact one is a whole number of places, and then
    /// Foundation's is exact). Nil off the exact path.
    static func flooredQuotient(_ lhs: Decimal, _ rhs: Decimal, scale: Int) -> Decimal? {
        guard let a = value(lhs), let b = value(rhs), case .nonZero(let y) = b, !y.negative else { return nil }
        guard case .nonZero(let x) = a else { return Decimal.zero }
        guard !x.negative, (-38...38).contains(scale) else { return nil }
        let places = x.exponent - y.exponent + scale
        var numerator = x.significand
        var denominator = y.significand
        if places >= 0 {
            guard let scaled = self.scale(numerator, up: places) else { return nil }
            numerator = scaled
        } else {
            guard let scaled = self.scale(denominator, up: -places) else { return nil }
            denominator = scaled
        }
        return compact(negative: false, exponent: -scale, significand: numerator / denominator)
    }

    /// `NSDecimalRound(&result, &value, scale, mode)`.
    static func rounded(_ decimal: Decimal, scale: Int, mode: NSDecimalNumber.RoundingMode) -> Decimal? {
        guard let v = value(decimal), case .nonZero(let x) = v, (-100...100).contains(scale) else { return nil }
        let dropped = -(scale + x.exponent)
        // Nothing to drop: Foundation hands the value back untouched.
        guard dropped > 0 else { return decimal }
        let quotient: UInt128
        let remainder: UInt128
        // Twice the remainder against the divisor: below, at or above one half.
        let half: Int
        if dropped <= 19, x.significand <= UInt64.max {
            let divisor = UInt64(powersOfTen[dropped])
            let (q, r) = UInt64(x.significand).quotientAndRemainder(dividingBy: divisor)
            (quotient, remainder) = (UInt128(q), UInt128(r))
            // r against divisor − r, not 2r against the divisor: 2r can overflow 64 bits.
            half = r == divisor - r ? 0 : (r < divisor - r ? -1 : 1)
        } else if dropped <= 38 {
            let divisor = powersOfTen[dropped]
            (quotient, remainder) = x.significand.quotientAndRemainder(dividingBy: divisor)
            // remainder < divisor ≤ 10^38, so 2 × remainder fits.
            let twice = remainder * 2
            half = twice == divisor ? 0 : (twice < divisor ? -1 : 1)
        } else {
            // Every digit dropped, and the significand (< 2^128 < 5 × 10^38) is below one half.
            (quotient, remainder) = (0, x.significand)
            half = -1
        }
        var away = false
        if remainder != 0 {
            switch mode {
            case .plain: away = half >= 0
            case .bankers: away = half > 0 || (half == 0 && quotient & 1 == 1)
            case .up: away = !x.negative
            case .down: away = x.negative
            @unknown default: return nil
            }
        }
        let result = away ? quotient + 1 : quotient
        guard result != 0 else {
            // Foundation's zero here keeps the new exponent and drops the sign.
            return encode(negative: false, exponent: -scale, significand: 0, compact: false)
        }
        return compact(negative: x.negative, exponent: -scale, significand: result)
    }

    /// `NSDecimalNumber(decimal:).doubleValue`, by Foundation's own steps (the 16-bit words from
    /// the top, then one ×10 or ÷10 per unit of exponent), so the same double.
    static func doubleValue(_ decimal: Decimal) -> Double? {
        guard layoutHolds else { return nil }
        let raw = unsafeBitCast(decimal, to: Layout.self)
        let length = Int(raw.flags >> 4)
        if length == 0 { return raw.flags & 0x08 != 0 ? .nan : 0 }
        guard length <= 8 else { return nil }
        var result = withUnsafeBytes(of: raw.words) { words in
            var sum = 0.0
            for index in (0..<length).reversed() {
                sum = sum * 65536 + Double(words.load(fromByteOffset: 2 * index, as: UInt16.self))
            }
            return sum
        }
        let exponent = Int(raw.exponent)
        if exponent < 0 {
            for _ in exponent..<0 { result /= 10 }
        } else {
            for _ in 0..<exponent { result *= 10 }
        }
        return raw.flags & 0x08 != 0 ? -result : result
    }
}
