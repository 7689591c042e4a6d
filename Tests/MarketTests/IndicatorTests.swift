import Schema
import Foundation
import Market
import Testing

/// Feeds a series and collects every output.
func outputs<Indicator>(
    _ indicator: inout Indicator, _ inputs: [Double], _ update: (inout Indicator, Double) -> Double?
) -> [Double?] {
    inputs.map { update(&indicator, $0) }
}

func expectSeries(
    _ actual: [Double?], _ expected: [Double?], tolerance: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (index, (value, wanted)) in zip(actual, expected).enumerated() {
        switch (value, wanted) {
        case (nil, nil): continue
        case (let value?, let wanted?):
            #expect(
                abs(value - wanted) <= tolerance, "at \(index): \(value) ≠ \(wanted)", sourceLocation: sourceLocation)
        default:
            Issue.record(
                "at \(index): \(String(describing: value)) ≠ \(String(describing: wanted))",
                sourceLocation: sourceLocation)
        }
    }
}

struct IndicatorTests {
    @Test func simpleMovingAverage() {
        var sma = SimpleMovingAverage(period: 3)
        expectSeries(outputs(&sma, [1, 2, 3, 4, 5, 9], { $0.update($1) }), [nil, nil, 2, 3, 4, 6])
        #expect(sma.value == 6)
        var single = SimpleMovingAverage(period: 1)
        #expect(single.update(7) == 7)
    }

    @Test func exponentialMovingAverageSeededWithTheSimpleAverage() {
        // alpha = 2 / (3 + 1) = 0.5; the seed is the mean of 1, 2, 3.
        var ema = ExponentialMovingAverage(period: 3)
        #expect(ema.seed == .simpleAverage && ema.alpha == 0.5)
        expectSeries(outputs(&ema, [1, 2, 3, 4, 5, 1], { $0.update($1) }), [nil, nil, 2, 3, 4, 2.5])
    }

    @Test func exponentialMovingAverageSeededWithTheFirstValue() {
        // 1 → 1.5 → 2.25 (first reported) → 3.125 → 4.0625.
        var ema = ExponentialMovingAverage(period: 3, seed: .firstValue)
        expectSeries(outputs(&ema, [1, 2, 3, 4, 5], { $0.update($1) }), [nil, nil, 2.25, 3.125, 4.0625])
    }

    @Test func relativeStrengthIndexHasTheSignalGeneratorsShape() {
        var rsi = RelativeStrengthIndex(period: 14)
        let closes = (0..<14).map { Double($0) }
        #expect(closes.compactMap { rsi.update($0) }.isEmpty, "14 closes are 13 changes: still warming up")
        #expect(rsi.update(14) == 100, "only gains")
    }

    @Test func relativeStrengthIndexByHand() {
        // Changes +1, −1, +2, −3. Seed: gain 0.5, loss 0.5 → 50.
        // Then gain (0.5 + 2) / 2 = 1.25, loss 0.5 / 2 = 0.25 → 100 × 1.25 / 1.5.
        // Then gain 1.25 / 2 = 0.625, loss (0.25 + 3) / 2 = 1.625 → 100 × 0.625 / 2.25.
        var rsi = RelativeStrengthIndex(period: 2)
        expectSeries(
            outputs(&rsi, [1, 2, 1, 3, 0], { $0.update($1) }),
            [nil, nil, 50, 100 * 1.25 / 1.5, 100 * 0.625 / 2.25])
    }

    @Test func relativeStrengthIndexOfAFlatStartIsNeutral() {
        var rsi = RelativeStrengthIndex(period: 3)
        expectSeries(outputs(&rsi, [5, 5, 5, 5, 4], { $0.update($1) }), [nil, nil, nil, 50, 0])
    }

    @Test func averageTrueRangeByHand() {
        // TR: 2 (first bar: high − low); max(3, 3, 0) = 3 → ATR 2.5;
        // max(1, 0, 1) = 1 → (2.5 + 1) / 2 = 1.75; a gap up: max(1, 4.5, 3.5) = 4.5 → 3.125.
        var atr = AverageTrueRange(period: 2)
        let bars: [(Double, Double, Double)] = [(10, 8, 9), (12, 9, 11), (11, 10, 10.5), (15, 14, 14.5)]
        expectSeries(bars.map { atr.update(high: $0.0, low: $0.1, close: $0.2) }, [nil, 2.5, 1.75, 3.125])
    }

    @Test func bollingerBandsByHand() throws {
        // 1, 2, 3, 4: mean 2.5, population variance 1.25.
        var bands = BollingerBands(period: 4, k: 2)
        #expect(bands.update(1) == nil && bands.update(2) == nil && bands.update(3) == nil)
        let latest = bands.update(4)
        let value = try #require(latest)
        let deviation = 1.25.squareRoot()
        #expect(abs(value.middle - 2.5) < 1e-15)
        #expect(abs(value.standardDeviation - deviation) < 1e-15)
        #expect(abs(value.upper - (2.5 + 2 * deviation)) < 1e-14)
        #expect(abs(value.lower - (2.5 - 2 * deviation)) < 1e-14)
        #expect(abs(value.bandwidth - 4 * deviation / 2.5 * 100) < 1e-12)
        #expect(abs(try #require(value.percentB) - (4 - (2.5 - 2 * deviation)) / (4 * deviation)) < 1e-14)
    }

    @Test func bollingerBandsOfAFlatSeriesHaveNoPercentB() throws {
        var bands = BollingerBands(period: 3, k: 2)
        _ = bands.update(7)
        _ = bands.update(7)
        let latest = bands.update(7)
        let value = try #require(latest)
        #expect(value.upper == 7 && value.lower == 7 && value.bandwidth == 0 && value.percentB == nil)
    }

    @Test func rateOfChangeInPercent() {
        var roc = RateOfChange(period: 2)
        expectSeries(outputs(&roc, [100, 110, 121, 99], { $0.update($1) }), [nil, nil, 21, -10])
    }

    @Test func realisedVolatilityIsTheSampleDeviationOfLogReturns() {
        // Two returns a and b: the sample std dev is |a − b| / √2.
        let up = log(1.1)
        let down = log(0.9)
        let expected = abs(up - down) / 2.0.squareRoot()
        var perBar = RealisedVolatility(period: 2)
        expectSeries(outputs(&perBar, [100, 110, 99, 108.9], { $0.update($1) }), [nil, nil, expected, expected])
        var annual = RealisedVolatility(period: 2, annualisationFactor: 4)
        expectSeries(outputs(&annual, [100, 110, 99], { $0.update($1) }), [nil, nil, 2 * expected])
        var flat = RealisedVolatility(period: 3)
        expectSeries(outputs(&flat, [5, 5, 5, 5], { $0.update($1) }), [nil, nil, nil, 0])
    }

    /// A long random walk: the O(1) SMA agrees with a plain recomputation (no drift).
    @Test func movingAverageDoesNotDriftOverALongSeries() {
        var generator = SplitMix64(seed: 7)
        var sma = SimpleMovingAverage(period: 50)
        var closes: [Double] = []
        var price = 40_000.0
        for _ in 0..<100_000 {
            price += Double.random(in: -20...20, using: &generator)
            closes.append(price)
            if let value = sma.update(price) {
                let window = closes.suffix(50)
                let plain = window.reduce(0, +) / 50
                #expect(isClose(value, plain, relative: 1e-12))
            }
        }
    }
}
