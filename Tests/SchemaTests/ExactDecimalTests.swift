import Foundation
import Testing

@testable import Schema

/// The exact integer path against Foundation's own `Decimal` arithmetic, on seeded random operands
/// of every size `Decimal` holds (1 to 38 digits and the 39-digit values below 2^128), both signs,
/// zero, and exponents from −64 to 63. Wherever the fast path answers, its result must be the very
/// bytes Foundation computes (so the same value, text and exponent); `Amount`'s operators must
/// always give Foundation's value.
@Suite("Exact decimal arithmetic")
struct ExactDecimalTests {
    static let draws = 20_000

    /// A random decimal built by Foundation itself: sign, exponent and a significand of 0 to 39
    /// digits (39 only below 2^128), small ones more often, as prices and sizes are.
    static func operand(_ random: inout SplitMix64) -> Decimal {
        let kind = random.next() % 10
        let digits: Int
        switch kind {
        case 0: return Decimal.zero
        case 1...4: digits = 1 + Int(random.next() % 6)
        case 5...7: digits = 7 + Int(random.next() % 13)  // up to 19: the 64-bit path
        default: digits = 20 + Int(random.next() % 20)  // 20…39: beyond 64 bits
        }
        var text = String(1 + random.next() % 9)
        for _ in 1..<digits { text += String(random.next() % 10) }
        // Trailing zeros now and then: Foundation compacts them into the exponent.
        if random.next() % 4 == 0 { text = String(text.dropLast(min(3, digits - 1))) + "000".prefix(min(3, digits - 1)) }
        if digits == 39 { text = "1" + text.dropFirst() }  // below 2 × 10^38 < 2^128
        let significand = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
        let exponent = Int(random.next() % 128) - 64
        let sign: FloatingPointSign = random.next() % 2 == 0 ? .plus : .minus
        return Decimal(sign: sign, exponent: exponent, significand: significand)
    }

    static func bytes(_ decimal: Decimal) -> [UInt8] { withUnsafeBytes(of: decimal) { Array($0) } }

    static func pairs(seed: UInt64) -> [(Decimal, Decimal)] {
        var random = SplitMix64(seed: seed)
        return (0..<draws).map { _ in
            let a = operand(&random)
            // A quarter of the pairs share the exponent, as prices of one instrument mostly do; half
            // are within 20 of each other.
            var b = operand(&random)
            let spread = random.next() % 4
            if spread < 3, !b.isZero {
                let shift = spread == 0 ? 0 : Int(random.next() % 41) - 20
                let exponent = min(63, max(-64, a.exponent + shift))
                b = Decimal(sign: b.sign, exponent: exponent, significand: b.significand)
            }
            return (a, b)
        }
    }

    @Test("the platform's Decimal has the layout the fast path reads")
    func layout() {
        #if os(Linux)
            #expect(ExactDecimal.layoutHolds)
        #endif
        let d = Decimal(sign: .minus, exponent: -2, significand: 12345)
        if case .nonZero(let parts) = ExactDecimal.value(d) {
            #expect(parts.negative && parts.exponent == -2 && parts.significand == 12345)
        } else if ExactDecimal.layoutHolds {
            Issue.record("−123.45 not read")
        }
        #expect(ExactDecimal.value(Decimal.nan) == nil)
    }

