import Foundation
import Market
import Schema
import Testing

struct RegimeClassifierTests {
    /// Small periods so a synthetic series warms up quickly.
    static let config = RegimeConfig(
        fastPeriod: 5, slowPeriod: 20, atrPeriod: 10, volatilityPeriod: 10, highVolatilityThreshold: 0.01,
        trendEntryThreshold: 1.0, trendExitThreshold: 0.5)

    struct SyntheticBar {
        var high: Double
        var low: Double
        var close: Double
    }

    /// Closes with a range of ± `halfRange` around each.
    static func bars(_ closes: [Double], halfRange: Double) -> [SyntheticBar] {
        closes.map { SyntheticBar(high: $0 + halfRange, low: $0 - halfRange, close: $0) }
    }

    static func run(_ bars: [SyntheticBar], config: RegimeConfig = config) -> [RegimeReading?] {
        var classifier = RegimeClassifier(config: config)
        return bars.map { classifier.update(high: $0.high, low: $0.low, close: $0.close) }
    }

    @Test func warmsUpUntilEveryInputIsReady() {
        let readings = Self.run(Self.bars((0..<25).map { 100 + Double($0) * 0.1 }, halfRange: 0.05))
        // The slow SMA needs 20 closes; realised volatility needs 11, ATR 10.
        #expect(readings.prefix(19).allSatisfy { $0 == nil })
        #expect(readings[19] != nil)
    }

    @Test func aSteadyRiseIsTrendingUp() throws {
        // +0.1 % a bar: tiny, even returns (no volatility), fast SMA well above slow.
        let closes = (0..<60).map { 100 * pow(1.001, Double($0)) }
        let reading = try #require(Self.run(Self.bars(closes, halfRange: 0.05)).last!)
        #expect(reading.regime == .trendingUp)
        #expect(reading.trendStrength > 1)
        #expect(reading.realisedVolatility < 0.001)
        #expect(reading.fastAverage > reading.slowAverage)
    }

    @Test func aSteadyFallIsTrendingDown() throws {
        let closes = (0..<60).map { 100 * pow(0.999, Double($0)) }
        let reading = try #require(Self.run(Self.bars(closes, halfRange: 0.05)).last!)
        #expect(reading.regime == .trendingDown)
        #expect(reading.trendStrength < -1)
    }

    @Test func aQuietOscillationIsRanging() throws {
        // ±0.1 around 100: no drift, returns of ±0.2 %.
        let closes = (0..<60).map { 100 + ($0.isMultiple(of: 2) ? 0.1 : -0.1) }
        let readings = Self.run(Self.bars(closes, halfRange: 0.1))
        let reading = try #require(readings.last!)
        #expect(reading.regime == .ranging)
        #expect(abs(reading.trendStrength) < 0.5)
        #expect(readings.compactMap { $0?.regime }.allSatisfy { $0 == .ranging })
    }

    @Test func wildSwingsAreHighVolatilityEvenInATrend() throws {
        // A rise of 0.5 % a bar with ±3 % swings on top: returns of about ±6 %.
        let closes = (0..<60).map { 100 * pow(1.005, Double($0)) * ($0.isMultiple(of: 2) ? 1.03 : 0.97) }
        let reading = try #require(Self.run(Self.bars(closes, halfRange: 1)).last!)
        #expect(reading.regime == .highVolatility)
        #expect(reading.realisedVolatility > 0.05)
        #expect(reading.trendStrength > 0, "the trend is there, volatility wins")
    }

