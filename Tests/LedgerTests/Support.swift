import Foundation
import Ledger
import Schema
import TestSupport

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

/// Draws for property tests: a failing one can be replayed by its seed.
extension SplitMix64 {
    /// An exact decimal with `decimals` places: a random integer in `units` scaled down.
    mutating func amount(_ units: ClosedRange<Int>, decimals: Int) -> Amount {
        let units = Int.random(in: units, using: &self)
        return Amount(Decimal(sign: units < 0 ? .minus : .plus, exponent: -decimals, significand: Decimal(abs(units))))
    }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
}
