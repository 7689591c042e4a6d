import Foundation
import Recall
import Testing

@Suite struct ConfidenceAdjustmentTests {
    let adjustment = ConfidenceAdjustment()

    func neighbours(_ pnls: [Double]) -> [RecalledSetup] {
        pnls.enumerated().map { index, pnl in
            RecalledSetup(id: "n\(index)", distance: 0.1, outcome: SetupOutcome(pnlFraction: pnl, holdingBars: 5))
        }
    }

    @Test func tooFewNeighboursSayNothing() {
        #expect(adjustment.multiplier(for: []) == 1)
        #expect(adjustment.multiplier(for: neighbours([0.05, 0.05, 0.05, 0.05])) == 1)
        // Neighbours without an outcome do not count.
        let open = (0..<10).map { RecalledSetup(id: "o\($0)", distance: 0) }
        #expect(adjustment.multiplier(for: open + neighbours([0.05])) == 1)
    }

    @Test func followsTheDocumentedFormula() {
        // 10 wins of +1 %: edge 1, payoff tanh(1), reliability 10 / 20.
        let expected = 1 + 0.5 * ((1 + tanh(1)) / 2) * 0.5
        #expect(abs(adjustment.multiplier(for: neighbours(Array(repeating: 0.01, count: 10))) - expected) < 1e-12)
        // 10 losses of −1 %: the mirror image.
        #expect(
            abs(adjustment.multiplier(for: neighbours(Array(repeating: -0.01, count: 10))) - (2 - expected)) < 1e-12)
    }

    @Test func aCoinFlipWithNoPayoffIsNeutral() {
        #expect(abs(adjustment.multiplier(for: neighbours([0.01, -0.01, 0.02, -0.02, 0.005, -0.005])) - 1) < 1e-12)
    }

    @Test func smallWinsAndBigLossesAreNotAnEdge() {
        let multiplier = adjustment.multiplier(for: neighbours([0.002, 0.002, 0.002, 0.002, -0.05]))
        #expect(multiplier < 1.05)
    }

    @Test func staysWithinBounds() {
        let best = adjustment.multiplier(for: neighbours(Array(repeating: 1.0, count: 10_000)))
        let worst = adjustment.multiplier(for: neighbours(Array(repeating: -1.0, count: 10_000)))
        #expect(best <= 1.5 && best > 1.49)
        #expect(worst >= 0.5 && worst < 0.51)
        #expect(adjustment.multiplier(for: neighbours([.nan, .infinity, 0.01, 0.01, 0.01, 0.01, 0.01])) <= 1.5)
    }
}
