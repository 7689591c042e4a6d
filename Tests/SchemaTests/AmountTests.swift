import Schema
import Foundation
import Testing

@testable import Schema

/// `Amount("…")` with a literal is the non-failable `ExpressibleByStringLiteral` init
/// (and traps on bad input); these helpers call the strict parser.
private func parse(_ text: String) -> Amount? { Amount(text) }
private func amount(_ text: String) -> Amount { Amount(text)! }

@Suite("Amount")
struct AmountTests {
    @Test(
        "the strict parser rejects anything but a plain decimal",
        arguments: [
            "1e5", "1E5", "1.5e-3", " 1", "1 ", "1.", ".5", "-.5", "abc", "--1", "+1", "", "-", ".", "1.2.3", "1,5",
            "0x10", "NaN", "nan", "inf", "-inf", "Infinity", "١", "1_000", "1-", "-1-", "\u{FF11}", "1\u{0}",
            String(repeating: "9", count: 39), "0." + String(repeating: "1", count: 39),
        ])
    func rejectsMalformed(_ text: String) {
        #expect(parse(text) == nil, "\"\(text)\" should not parse")
    }

    @Test(
        "the strict parser accepts plain decimals and prints them canonically",
        arguments: [
            ("0", "0"), ("-0", "0"), ("-0.000", "0"), ("46377.5", "46377.5"), ("46377.50", "46377.5"),
            ("00012.3400", "12.34"), ("-12.000", "-12"), ("0.00001", "0.00001"), ("-0.52114", "-0.52114"),
            ("105055.5", "105055.5"), (String(repeating: "9", count: 38), String(repeating: "9", count: 38)),
            ("0." + String(repeating: "0", count: 36) + "1", "0." + String(repeating: "0", count: 36) + "1"),
        ])
    func acceptsPlainDecimals(_ text: String, _ canonical: String) throws {
        let value = try #require(parse(text))
        #expect(value.description == canonical)
        #expect(parse(value.description) == value, "description round trip")
    }

