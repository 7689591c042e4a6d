import Foundation
import Schema
import Testing

@testable import Market

/// The fast venue-decimal parser must agree with `Amount(_: String)` on every input.
struct DecimalTextTests {
    @Test(arguments: [
        "0", "0.0", "61800.20", "-61800.20", "0.00000001", "000123.4500", "1000.00", "18446744073709551615",
        "99999999999999999999.5", "12345678901234567890123456789012345678", "-0", "", "-", ".", "1.", ".5", "1..2",
        "1e5", "+1", " 1", "1 ", "--1", "1-", "0x10", "١٢",
        "0.00000000000000000000000000000000000001", "0.000000000000000000000000000000000000001",
    ])
    func agreesWithAmount(_ text: String) {
        #expect(DecimalText.amount(text) == Amount(text))
    }

    @Test func agreesWithAmountOnRandomPrices() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let integer = UInt64.random(in: 0...10_000_000, using: &generator)
            let decimals = Int.random(in: 0...8, using: &generator)
            let fraction = (0..<decimals).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            let text = decimals == 0 ? "\(integer)" : "\(integer).\(fraction)"
            let parsed = DecimalText.amount(text)
            #expect(parsed == Amount(text), "\(text)")
            #expect(parsed?.description == Amount(text)?.description, "\(text)")
        }
    }
}
