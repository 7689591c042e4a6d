import Schema
import Foundation
import Testing

@testable import Schema

private func amount(_ text: String) -> Amount { Amount(text)! }

/// Hyperliquid's tick and lot rules: a price has at most 5 significant figures and at most
/// (6 − szDecimals) decimals for perps (8 − szDecimals for spot); an integer price is
/// always valid; a size has at most szDecimals decimals.
@Suite("Instrument")
struct InstrumentTests {
    static let btc = Instrument(symbol: "BTC", szDecimals: 5)

    /// The rule, written independently from the text of the price.
    static func referenceIsValid(_ price: Amount, szDecimals: Int, isPerp: Bool = true) -> Bool {
        guard price.isPositive else { return false }
        let text = price.description  // canonical: no trailing fractional zeros
        guard let point = text.firstIndex(of: ".") else { return true }  // an integer price
        let fraction = text[text.index(after: point)...]
        let significant = (text[..<point] + fraction).drop { $0 == "0" }
        return significant.count <= 5 && fraction.count <= (isPerp ? 6 : 8) - szDecimals
    }

    @Test("BTC (szDecimals 5): at 46k only integer prices are valid")
    func btcPrices() {
        let btc = Self.btc
        #expect(btc.maxPriceDecimals == 1)
        #expect(btc.isValidPrice(amount("46377")))
        #expect(btc.isValidPrice(amount("46377.0")), "46377.0 is the integer 46377")
        // 46377.5 has six significant figures: not valid, although it has only one decimal.
        #expect(!btc.isValidPrice(amount("46377.5")))
        #expect(btc.roundPrice(amount("46377.5")) == amount("46378"), "half rounds away from zero")
        #expect(btc.roundPrice(amount("46377.5"), .down) == amount("46377"), "a buyer rounds down")
        #expect(btc.roundPrice(amount("46377.5"), .up) == amount("46378"), "a seller rounds up")
        #expect(!btc.isValidPrice(amount("46377.55")))
        #expect(btc.roundPrice(amount("46377.55")) == amount("46378"), "not 46377.6: that would be 6 figures")
        #expect(btc.roundPrice(amount("46377.49")) == amount("46377"))
        // Below 10,000 one decimal fits in five figures; below 1,000 the decimal cap (1) binds.
        #expect(btc.isValidPrice(amount("4637.7")))
        #expect(btc.roundPrice(amount("4637.75")) == amount("4637.8"))
        #expect(!btc.isValidPrice(amount("463.77")), "five figures, but two decimals > 6 − 5")
        #expect(btc.roundPrice(amount("463.775")) == amount("463.8"))
        // Integers are valid whatever their number of figures.
        #expect(btc.isValidPrice(amount("123456")))
        #expect(btc.roundPrice(amount("1234567.8")) == amount("1234568"))
        #expect(!btc.isValidPrice(0) && !btc.isValidPrice(amount("-46377")))
    }

    @Test("Hyperliquid's documented examples")
    func documentedExamples() {
        let sz0 = Instrument(symbol: "X", szDecimals: 0), sz1 = Instrument(symbol: "Y", szDecimals: 1)
        #expect(sz0.isValidPrice(amount("1234.5")) && !sz0.isValidPrice(amount("1234.56")))
        #expect(sz0.isValidPrice(amount("0.001234")) && !sz0.isValidPrice(amount("0.0012345")))
        #expect(sz1.isValidPrice(amount("0.01234")) && !sz1.isValidPrice(amount("0.012345")))
        #expect(sz0.isValidPrice(amount("123456")) && !sz0.isValidPrice(amount("12345.6")))
        // Spot: 8 − szDecimals decimals.
        for szDecimals in 0...1 {
            #expect(Instrument(symbol: "S", szDecimals: szDecimals, isPerp: false).isValidPrice(amount("0.0001234")))
        }
        for szDecimals in 2...4 {
            #expect(!Instrument(symbol: "S", szDecimals: szDecimals, isPerp: false).isValidPrice(amount("0.0001234")))
        }
        #expect(Instrument(symbol: "S", szDecimals: 2, isPerp: false).maxPriceDecimals == 6)
    }

    @Test("prices below 1 keep five significant figures within the decimal cap")
    func smallPrices() {
        let sz0 = Instrument(symbol: "X", szDecimals: 0)
        #expect(sz0.roundPrice(amount("0.0123456")) == amount("0.012346"))
        #expect(sz0.roundPrice(amount("0.123456")) == amount("0.12346"))
        #expect(sz0.roundPrice(amount("1.234567")) == amount("1.2346"))
        #expect(sz0.roundPrice(amount("0.0012345")) == amount("0.001235"), "6 decimals bind before 5 figures")
        #expect(Instrument(symbol: "Y", szDecimals: 2).roundPrice(amount("0.0123456")) == amount("0.0123"))
        #expect(sz0.roundPrice(amount("9.99996")) == amount("10"))
    }

