import Market
import Schema
import Strategy
import Testing

/// Bars with high = low = close, one minute apart, for the desk's symbol.
func flatBars(_ closes: [Double], symbol: String = "BTC", start: Int64 = 0) -> [Bar] {
    closes.enumerated().map { index, close in
        let price = Amount(close)
        return Bar(
            symbol: symbol, intervalSeconds: 60, openTime: start + Int64(index) * 60_000_000_000, open: price,
            high: price, low: price, close: price, volume: 1_000)
    }
}

/// A classifier that settles in a few bars: SMA(2) vs SMA(4) in ATR(2)s, volatility over
/// 3 returns above 5 % per bar is high.
let quickRegimes = RegimeConfig(
    fastPeriod: 2, slowPeriod: 4, atrPeriod: 2, volatilityPeriod: 3, highVolatilityThreshold: 0.05,
    trendEntryThreshold: 0.5, trendExitThreshold: 0.25)

func deskSettings(
    cooldownBars: Int = 0, maxBarAgeNanos: Int64? = nil, regimes: RegimeSelection? = nil
) -> StrategyDesk.Settings {
    StrategyDesk.Settings(
        instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000, cooldownBars: cooldownBars,
        maxBarAgeNanos: maxBarAgeNanos, regimeSelection: regimes)
}