    @Test func aFadingTrendHoldsUntilTheExitThreshold() {
        // A rise, then flat: the fast SMA catches up with the price and the strength fades.
        let closes = (0..<60).map { 100 * pow(1.001, Double($0)) } + Array(repeating: 100 * pow(1.001, 59), count: 40)
        let bars = Self.bars(closes, halfRange: 0.05)
        var noHysteresis = Self.config
        noHysteresis.trendExitThreshold = noHysteresis.trendEntryThreshold
        let held = Self.run(bars)
        let plain = Self.run(bars, config: noHysteresis)
        var heldBars = 0
        for (withHysteresis, without) in zip(held, plain) {
            guard let withHysteresis, let without, withHysteresis.regime != without.regime else { continue }
            heldBars += 1
            #expect(withHysteresis.regime == .trendingUp && without.regime == .ranging)
            #expect(withHysteresis.trendStrength >= 0.5 && withHysteresis.trendStrength < 1)
        }
        #expect(heldBars > 0, "the strength passes through [exit, entry)")
        #expect(held.last??.regime == .ranging, "once flat, the trend is over")
    }

    @Test func tradeBarsFeedTheClassifier() throws {
        var classifier = RegimeClassifier(config: Self.config)
        var last: RegimeReading?
        for (index, close) in (0..<30).map({ 100 * pow(1.001, Double($0)) }).enumerated() {
            let price = Amount(close).rounded(scale: 4)
            let bar = TradeBar(
                symbol: "BTC", intervalSeconds: 60, openTime: Int64(index) * 60_000_000_000, open: price,
                high: price + Amount("0.05"), low: price - Amount("0.05"), close: price, baseVolume: 1,
                quoteVolume: price, tradeCount: 1)
            last = classifier.update(bar: bar)
        }
        #expect(try #require(last).regime == .trendingUp)
        #expect(classifier.regime == .trendingUp)
    }

    @Test func configDecodesWithDefaultsAndRoundTrips() throws {
        let partial = try JSONDecoder().decode(RegimeConfig.self, from: Data(#"{"slowPeriod": 100}"#.utf8))
        var expected = RegimeConfig()
        expected.slowPeriod = 100
        #expect(partial == expected)
        let encoded = try JSONEncoder().encode(Self.config)
        #expect(try JSONDecoder().decode(RegimeConfig.self, from: encoded) == Self.config)
        #expect(throws: Never.self) { try RegimeConfig().validate() }
    }

    @Test func invalidConfigsListEveryProblem() {
        let bad = RegimeConfig(
            fastPeriod: 30, slowPeriod: 20, atrPeriod: 0, volatilityPeriod: 1, highVolatilityThreshold: 0,
            trendEntryThreshold: 1, trendExitThreshold: 2)
        do {
            try bad.validate()
            Issue.record("an invalid config passed validation")
        } catch {
            #expect(error.problems.count == 5)
        }
    }
}

/// The default config over a month of real 1-minute BTC candles.
@Suite(
    .enabled(
        if: Fixtures.hasData,
        "shared/data is absent (expected beside the package root): the real-candle regime check is skipped"))
struct RegimeOnRealCandlesTests {
    @Test("the defaults see all four regimes in January 2022, none dominating")
    func defaultsSeparateRealRegimes() throws {
        let candles = try Fixtures.readCSV(Fixtures.candlesFile)
        let high = try #require(candles.header.firstIndex(of: "high"))
        let low = try #require(candles.header.firstIndex(of: "low"))
        let close = try #require(candles.header.firstIndex(of: "close"))
        var classifier = RegimeClassifier()
        var counts: [Regime: Int] = [:]
        for row in candles.rows {
            let reading = classifier.update(
                high: try #require(Double(row[high])), low: try #require(Double(row[low])),
                close: try #require(Double(row[close])))
            if let reading { counts[reading.regime, default: 0] += 1 }
        }
        let total = counts.values.reduce(0, +)
        #expect(total == candles.rows.count - 49, "readings from the 50th bar (the slow SMA) on")
        for regime in Regime.allCases {
            let share = Double(counts[regime, default: 0]) / Double(total)
            #expect(share > 0.02 && share < 0.8, "\(regime): \(share)")
        }
        print(
            "regimes over \(total) real bars: "
                + Regime.allCases.map { "\($0) \(counts[$0, default: 0])" }.joined(separator: ", "))
    }
}