    @Test("isValidPrice and roundPrice agree with the rule for thousands of prices")
    func propertyAgainstReference() {
        var random = SplitMix64(seed: 2022)
        for _ in 0..<5_000 {
            let szDecimals = Int.random(in: 0...5, using: &random)
            let isPerp = Bool.random(using: &random)
            let instrument = Instrument(symbol: "P", szDecimals: szDecimals, isPerp: isPerp)
            let significand = UInt64.random(in: 1...9_999_999, using: &random)
            let exponent = Int.random(in: -9...3, using: &random)
            let price = Amount(Decimal(sign: .plus, exponent: exponent, significand: Decimal(significand)))
            #expect(
                instrument.isValidPrice(price) == Self.referenceIsValid(price, szDecimals: szDecimals, isPerp: isPerp),
                "\(price), szDecimals \(szDecimals), perp \(isPerp)")
            let rounded = instrument.roundPrice(price)
            if rounded.isPositive {
                #expect(Self.referenceIsValid(rounded, szDecimals: szDecimals, isPerp: isPerp), "\(price) → \(rounded)")
                #expect(instrument.roundPrice(rounded) == rounded, "idempotent")
                // Rounded at the scale of the fifth figure or of the decimal cap: at most half a step away.
                let halfTick = Amount(Decimal(sign: .plus, exponent: -(instrument.maxPriceDecimals + 1), significand: 5))
                #expect((rounded - price).magnitude <= max(price * amount("0.00005"), halfTick), "\(price) → \(rounded)")
            }
            if Self.referenceIsValid(price, szDecimals: szDecimals, isPerp: isPerp) { #expect(rounded == price) }
        }
    }

    @Test("sizes: at most szDecimals decimals, rounded down by default")
    func sizes() {
        let btc = Self.btc
        #expect(btc.isValidSize(amount("0.01078")))
        #expect(btc.isValidSize(amount("0.00001")))
        #expect(!btc.isValidSize(amount("0.000011")))
        #expect(btc.roundSize(amount("0.123456")) == amount("0.12345"))
        #expect(btc.roundSize(amount("0.123456"), .plain) == amount("0.12346"))
        #expect(btc.roundSize(amount("0.000009")) == 0)
        #expect(!btc.isValidSize(btc.roundSize(amount("0.000009"))), "zero is not a size")
        #expect(!btc.isValidSize(amount("-0.01")))
        let whole = Instrument(symbol: "PURR", szDecimals: 0)
        #expect(whole.roundSize(amount("2.7")) == 2)
        #expect(whole.isValidSize(3) && !whole.isValidSize(amount("3.5")))
    }

    @Test("Codable with its defaults")
    func codable() throws {
        let instrument = Instrument(symbol: "ETH", szDecimals: 4)
        #expect(instrument.isPerp && instrument.minOrderValue == 10)
        let back = try JSONDecoder().decode(Instrument.self, from: try JSONEncoder().encode(instrument))
        #expect(back == instrument)
    }
}

extension InstrumentTests {
    /// The rounding as it was first written: digits counted by printing the integer part.
    static func referenceRound(_ instrument: Instrument, _ price: Amount, _ mode: NSDecimalNumber.RoundingMode) -> Amount {
        if price.rounded(scale: 0, .down) == price { return price }
        let magnitude = price.decimal < 0 ? -price : price
        var integerDigits: Int
        if magnitude >= 1 {
            integerDigits = magnitude.rounded(scale: 0, .down).description.count
        } else {
            integerDigits = 0
            var scaled = magnitude
            while scaled < amount("0.1"), integerDigits > -40, !scaled.isZero {
                scaled = scaled * 10
                integerDigits -= 1
            }
        }
        let scale = min(instrument.maxPriceDecimals, Instrument.maxSignificantFigures - integerDigits)
        return price.rounded(scale: max(scale, 0), mode)
    }

    @Test("rounding matches the printed-digits rule, near powers of ten and on long microprices")
    func roundingMatchesReference() {
        var random = SplitMix64(seed: 47)
        let instruments = [0, 2, 4, 5].map { Instrument(symbol: "X\($0)", szDecimals: $0) }
        var prices = ["9.99999999999", "10", "99999.5", "99999.4999999", "100000.5", "0.0999999", "0.1", "999.99995"]
            .map(amount)
        for _ in 0..<1_000 {
            let base = Amount(Double(random.next() % 100_000_000) / 1_000 + 0.001)
            prices.append(base * amount("1.0000000000000000000000000000000000001") / amount("3"))
            prices.append(Amount(Decimal(sign: .plus, exponent: Int(random.next() % 8) - 3, significand: 1)) - amount("0.0000001"))
        }
        for instrument in instruments {
            for price in prices {
                for mode in [NSDecimalNumber.RoundingMode.plain, .down, .up] {
                    #expect(instrument.roundPrice(price, mode) == Self.referenceRound(instrument, price, mode), "\(price)")
                }
            }
        }
    }
}