    @Test("description → parse round-trips, and equal values hash alike")
    func roundTrips() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let integer = Int64.random(in: -9_999_999_999...9_999_999_999, using: &random)
            let scale = Int.random(in: 0...12, using: &random)
            let value = Amount(  // integer × 10^−scale, exactly
                Decimal(sign: integer < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(integer.magnitude)))
            let text = value.description
            #expect(text.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?/) != nil, "\(text)")
            #expect(!text.hasSuffix("0") || !text.contains("."), "\(text) has trailing zeros")
            #expect(parse(text) == value)
            let json = try JSONEncoder().encode(value)
            #expect(try JSONDecoder().decode(Amount.self, from: json) == value)
        }
        #expect(amount("1.5") == amount("1.50"))
        #expect(amount("1.5").hashValue == amount("1.50").hashValue)
        #expect(Set([amount("1.5"), amount("1.50"), amount("01.5")]).count == 1)
    }

    @Test("arithmetic is exact decimal arithmetic")
    func arithmeticIsExact() {
        #expect(amount("0.1") + amount("0.2") == amount("0.3"))
        #expect(0.1 + 0.2 != 0.3 as Double, "the reason Amount exists")
        #expect(amount("1") - amount("0.9") == amount("0.1"))
        #expect(Array(repeating: amount("0.1"), count: 10).sum() == 1)
        #expect(amount("46377.5") * amount("0.00123") == amount("57.044325"))
        #expect(amount("46378") * amount("0.01078") == amount("499.95484"))
        #expect(amount("1") / amount("4") == amount("0.25"))
        #expect(
            amount("12345678901234567890.123456789") + amount("0.000000001") == amount("12345678901234567890.12345679"))
        #expect((amount("12345678901234567890.123456789") + amount("0.000000001")).description == "12345678901234567890.12345679")
        var running: Amount = 0
        running += amount("0.01078")
        running -= amount("0.00578")
        #expect(running == amount("0.005"))
        #expect(-amount("2.5") == amount("-2.5"))
        #expect([amount("-1"), amount("46377.5"), amount("0.5")].max() == amount("46377.5"))
        #expect(amount("-1") < amount("0.5") && amount("0.5") < amount("46377.5"))
    }

    @Test("sign and magnitude")
    func signAndMagnitude() {
        #expect(amount("-3.2").magnitude == amount("3.2"))
        #expect(amount("-3.2").signum == -1 && amount("0").signum == 0 && amount("0.001").signum == 1)
        #expect(amount("-0.001").isNegative && !amount("0").isNegative && !amount("0").isPositive)
        #expect(amount("0.000").isZero && Amount.zero.isZero)
        #expect(amount("46377.5").doubleValue == 46377.5)
    }

    @Test(
        "rounding to a scale",
        arguments: [
            ("2.345", 2, NSDecimalNumber.RoundingMode.plain, "2.35"), ("1.005", 2, .plain, "1.01"),
            ("2.5", 0, .plain, "3"), ("-2.5", 0, .plain, "-3"), ("2.5", 0, .bankers, "2"), ("3.5", 0, .bankers, "4"),
            ("2.349", 2, .down, "2.34"), ("2.341", 2, .up, "2.35"), ("-2.349", 2, .down, "-2.35"),
            ("-2.341", 2, .up, "-2.34"), ("46377.5", 0, .plain, "46378"), ("46377.5", 0, .down, "46377"),
            ("0.123456", 5, .down, "0.12345"), ("0.000005", 5, .plain, "0.00001"), ("7", 3, .plain, "7"),
        ])
    func rounding(_ text: String, _ scale: Int, _ mode: NSDecimalNumber.RoundingMode, _ expected: String) {
        let rounded = amount(text).rounded(scale: scale, mode)
        #expect(rounded == amount(expected))
        #expect(rounded.description == expected)
    }

    @Test("a double converts through its shortest text")
    func fromDouble() {
        #expect(Amount(0.1) == amount("0.1"))
        #expect(Amount(46377.55) == amount("46377.55"))
        #expect(Amount(1e-7) == amount("0.0000001"))
        #expect(Amount(1e16) == amount("10000000000000000"))
        #expect(Amount(-0.0).description == "0")
        #expect(Amount(0.1 + 0.2) == amount("0.30000000000000004"))
    }

    @Test("a double converts to the same decimal, printed alike, as parsing its shortest text")
    func fromDoubleMatchesTextParse() {
        var random = SplitMix64(seed: 41)
        let posix = Locale(identifier: "en_US_POSIX")
        let fixed: [Double] = [0, -0.0, 0.1, 100.0, 12.0, 1e-05, 1.5e20, -2.5e-7, 0.3 * 3, 1e16, 123_456_789.125, 5e-324]
        let drawn = (0..<5_000).map { _ in
            (random.nextUnit() * 2 - 1) * pow(10, Double(Int(random.next() % 19)) - 12)
        }
        for double in fixed + drawn + drawn.map { ($0 * 100).rounded() / 100 } {
            let expected = Decimal(string: "\(double)", locale: posix) ?? Decimal(double)
            let amount = Amount(double)
            #expect(amount.decimal == expected, "\(double)")
            #expect(amount.description == Amount(expected).description, "\(double)")
        }
    }

    @Test("scaling by a power of ten equals multiplying or dividing by it, digit for digit")
    func scaledByPowerOfTen() {
        var random = SplitMix64(seed: 43)
        #expect(Amount.zero.scaled(byPowerOfTen: -4).isZero)
        #expect(amount("-12.5").scaled(byPowerOfTen: -4) == amount("-0.00125"))
        #expect(amount("3").scaled(byPowerOfTen: 2).description == "300")
        for _ in 0..<2_000 {
            let base = Amount(Double(Int64(random.next() % 2_000_000_000)) / 1_000 - 1_000_000)
            // Arithmetic leaves long values (a microprice has 38 digits): scale those too.
            let value = base * amount("1.2345678901234567890123456789") / amount("7")
            for (power, factor) in [(-4, Amount(10_000)), (-2, Amount(100)), (3, Amount(1_000))] {
                let expected = power < 0 ? value / factor : value * factor
                #expect(value.scaled(byPowerOfTen: power) == expected, "\(value) × 10^\(power)")
                #expect(value.scaled(byPowerOfTen: power).description == expected.description)
            }
        }
    }

    @Test("sign reads agree with comparisons against zero")
    func signMatchesComparison() {
        let values = ["0", "-0.0001", "0.0001", "46377.5", "-46377.5"].map(amount)
            + [amount("1") / amount("3"), amount("-2") / amount("3"), Amount(Decimal.nan)]
        for value in values {
            #expect(value.isPositive == (value.decimal > 0), "\(value)")
            #expect(value.isNegative == (value.decimal < 0), "\(value)")
        }
    }

    @Test("JSON: a string, never a number")
    func jsonEncoding() throws {
        #expect(String(decoding: try JSONEncoder().encode(amount("46377.5")), as: UTF8.self) == #""46377.5""#)
        #expect(String(decoding: try JSONEncoder().encode(amount("-0.000")), as: UTF8.self) == #""0""#)
        #expect(
            String(decoding: try JSONEncoder().encode([amount("0.01078"), amount("-12.00")]), as: UTF8.self)
                == #"["0.01078","-12"]"#)
        #expect(try JSONDecoder().decode(Amount.self, from: Data(#""46377.50""#.utf8)) == amount("46377.5"))
        for bad in ["46377.5", #""1e5""#, #"" 1""#, #""""#, "null", "true", #"["1"]"#] {
            #expect(throws: DecodingError.self, "\(bad)") { try JSONDecoder().decode(Amount.self, from: Data(bad.utf8)) }
        }
        struct Priced: Codable, Equatable { var price: Amount }
        let text = #"{"price":"0.30000000000000004"}"#
        let decoded = try JSONDecoder().decode(Priced.self, from: Data(text.utf8))
        #expect(String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self) == text)
    }

    @Test("every Amount that arithmetic produces survives encode → decode")
    func arithmeticResultsRoundTrip() throws {
        for value in [amount("1") / amount("3"), amount("2") / amount("3"), amount(String(repeating: "9", count: 38)) + 1] {
            let json = try JSONEncoder().encode(value)
            #expect(try JSONDecoder().decode(Amount.self, from: json) == value, "\(value)")
        }
    }

    @Test("an Amount that is not a number refuses to encode, so it never reaches the wire")
    func noNaN() {
        for value in [amount("1") / Amount.zero, Amount(1e300)] {
            #expect(value.isNaN)
            #expect(throws: EncodingError.self) { try JSONEncoder().encode(value) }
        }
    }

    @Test("a value with 39 significant digits (arithmetic makes them) goes on the wire with 38 and reads back")
    func thirtyNineDigitsOnTheWire() throws {
        let mantissa = try #require(Decimal(string: "329761277890466531440162271805273833671"))
        let value = Amount(Decimal(sign: .plus, exponent: -35, significand: mantissa))
        #expect(Amount(value.description) == nil, "39 digits are beyond the contract")
        let body = try JSONEncoder().encode(["price": value])
        let back = try JSONDecoder().decode([String: Amount].self, from: body)
        #expect(back["price"] == value.rounded(scale: 34))
        // The bus encoder's fast path, as the executor's snapshots go out.
        let snapshot = AccountSnapshot(
            asOf: 0, startingCapital: 10_000, realizedPnl: 0, fees: 0, funding: 0, unrealizedPnl: 0, equity: 10_000,
            positions: [Position(symbol: "ETH", size: 1, entryPrice: value, unrealizedPnl: 0)], openOrders: [],
            lastFillId: nil)
        let decoded = try JSONDecoder().decode(AccountSnapshot.self, from: Data(try encodeBody(snapshot)))
        #expect(decoded.positions.first?.entryPrice == value.rounded(scale: 34))
    }
}