@Suite("Regime selection")
struct RegimeSelectionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var regime: Regime
        var style: StrategyStyle
        var direction: Direction
        var admitted: Bool
        var testDescription: String { "\(regime) \(style.rawValue) \(direction)" }
    }

    static let table: [Row] = [
        Row(regime: .ranging, style: .meanReversion, direction: .long, admitted: true),
        Row(regime: .ranging, style: .meanReversion, direction: .short, admitted: true),
        Row(regime: .ranging, style: .trendFollowing, direction: .long, admitted: false),
        Row(regime: .ranging, style: .trendFollowing, direction: .short, admitted: false),
        Row(regime: .trendingUp, style: .meanReversion, direction: .long, admitted: false),
        Row(regime: .trendingUp, style: .meanReversion, direction: .short, admitted: false),
        Row(regime: .trendingUp, style: .trendFollowing, direction: .long, admitted: true),
        Row(regime: .trendingUp, style: .trendFollowing, direction: .short, admitted: false),
        Row(regime: .trendingDown, style: .meanReversion, direction: .long, admitted: false),
        Row(regime: .trendingDown, style: .meanReversion, direction: .short, admitted: false),
        Row(regime: .trendingDown, style: .trendFollowing, direction: .long, admitted: false),
        Row(regime: .trendingDown, style: .trendFollowing, direction: .short, admitted: true),
        Row(regime: .highVolatility, style: .meanReversion, direction: .long, admitted: false),
        Row(regime: .highVolatility, style: .meanReversion, direction: .short, admitted: false),
        Row(regime: .highVolatility, style: .trendFollowing, direction: .long, admitted: false),
        Row(regime: .highVolatility, style: .trendFollowing, direction: .short, admitted: false),
    ]

    @Test("the standard table", arguments: table)
    func standardTable(_ row: Row) {
        #expect(RegimeSelection.standard().admits(row.style, row.direction, in: row.regime) == row.admitted)
        #expect(!RegimeSelection.standard().admits(row.style, .flat, in: row.regime))
    }

    @Test("the table is configurable, and a bad name is refused with every problem")
    func configurable() throws {
        var selection = RegimeSelection.standard()
        selection.set(.both, for: .trendFollowing, in: .highVolatility)
        #expect(selection.admits(.trendFollowing, .short, in: .highVolatility))

        let parsed = try RegimeSelection(parsing: [
            "ranging": ["mean_reversion": "long_only"], "trendingUp": ["trend_following": "both"],
        ])
        #expect(parsed.admits(.meanReversion, .long, in: .ranging))
        #expect(!parsed.admits(.meanReversion, .short, in: .ranging))
        #expect(parsed.admits(.trendFollowing, .short, in: .trendingUp))
        #expect(!parsed.admits(.trendFollowing, .short, in: .trendingDown))

        do {
            _ = try RegimeSelection(parsing: [
                "sideways": [:], "ranging": ["momentum": "both", "trend_following": "maybe"],
            ])
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 3, "\(error.problems)")
        }
    }

    /// Series that put the quick classifier in each regime by their last bar.
    static let scenarios: [(Regime, [Double])] = [
        (.trendingUp, (0..<10).map { 100 + Double($0) }),
        (.trendingDown, (0..<10).map { 100 - Double($0) }),
        (.ranging, (0..<10).map { $0 % 2 == 0 ? 100 : 101 }),
        (.highVolatility, (0..<10).map { $0 % 2 == 0 ? 100 : 120 }),
    ]

    @Test("the desk selects by the classifier's regime", arguments: [Direction.long, .short])
    func deskSelects(_ direction: Direction) throws {
        for (regime, series) in Self.scenarios {
            let script: [Direction?] = Array(repeating: nil, count: series.count - 1) + [direction]
            var desk = StrategyDesk(
                strategies: [
                    ScriptedStrategy(name: "reverting", style: .meanReversion, script: script),
                    ScriptedStrategy(name: "trending", style: .trendFollowing, script: script),
                ], settings: deskSettings(regimes: .standard(classifier: quickRegimes)))
            let last = try #require(desk.run(flatBars(series)).last)
            #expect(last.regime?.regime == regime)
            let selection = RegimeSelection.standard()
            let expected: [ReasonCode] = [StrategyStyle.meanReversion, .trendFollowing].map {
                selection.admits($0, direction, in: regime) ? .approved : .regimeMismatch
            }
            #expect(last.codes == expected, "\(regime) \(direction)")
            #expect(last.intents.count == expected.filter { $0 == .approved }.count)
            #expect(last.signals.allSatisfy { $0.indicators["regime_trend_strength"] != nil })
        }
    }

    @Test("while the classifier warms up nothing trades, and says so")
    func classifierWarmingUp() {
        var desk = StrategyDesk(
            strategies: [ScriptedStrategy(name: "trending", style: .trendFollowing, script: [.long, .long])],
            settings: deskSettings(regimes: .standard(classifier: quickRegimes)))
        let outputs = desk.run(flatBars([100, 101]))
        #expect(outputs.map(\.codes) == [[.warmingUp], [.warmingUp]])
        #expect(outputs.allSatisfy { $0.regime == nil && $0.intents.isEmpty })
    }

    @Test("out of its regime a strategy with no view is still a regime mismatch; in it, below threshold")
    func noViewOutsideRegime() throws {
        let series = (0..<10).map { 100 + Double($0) }  // trending up
        var desk = StrategyDesk(
            strategies: [
                ScriptedStrategy(name: "reverting", style: .meanReversion, script: []),
                ScriptedStrategy(name: "trending", style: .trendFollowing, script: []),
            ], settings: deskSettings(regimes: .standard(classifier: quickRegimes)))
        let last = try #require(desk.run(flatBars(series)).last)
        #expect(last.codes == [.regimeMismatch, .belowThreshold])
    }
}