    @Test("sums and differences are Foundation's, byte for byte", arguments: [1, 2, 3] as [UInt64])
    func sums(seed: UInt64) {
        var fast = 0
        for (a, b) in Self.pairs(seed: seed) {
            for subtracting in [false, true] {
                let expected = subtracting ? a - b : a + b
                if let result = ExactDecimal.sum(a, b, subtracting: subtracting) {
                    fast += 1
                    #expect(
                        Self.bytes(result) == Self.bytes(expected),
                        "\(a) \(subtracting ? "-" : "+") \(b): \(result) vs Foundation's \(expected)")
                }
                let amount = subtracting ? Amount(a) - Amount(b) : Amount(a) + Amount(b)
                #expect(amount.decimal == expected || (amount.isNaN && expected.isNaN))
            }
        }
        // Most draws are within 128 bits once aligned: the fast path must have taken them.
        #expect(!ExactDecimal.layoutHolds || fast > Self.draws)
    }

    @Test("products are Foundation's, byte for byte", arguments: [4, 5, 6] as [UInt64])
    func products(seed: UInt64) {
        var fast = 0
        for (a, b) in Self.pairs(seed: seed) {
            let expected = a * b
            if let result = ExactDecimal.product(a, b) {
                fast += 1
                #expect(Self.bytes(result) == Self.bytes(expected), "\(a) × \(b): \(result) vs \(expected)")
            }
            let amount = Amount(a) * Amount(b)
            #expect(amount.decimal == expected || (amount.isNaN && expected.isNaN))
        }
        #expect(!ExactDecimal.layoutHolds || fast > Self.draws / 2)
    }

    @Test("quotients are Foundation's, byte for byte", arguments: [11, 12, 13] as [UInt64])
    func quotients(seed: UInt64) {
        var random = SplitMix64(seed: seed ^ 0x51)
        var fast = 0
        var pairs = Self.pairs(seed: seed)
        // Quotients that terminate: a product over one of its factors, and divisors of 2s and 5s.
        for (a, b) in Self.pairs(seed: seed + 100) where !b.isZero {
            pairs.append((a * b, b))
            let divisor = Decimal(sign: .plus, exponent: Int(random.next() % 9) - 4, significand: [1, 2, 4, 5, 8, 25, 16, 125, 3][Int(random.next() % 9)])
            pairs.append((a, divisor))
        }
        pairs += [(Decimal(300.15), Decimal(sign: .plus, exponent: -3, significand: 3)), (Decimal(1), Decimal(3)), (Decimal(2), Decimal(8))]
        for (a, b) in pairs {
            let expected = a / b
            if let result = ExactDecimal.quotient(a, b) {
                fast += 1
                #expect(Self.bytes(result) == Self.bytes(expected), "\(a) ÷ \(b): \(result) vs \(expected)")
            }
            let amount = Amount(a) / Amount(b)
            #expect(amount.decimal == expected || (amount.isNaN && expected.isNaN), "\(a) ÷ \(b)")
        }
        #expect(!ExactDecimal.layoutHolds || fast > Self.draws / 2)
        #expect(ExactDecimal.quotient(Decimal(1), Decimal(3)) == nil)
        #expect(ExactDecimal.quotient(Decimal(7), Decimal.zero) == nil)
    }

    @Test("quotients rounded down to a scale are Foundation's", arguments: [21, 22] as [UInt64])
    func flooredQuotients(seed: UInt64) {
        var fast = 0
        for (a, b) in Self.pairs(seed: seed) where !b.isZero {
            let (x, y) = (Amount(a).magnitude, Amount(b).magnitude)
            for scale in [0, 2, 5] {
                let expected = (x / y).rounded(scale: scale, .down)
                let result = x.quotient(dividingBy: y, roundedDownTo: scale)
                #expect(result == expected, "\(x) ÷ \(y) to \(scale): \(result) vs \(expected)")
                if ExactDecimal.flooredQuotient(x.decimal, y.decimal, scale: scale) != nil { fast += 1 }
            }
        }
        #expect(!ExactDecimal.layoutHolds || fast > Self.draws)
        // A size from a notional: 62,500 / 3,300.7 = 18.935377…
        #expect(Amount(62_500).quotient(dividingBy: "3300.7", roundedDownTo: 4) == "18.9353")
        #expect(Amount(1).quotient(dividingBy: 3, roundedDownTo: 0) == 0)
    }

    @Test("comparisons are Foundation's", arguments: [7, 8] as [UInt64])
    func comparisons(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for (a, b) in Self.pairs(seed: seed) {
            // Equal values in other forms too: 1.5 against 1.50 (not compact) and itself.
            let c = random.next() % 3 == 0 ? a : (random.next() % 2 == 0 ? b : a * Decimal(1))
            for (x, y) in [(a, b), (a, c), (b, a)] {
                if let order = ExactDecimal.compare(x, y) {
                    #expect((order < 0) == (x < y), "\(x) < \(y)")
                    #expect((order == 0) == (x == y), "\(x) == \(y)")
                }
                #expect((Amount(x) < Amount(y)) == (x < y))
                #expect((Amount(x) == Amount(y)) == (x == y))
            }
        }
    }

    @Test("rounding is NSDecimalRound's, byte for byte, in every mode", arguments: [9, 10] as [UInt64])
    func rounding(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let modes: [NSDecimalNumber.RoundingMode] = [.plain, .down, .up, .bankers]
        var fast = 0
        for (a, b) in Self.pairs(seed: seed) {
            // Halves exactly, too: 2.5, −0.125 and their like are where the modes differ.
            let half = Decimal(
                sign: a.sign, exponent: -Int(random.next() % 4) - 1,
                significand: Decimal(5 + 10 * (random.next() % 100_000)))
            for value in [a, b, half] {
                let scale = Int(random.next() % 50) - 10
                for mode in modes {
                    var source = value
                    var expected = Decimal()
                    NSDecimalRound(&expected, &source, scale, mode)
                    if let result = ExactDecimal.rounded(value, scale: scale, mode: mode) {
                        fast += 1
                        #expect(
                            Self.bytes(result) == Self.bytes(expected),
                            "\(value) to \(scale) places \(mode.rawValue): \(result) vs \(expected)")
                    }
                    #expect(Amount(value).rounded(scale: scale, mode).decimal == expected)
                }
            }
        }
        #expect(!ExactDecimal.layoutHolds || fast > Self.draws)
    }

    @Test("doubles are NSDecimalNumber's, bit for bit")
    func doubles() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<Self.draws {
            let value = Self.operand(&random)
            let expected = NSDecimalNumber(decimal: value).doubleValue
            #expect(Amount(value).doubleValue.bitPattern == expected.bitPattern, "\(value)")
        }
        #expect(Amount(Decimal.nan).doubleValue.isNaN)
    }

    @Test("the ends of the range go to Foundation or agree with it")
    func edges() {
        let big = Decimal(string: String(repeating: "9", count: 38))!
        let cases: [(Decimal, Decimal)] = [
            (Decimal(sign: .plus, exponent: 127, significand: 1), Decimal(sign: .plus, exponent: 127, significand: 1)),
            (Decimal(sign: .plus, exponent: 100, significand: 1), Decimal(sign: .plus, exponent: 27, significand: 10)),
            (Decimal(sign: .plus, exponent: 100, significand: 1), Decimal(sign: .plus, exponent: 28, significand: 1)),
            (Decimal(sign: .minus, exponent: -64, significand: 3), Decimal(sign: .plus, exponent: -64, significand: 7)),
            (big, big), (big, Decimal(1)), (big, Decimal(sign: .plus, exponent: -1, significand: 5)),
            (Decimal(sign: .plus, exponent: 38, significand: 1), Decimal(sign: .plus, exponent: -1, significand: 1)),
            (Decimal.nan, Decimal(1)), (Decimal(1), Decimal.nan), (Decimal.zero, Decimal.nan), (Decimal.nan, Decimal.zero),
            (Decimal.zero, Decimal(sign: .minus, exponent: -2, significand: 150)), (Decimal(7), Decimal.zero),
        ]
        for (a, b) in cases {
            for (fast, expected) in [
                (ExactDecimal.sum(a, b), a + b), (ExactDecimal.sum(a, b, subtracting: true), a - b),
                (ExactDecimal.product(a, b), a * b),
            ] {
                if let fast { #expect(Self.bytes(fast) == Self.bytes(expected), "\(a), \(b): \(fast) vs \(expected)") }
            }
            #expect((Amount(a) + Amount(b)).decimal == a + b || (a + b).isNaN)
            #expect((Amount(a) * Amount(b)).decimal == a * b || (a * b).isNaN)
            #expect((Amount(a) < Amount(b)) == (a < b))
        }
        // 10^127 × 10: the exponent overflows, Foundation's NaN stands.
        let top = Decimal(sign: .plus, exponent: 127, significand: 1)
        #expect(ExactDecimal.product(top, Decimal(10)) == nil)
        #expect((Amount(top) * Amount(10)).isNaN == (top * Decimal(10)).isNaN)
    }
}
