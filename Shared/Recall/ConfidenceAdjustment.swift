import Foundation

/// Turns recalled neighbours into a multiplier for a signal's confidence, in `[1 − maxAdjustment,
/// 1 + maxAdjustment]` (by default [0.5, 1.5]).
///
/// Only neighbours with a known outcome count. With fewer than `minimumNeighbours` of them the answer is
/// exactly 1 (recall says nothing). Otherwise, for `n` neighbours with win rate `w` and mean P&L `m`:
///
///     edge        = 2·w − 1                     win rate as −1…1 (0 at a coin flip)
///     payoff      = tanh(m / pnlScale)          mean P&L as −1…1 (pnlScale = 1 % by default)
///     score       = (edge + payoff) / 2         −1…1
///     reliability = n / (n + priorWeight)       shrinks small samples toward "no information"
///     multiplier  = 1 + maxAdjustment · score · reliability
///
/// Win rate and payoff both count because a high win rate with a negative mean P&L (small wins, big
/// losses) is not an edge. Neighbours are weighted equally: `k` is small and they are already the nearest.
public struct ConfidenceAdjustment: Sendable, Equatable {
    public var minimumNeighbours: Int
    /// Mean P&L (fraction) at which the payoff term reaches tanh(1) ≈ 0.76.
    public var pnlScale: Double
    /// Pseudo-count of "no information" neighbours; 10 halves the effect of 10 real ones.
    public var priorWeight: Double
    /// Largest change of the multiplier away from 1.
    public var maxAdjustment: Double

    public init(
        minimumNeighbours: Int = 5, pnlScale: Double = 0.01, priorWeight: Double = 10, maxAdjustment: Double = 0.5
    ) {
        precondition(minimumNeighbours >= 1, "minimumNeighbours must be at least 1")
        precondition(pnlScale > 0, "pnlScale must be positive")
        precondition(priorWeight >= 0, "priorWeight must not be negative")
        precondition(maxAdjustment >= 0 && maxAdjustment < 1, "maxAdjustment must be in [0, 1)")
        self.minimumNeighbours = minimumNeighbours
        self.pnlScale = pnlScale
        self.priorWeight = priorWeight
        self.maxAdjustment = maxAdjustment
    }

    public func multiplier(for neighbours: [RecalledSetup]) -> Double {
        let outcomes = neighbours.compactMap(\.outcome).filter { $0.pnlFraction.isFinite }
        guard outcomes.count >= minimumNeighbours else { return 1 }
        let n = Double(outcomes.count)
        let winRate = Double(outcomes.count(where: \.isWin)) / n
        let meanPnl = outcomes.reduce(0) { $0 + $1.pnlFraction } / n
        let score = ((2 * winRate - 1) + tanh(meanPnl / pnlScale)) / 2
        let reliability = n / (n + priorWeight)
        let multiplier = 1 + maxAdjustment * score * reliability
        return min(1 + maxAdjustment, max(1 - maxAdjustment, multiplier))
    }
}
