import Foundation
import Ledger
import Schema

/// A fill for tests: size and price as exact literals, everything else defaulted.
func fill(
    _ fillId: String, _ side: Side, _ size: Amount, at price: Amount, fee: Amount = 0, symbol: String? = "BTC",
    strategy: String = "trend", time: EpochNanos = 0
) -> Fill {
    var fill = Fill(
        fillId: fillId, clientOrderId: "cl-\(fillId)", symbol: symbol ?? "", side: side, price: price, size: size,
        fee: fee, liquidity: .taker, purpose: .entry, strategy: strategy, time: time)
    fill.symbol = symbol
    return fill
}

/// Applies a fill that must be accepted and returns its report.
@discardableResult
func book(_ fill: Fill, into ledger: inout FifoLedger) throws -> FillReport {
    let outcome = try ledger.apply(fill)
    guard let report = outcome.report else { throw TestFailure("fill \(fill.fillId) was a duplicate") }
    return report
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// SplitMix64: a tiny deterministic generator, so a failing property test can be replayed by its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An exact decimal with `decimals` places: a random integer in `units` scaled down.
    mutating func amount(_ units: ClosedRange<Int>, decimals: Int) -> Amount {
        let units = Int.random(in: units, using: &self)
        return Amount(Decimal(sign: units < 0 ? .minus : .plus, exponent: -decimals, significand: Decimal(abs(units))))
    }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
}
