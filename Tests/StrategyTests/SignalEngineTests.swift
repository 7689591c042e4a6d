import Schema
import Strategy
import Testing

/// Bars with the given closes, one minute apart.
func bars(_ closes: [Double]) -> [Bar] {
    closes.enumerated().map { index, close in
        let price = Amount(close)
        return Bar(
            symbol: "BTC", intervalSeconds: 60, openTime: Int64(index) * 60_000_000_000, open: price, high: price,
            low: price, close: price, volume: 1_000)
    }
}

func engine(oversold: Double = 30, overbought: Double = 70) -> SignalEngine {
    SignalEngine(
        strategy: RsiMeanReversion(parameters: .init(period: 3, oversold: oversold, overbought: overbought)),
        settings: .init(instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000))
}

@Suite("Signal engine")
struct SignalEngineTests {
    @Test("warming up: every bar is a rejected signal with its reason")
    func warmingUp() {
        var engine = engine()
        for (index, bar) in bars([100, 101, 102]).enumerated() {
            let output = engine.onBar(bar, signalId: "s\(index)", intentId: "i\(index)", now: 0)
            #expect(output.signal.decision == .rejected)
            #expect(output.signal.reasons.map(\.code) == [.warmingUp])
            #expect(output.intent == nil)
        }
    }

    @Test("a falling market goes long once, then says it is already positioned")
    func longOnceThenPositioned() throws {
        var engine = engine()
        let outputs = bars([100, 99, 98, 97, 96, 95]).enumerated().map { index, bar in
            engine.onBar(bar, signalId: "s\(index)", intentId: "i\(index)", now: 1_000)
        }
        let approved = outputs.filter { $0.signal.decision == .approved }
        #expect(approved.count == 1)
        let intent = try #require(approved.first?.intent)
        #expect(intent.side == .buy)
        #expect(intent.size == Amount("10.30927"))  // 1000 / 97 = 10.3092783…, rounded down to 5 decimals
        #expect(intent.purpose == .entry)
        #expect(intent.expiresAt == 1_000 + 5_000_000_000)
        #expect(outputs.last?.signal.reasons.map(\.code) == [.alreadyPositioned])
        #expect(engine.intendedPosition == Amount("10.30927"))
    }

    @Test("from long, an overbought market flips short with one intent for both legs")
    func flip() throws {
        var engine = engine()
        var last: SignalEngine.Output?
        for (index, bar) in bars([100, 99, 98, 97, 100, 104, 108]).enumerated() {
            let output = engine.onBar(bar, signalId: "s\(index)", intentId: "i\(index)", now: 0)
            if output.intent != nil { last = output }
        }
        let flip = try #require(last?.intent)
        #expect(flip.side == .sell)
        #expect(flip.size == Amount("10.30927") + Amount("9.61538"))
        #expect(engine.intendedPosition == -Amount("9.61538"))
    }

    @Test("a rejection by the risk gate restores the intended position")
    func rejectionRollsBack() throws {
        var engine = engine()
        var intent: OrderIntent?
        for (index, bar) in bars([100, 99, 98, 97]).enumerated() {
            intent = engine.onBar(bar, signalId: "s\(index)", intentId: "i\(index)", now: 0).intent ?? intent
        }
        let placed = try #require(intent)
        engine.onDecision(
            RiskDecision(
                intentId: placed.intentId, symbol: "BTC", outcome: .rejected, reasons: [Reason(.killSwitch)],
                requestedSize: placed.size, approvedSize: 0, clientOrderId: nil))
        #expect(engine.intendedPosition == .zero)
    }

    @Test("no entries while the risk gate is halted or the feed is stale")
    func haltedAndStale() {
        var halted = engine()
        halted.onTradingState(.halted)
        var stale = engine()
        stale.onFeedStatus(FeedStatus(symbol: "BTC", state: .stale, source: "test", lastUpdateAgeMs: 9_000))
        for (index, bar) in bars([100, 99, 98, 97]).enumerated() {
            #expect(halted.onBar(bar, signalId: "s", intentId: "h\(index)", now: 0).intent == nil)
            #expect(stale.onBar(bar, signalId: "s", intentId: "t\(index)", now: 0).intent == nil)
        }
        #expect(halted.intendedPosition == .zero)
        #expect(stale.intendedPosition == .zero)
    }

    @Test("a bar not after the previous one is a duplicate")
    func duplicateBar() {
        var engine = engine()
        let series = bars([100, 101])
        _ = engine.onBar(series[1], signalId: "a", intentId: "a", now: 0)
        let output = engine.onBar(series[0], signalId: "b", intentId: "b", now: 0)
        #expect(output.signal.reasons.map(\.code) == [.duplicate])
    }
}

@Suite("Strategy desk and the risk gate's exits")
struct ExitFillTests {
    @Test("an exit fill shrinks the intended position, never past flat; other fills do not")
    func exitFill() throws {
        var desk = StrategyDesk(
            strategies: [RsiMeanReversion(parameters: .init(period: 3, oversold: 30, overbought: 70))],
            settings: .init(instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000))
        var counter = 0
        for bar in bars([100, 99, 98, 97]) {
            _ = desk.onBar(bar, now: 0) {
                counter += 1
                return "id\(counter)"
            }
        }
        #expect(desk.intendedPosition == Amount("10.30927"))
        func fill(_ side: Side, _ size: Amount, _ purpose: OrderPurpose) -> Fill {
            Fill(
                fillId: "f\(size)\(purpose)", clientOrderId: "c", symbol: "BTC", side: side, price: 97, size: size,
                fee: 0, liquidity: .taker, purpose: purpose, strategy: "x", time: 0)
        }
        desk.onExitFill(fill(.sell, "5", .entry))
        #expect(desk.intendedPosition == Amount("10.30927"))
        desk.onExitFill(fill(.sell, "5", .exit))
        #expect(desk.intendedPosition == Amount("5.30927"))
        desk.onExitFill(fill(.sell, "9", .exit))
        #expect(desk.intendedPosition == .zero)
    }
}
