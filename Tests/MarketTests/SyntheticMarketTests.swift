import Foundation
import Market
import Schema
import Testing
import TestSupport

/// `count` candles of one coin, with the regime after each.
private func syntheticCandles(_ settings: SyntheticMarket.Settings, count: Int) -> (candles: [Candle], phases: [SyntheticMarket.Phase]) {
    var market = SyntheticMarket(settings: settings)
    var candles: [Candle] = []
    var phases: [SyntheticMarket.Phase] = []
    for _ in 0..<count {
        candles.append(market.nextCandle())
        phases.append(market.phase)
    }
    return (candles, phases)
}

/// Close-to-close log returns.
private func logReturns(_ candles: [Candle]) -> [Double] {
    zip(candles, candles.dropFirst()).map { log($1.close.doubleValue / $0.close.doubleValue) }
}

@Suite("Synthetic market")
struct SyntheticMarketTests {
    static let count = 2_500

    @Test("the same seeds give identical candles; another own seed does not")
    func deterministic() {
        let settings = SyntheticMarket.Settings(seed: 11, marketSeed: 5, beta: 0.7)
        let first = syntheticCandles(settings, count: 300)
        let second = syntheticCandles(settings, count: 300)
        #expect(first.candles == second.candles)
        #expect(first.phases == second.phases)
        var other = settings
        other.seed = 12
        #expect(syntheticCandles(other, count: 300).candles != first.candles)
    }

    @Test("one market seed, beta 0.9: strongly correlated returns and the same regimes")
    func sharedMarketMovesTogether() {
        let a = syntheticCandles(.init(seed: 1, marketSeed: 7, beta: 0.9), count: Self.count)
        let b = syntheticCandles(
            .init(seed: 2, startPrice: 3_300, tick: "0.01", marketSeed: 7, beta: 0.9), count: Self.count)
        let correlation = pearson(logReturns(a.candles), logReturns(b.candles))
        #expect(correlation > 0.6, "\(correlation)")
        #expect(a.phases == b.phases)
        #expect(Set(a.phases).count == 4, "the run covers every regime, so the comparison means something")
    }

    @Test("different market seeds: uncorrelated returns and different regimes", arguments: [0.9, 0])
    func separateMarketsDoNot(beta: Double) {
        let a = syntheticCandles(.init(seed: 1, marketSeed: 7, beta: beta), count: Self.count)
        let b = syntheticCandles(.init(seed: 2, marketSeed: 8, beta: beta), count: Self.count)
        let correlation = pearson(logReturns(a.candles), logReturns(b.candles))
        #expect(abs(correlation) < 0.15, "\(correlation)")
        #expect(a.phases != b.phases)
    }

    /// The shared regimes' drifts move coins of one market together even at beta 0; the common
    /// shock adds to that as beta grows.
    @Test("one market seed: the regimes agree at any beta, and a higher beta correlates more")
    func regimesCorrelateAndBetaAddsToIt() {
        let a = syntheticCandles(.init(seed: 1, marketSeed: 7, beta: 0), count: Self.count)
        let b = syntheticCandles(.init(seed: 2, marketSeed: 7, beta: 0), count: Self.count)
        #expect(a.phases == b.phases)
        let atZero = pearson(logReturns(a.candles), logReturns(b.candles))
        let c = syntheticCandles(.init(seed: 1, marketSeed: 7, beta: 0.9), count: Self.count)
        let d = syntheticCandles(.init(seed: 2, marketSeed: 7, beta: 0.9), count: Self.count)
        let atHigh = pearson(logReturns(c.candles), logReturns(d.candles))
        #expect(atZero > 0.2 && atZero < atHigh - 0.1, "beta 0: \(atZero), beta 0.9: \(atHigh)")
    }

    @Test("without a market seed two coins move alone")
    func legacyCoinsAreIndependent() {
        let a = syntheticCandles(.init(seed: 1), count: Self.count)
        let b = syntheticCandles(.init(seed: 2), count: Self.count)
        let correlation = pearson(logReturns(a.candles), logReturns(b.candles))
        #expect(abs(correlation) < 0.15, "\(correlation)")
    }

    @Test("beta is clamped to 0…1")
    func betaClamped() {
        #expect(SyntheticMarket.Settings(beta: 1.5).beta == 1)
        #expect(SyntheticMarket.Settings(beta: -0.2).beta == 0)
    }

    /// Pinned from the single-generator path (checked against the code before `marketSeed` existed):
    /// a change here changes every recorded paper market and replay.
    @Test("without a market seed the candles are the legacy single-generator ones")
    func legacyPathPinned() {
        let legacy = syntheticCandles(.init(), count: 500).candles
        #expect(legacy[0].close == Amount("50015.6"))
        #expect(legacy[1].close == Amount("50018.9"))
        #expect(legacy[99].close == Amount("49246.7"))
        #expect(legacy[499].close == Amount("119206.8"))
        #expect(legacy[0].openTime == 1_704_067_200_000_000_000 && legacy[1].openTime == 1_704_067_260_000_000_000)

        let eth = syntheticCandles(.init(seed: 7, startPrice: 3_300, tick: "0.01"), count: 300).candles
        #expect(eth[0].open == 3_300)
        #expect(eth[0].high == Amount("3301.36") && eth[0].low == Amount("3297.42"))
        #expect(eth[0].close == Amount("3298.6") && eth[0].volume == 2_288_904)
        #expect(eth[299].close == Amount("3537.7"))
        // A market seed changes the path (beta 0 keeps the own shocks but the regime draws move).
        #expect(syntheticCandles(.init(marketSeed: 1), count: 500).candles != legacy)
    }
}