@Suite("Strategy desk")
struct StrategyDeskTests {
    @Test("cooldown: no entry for N bars after one, then the flip goes through")
    func cooldown() {
        let script: [Direction?] = [.long, .short, .short, .short, .short]
        var desk = StrategyDesk(
            strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: script)],
            settings: deskSettings(cooldownBars: 3))
        let outputs = desk.run(flatBars([100, 100, 100, 100, 100]))
        #expect(outputs.map(\.codes) == [[.approved], [.cooldown], [.cooldown], [.cooldown], [.approved]])
        #expect(outputs[4].intents.first?.side == .sell)
        #expect(outputs[4].intents.first?.size == Amount(20))  // from +10 to −10
        #expect(desk.intendedPosition == -10)
    }

    @Test("a rejected entry rolls back its position and its cooldown")
    func rejectionRollsBackCooldown() throws {
        var desk = StrategyDesk(
            strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: [.long, .short])],
            settings: deskSettings(cooldownBars: 3))
        let ids = IdentifierSource()
        let first = desk.onBar(flatBars([100])[0], now: 0, newIdentifier: ids.next)
        let intent = try #require(first.intents.first)
        #expect(intent.origin == first.signals[0].signalId)
        #expect(desk.pendingIntentCount == 1)
        desk.onDecision(
            RiskDecision(
                intentId: intent.intentId, symbol: "BTC", outcome: .rejected, reasons: [Reason(.maxOpenPositions)],
                requestedSize: intent.size, approvedSize: 0, clientOrderId: nil))
        #expect(desk.intendedPosition == .zero)
        #expect(desk.positionStrategy == nil)
        let second = desk.onBar(flatBars([100, 100])[1], now: 0, newIdentifier: ids.next)
        #expect(second.codes == [.approved])
        #expect(second.intents.first?.size == 10)
        #expect(desk.intendedPosition == -10)
    }

    @Test("a resize keeps the approved part of the change")
    func resize() throws {
        var desk = StrategyDesk(
            strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: [.long, .short])],
            settings: deskSettings())
        let outputs = desk.run(flatBars([100, 100]))
        let flip = try #require(outputs[1].intents.first)
        #expect(flip.size == 20)
        desk.onDecision(
            RiskDecision(
                intentId: flip.intentId, symbol: "BTC", outcome: .resized, reasons: [], requestedSize: 20,
                approvedSize: 15, clientOrderId: "0x1"))
        #expect(desk.intendedPosition == -5)
    }

    @Test("one intent per bar: a second strategy is superseded or already positioned")
    func oneIntentPerBar() {
        var desk = StrategyDesk(
            strategies: [
                ScriptedStrategy(name: "first", style: .meanReversion, script: [.long, .long]),
                ScriptedStrategy(name: "second", style: .trendFollowing, script: [.short, .long]),
            ], settings: deskSettings())
        let outputs = desk.run(flatBars([100, 100]))
        #expect(outputs[0].codes == [.approved, .superseded])
        #expect(outputs[1].codes == [.alreadyPositioned, .alreadyPositioned])
        #expect(outputs.flatMap(\.intents).count == 1)
        #expect(desk.positionStrategy == "first")
        // Every evaluation is a signal with its own id.
        let ids = outputs.flatMap(\.signals).map(\.signalId)
        #expect(Set(ids).count == 4)
    }

    @Test("a duplicate bar is rejected for every strategy and feeds no indicator")
    func duplicate() throws {
        let series = flatBars([100, 99, 98, 99, 97, 96])
        var plain = StrategyDesk(presets: [.rsiTight, .smaFast], settings: deskSettings())
        var repeated = StrategyDesk(presets: [.rsiTight, .smaFast], settings: deskSettings())
        let expected = plain.run(series)
        var observed: [StrategyDesk.Output] = []
        for (index, bar) in series.enumerated() {
            observed.append(repeated.onBar(bar, now: 0, newIdentifier: { "x" }))
            if index == 2 {
                let again = repeated.onBar(series[1], now: 0, newIdentifier: { "x" })
                #expect(again.codes == [.duplicate, .duplicate])
                #expect(again.intents.isEmpty)
            }
        }
        #expect(observed.map { $0.signals.map(\.indicators) } == expected.map { $0.signals.map(\.indicators) })
    }

    @Test("stale data: a stale feed or an old bar opens nothing; an ended feed does not block")
    func staleData() {
        let bar = flatBars([100])[0]
        let closeTime: Int64 = 60_000_000_000
        func desk() -> StrategyDesk {
            StrategyDesk(
                strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: [.long, .long])],
                settings: deskSettings(maxBarAgeNanos: 2_000_000_000))
        }
        var fresh = desk()
        #expect(fresh.onBar(bar, now: closeTime + 2_000_000_000, newIdentifier: { "a" }).codes == [.approved])
        var old = desk()
        let late = old.onBar(bar, now: closeTime + 2_000_000_001, newIdentifier: { "a" })
        #expect(late.codes == [.staleData])
        #expect(old.intendedPosition == .zero)
        var stale = desk()
        stale.onFeedStatus(FeedStatus(symbol: "BTC", state: .stale, source: "test", lastUpdateAgeMs: 9_000))
        #expect(stale.onBar(bar, now: closeTime, newIdentifier: { "a" }).codes == [.staleData])
        stale.onFeedStatus(FeedStatus(symbol: "BTC", state: .live, source: "test", lastUpdateAgeMs: 0))
        #expect(stale.onBar(flatBars([100, 100])[1], now: closeTime * 2, newIdentifier: { "b" }).codes == [.approved])
        var elsewhere = desk()
        elsewhere.onFeedStatus(FeedStatus(symbol: "ETH", state: .stale, source: "test", lastUpdateAgeMs: 9_000))
        #expect(elsewhere.onBar(bar, now: closeTime, newIdentifier: { "a" }).codes == [.approved])
        var ended = desk()
        ended.onFeedStatus(FeedStatus(symbol: "BTC", state: .ended, source: "test", lastUpdateAgeMs: 0))
        #expect(ended.onBar(bar, now: closeTime, newIdentifier: { "a" }).codes == [.approved])
    }

    @Test("no entries while the risk gate is syncing, reducing or halted")
    func tradingState() {
        for state in [TradingState.syncing, .reducing, .halted] {
            var desk = StrategyDesk(
                strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: [.long])],
                settings: deskSettings())
            desk.onTradingState(state)
            let output = desk.onBar(flatBars([100])[0], now: 0, newIdentifier: { "a" })
            #expect(output.codes == [.tradingHalted], "\(state)")
            #expect(output.signals[0].direction == .long)
        }
    }

    @Test("a position below the venue minimum is below threshold")
    func belowVenueMinimum() {
        var desk = StrategyDesk(
            strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: [.long])],
            settings: StrategyDesk.Settings(
                instrument: Instrument(symbol: "BTC", szDecimals: 5, minOrderValue: 10), tradeNotional: 5))
        #expect(desk.onBar(flatBars([100])[0], now: 0, newIdentifier: { "a" }).codes == [.belowThreshold])
    }

    @Test("presets on a desk: the regime keeps RSI out of a trend and lets SMA trend in")
    func presetsWithRegimes() throws {
        // 60 flat bars, then a steady climb: the standard classifier sees a trend up.
        let series = Array(repeating: 100.0, count: 60) + (1...40).map { 100 + Double($0) * 0.5 }
        var bars = flatBars(series)
        for index in bars.indices {  // give the bars a range so ATR is not zero
            bars[index].high = bars[index].close + Amount("0.1")
            bars[index].low = bars[index].close - Amount("0.1")
        }
        var desk = StrategyDesk(
            presets: [.rsiStandard, .smaFast],
            settings: deskSettings(regimes: .standard(classifier: RegimeConfig(highVolatilityThreshold: 1))))
        let outputs = desk.run(bars)
        let last = try #require(outputs.last)
        #expect(last.regime?.regime == .trendingUp)
        // Each intent came from a strategy its bar's regime admits: RSI shorts the first
        // jump while the market still reads as ranging, SMA goes long once it trends.
        let traded = outputs.flatMap { output in output.intents.map { (output.regime?.regime, $0) } }
        #expect(traded.map(\.1.strategy) == ["rsi_mean_reversion_standard", "sma_trend_fast"])
        #expect(traded.first?.0 == .ranging && traded.first?.1.side == .sell)
        #expect(traded.last?.0 == .trendingUp && traded.last?.1.side == .buy)
        // At the end RSI is still overbought, and refused for the regime.
        #expect(desk.intendedPosition.isPositive)
    }

    @Test("the signal engine runs any bar strategy, e.g. an SMA trend")
    func engineWithTrend() {
        var engine = SignalEngine(
            strategy: SmaTrend(parameters: .init(fastPeriod: 2, slowPeriod: 4, marginBps: 1)),
            settings: .init(instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000))
        let outputs = flatBars([100, 100, 100, 100, 101, 102]).enumerated().map { index, bar in
            engine.onBar(bar, signalId: "s\(index)", intentId: "i\(index)", now: 0)
        }
        #expect(
            outputs.map { $0.signal.reasons[0].code } == [
                .warmingUp, .warmingUp, .warmingUp, .belowThreshold, .approved, .alreadyPositioned,
            ])
        #expect(engine.strategyName == "sma_trend")
        #expect(outputs[4].intent?.origin == "s4")
    }
}
