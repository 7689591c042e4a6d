import Schema
import Strategy
import Testing

private let second: Int64 = 1_000_000_000
private let settle: Int64 = 3 * second

/// A desk for `symbol` whose one strategy goes long on every bar ($1,000 a position).
private func longDesk(_ symbol: String) -> StrategyDesk {
    StrategyDesk(
        strategies: [ScriptedStrategy(name: "s", style: .meanReversion, script: Array(repeating: .long, count: 10))],
        settings: StrategyDesk.Settings(
            instrument: Instrument(symbol: symbol, szDecimals: 5), tradeNotional: 1_000))
}

private func portfolio() -> StrategyPortfolio {
    StrategyPortfolio(desks: [longDesk("ETH"), longDesk("BTC")], settleNanos: settle)
}

private func bar(_ symbol: String, close: Amount, index: Int64 = 0) -> Bar {
    Bar(
        symbol: symbol, intervalSeconds: 60, openTime: index * 60 * second, open: close, high: close, low: close,
        close: close, volume: 1_000)
}

private func decision(_ intent: OrderIntent, _ outcome: RiskDecision.Outcome, symbol: String? = nil) -> RiskDecision {
    RiskDecision(
        intentId: intent.intentId, symbol: symbol ?? intent.symbol ?? "", outcome: outcome, reasons: [],
        requestedSize: intent.size, approvedSize: outcome == .rejected ? 0 : intent.size, clientOrderId: nil)
}

private func exitFill(_ symbol: String, side: Side, size: Amount) -> Fill {
    Fill(
        fillId: "f-\(symbol)", clientOrderId: "0x1", symbol: symbol, side: side, price: 100, size: size, fee: 0,
        liquidity: .taker, purpose: .exit, strategy: "hard_stop", time: 0)
}

private func snapshot(asOf: EpochNanos, _ positions: [(String, Amount)]) -> AccountSnapshot {
    AccountSnapshot(
        asOf: asOf, startingCapital: 10_000, realizedPnl: 0, fees: 0, funding: 0, unrealizedPnl: 0, equity: 10_000,
        positions: positions.map { Position(symbol: $0.0, size: $0.1, entryPrice: 100, unrealizedPnl: 0) },
        openOrders: [], lastFillId: nil)
}

/// "symbol before -> after" per adoption (the type's memberwise init is not public).
private func summary(_ adoptions: [StrategyPortfolio.Adoption]) -> [String] {
    adoptions.map { "\($0.symbol) \($0.before) -> \($0.after)" }
}

@Suite("Strategy portfolio")
struct StrategyPortfolioTests {
    @Test("a bar goes to its symbol's desk only; a bar of another symbol returns nil")
    func barsRouted() throws {
        var book = portfolio()
        #expect(book.symbols == ["BTC", "ETH"])
        let ids = IdentifierSource()
        let routed = book.onBar(bar("BTC", close: 100), now: 0, newIdentifier: ids.next)
        let output = try #require(routed)
        #expect(output.signals.map(\.symbol) == ["BTC"])
        #expect(output.intents.map(\.symbol) == ["BTC"] && output.intents.map(\.size) == [10])
        #expect(book.desks["BTC"]?.intendedPosition == 10)
        #expect(book.desks["ETH"]?.intendedPosition == .zero)
        #expect(book.intendedPositions == ["BTC": 10])

        #expect(book.onBar(bar("SOL", close: 100), now: 0, newIdentifier: ids.next) == nil)
        var anonymous = bar("BTC", close: 100, index: 1)
        anonymous.symbol = nil
        #expect(book.onBar(anonymous, now: 0, newIdentifier: ids.next) == nil)
        #expect(book.intendedPositions == ["BTC": 10] && book.pendingIntentCount == 1)

        let ethRouted = book.onBar(bar("ETH", close: 50), now: 0, newIdentifier: ids.next)
        let eth = try #require(ethRouted)
        #expect(eth.intents.map(\.symbol) == ["ETH"] && eth.intents.map(\.size) == [20])
        #expect(book.intendedPositions == ["BTC": 10, "ETH": 20])
        #expect(book.pendingIntentCount == 2)
    }

    @Test("a decision reaches only its symbol's desk")
    func decisionsRouted() throws {
        var book = portfolio()
        let ids = IdentifierSource()
        let btcOutput = book.onBar(bar("BTC", close: 100), now: 0, newIdentifier: ids.next)
        let ethOutput = book.onBar(bar("ETH", close: 50), now: 0, newIdentifier: ids.next)
        let btc = try #require(btcOutput?.intents.first)
        let eth = try #require(ethOutput?.intents.first)

        // ETH's intent id labelled BTC: the BTC desk does not know it, ETH never hears it.
        book.onDecision(decision(eth, .rejected, symbol: "BTC"))
        var unlabelled = decision(eth, .rejected)
        unlabelled.symbol = nil
        book.onDecision(unlabelled)
        #expect(book.intendedPositions == ["BTC": 10, "ETH": 20] && book.pendingIntentCount == 2)

        book.onDecision(decision(eth, .rejected))
        #expect(book.intendedPositions == ["BTC": 10])
        #expect(book.desks["ETH"]?.pendingIntentCount == 0 && book.desks["BTC"]?.pendingIntentCount == 1)
        book.onDecision(decision(btc, .approved))
        #expect(book.pendingIntentCount == 0 && book.intendedPositions == ["BTC": 10])
    }

    @Test("an exit fill reaches only its symbol's desk")
    func exitFillsRouted() {
        var book = portfolio()
        let ids = IdentifierSource()
        _ = book.onBar(bar("BTC", close: 100), now: 0, newIdentifier: ids.next)
        _ = book.onBar(bar("ETH", close: 50), now: 0, newIdentifier: ids.next)
        book.onExitFill(exitFill("BTC", side: .sell, size: 4))
        #expect(book.intendedPositions == ["BTC": 6, "ETH": 20])
        book.onExitFill(exitFill("ETH", side: .sell, size: 20))
        #expect(book.intendedPositions == ["BTC": 6])
        #expect(book.desks["ETH"]?.positionStrategy == nil && book.desks["BTC"]?.positionStrategy == "s")
        book.onExitFill(exitFill("SOL", side: .sell, size: 1))
        #expect(book.intendedPositions == ["BTC": 6])
    }

    @Test("trading state goes to every desk")
    func tradingStateToAll() throws {
        var book = portfolio()
        book.onTradingState(.halted)
        #expect(book.desks.values.map(\.tradingState) == [.halted, .halted])
        let halted = book.onBar(bar("ETH", close: 50), now: 0, newIdentifier: IdentifierSource().next)
        let output = try #require(halted)
        #expect(output.codes == [.tradingHalted])
        book.onTradingState(.active)
        #expect(book.desks.values.allSatisfy { $0.tradingState == .active })
    }

    @Test("a feed status without a symbol goes to every desk; with one, to that desk only")
    func feedStatusRouted() {
        var book = portfolio()
        var all = FeedStatus(symbol: "", state: .stale, source: "feed", lastUpdateAgeMs: 9_000)
        all.symbol = nil
        book.onFeedStatus(all)
        #expect(book.desks["BTC"]?.feedLive == false && book.desks["ETH"]?.feedLive == false)
        book.onFeedStatus(FeedStatus(symbol: "BTC", state: .live, source: "feed", lastUpdateAgeMs: 0))
        #expect(book.desks["BTC"]?.feedLive == true && book.desks["ETH"]?.feedLive == false)
        book.onFeedStatus(FeedStatus(symbol: "SOL", state: .live, source: "feed", lastUpdateAgeMs: 0))
        #expect(book.desks["ETH"]?.feedLive == false)
    }

    @Test("a fresh portfolio adopts the account's positions at once (a restart)")
    func restartAdopts() {
        var book = portfolio()
        let adopted = book.onAccountSnapshot(
            snapshot(asOf: 1 * second, [("BTC", "0.3"), ("ETH", -2), ("BTC", "0.2"), ("SOL", 7)]))
        #expect(summary(adopted) == ["BTC 0 -> 0.5", "ETH 0 -> -2"])
        #expect(book.intendedPositions == ["BTC": Amount("0.5"), "ETH": -2])
        #expect(book.desks["SOL"] == nil)
        #expect(book.onAccountSnapshot(snapshot(asOf: 2 * second, [("BTC", "0.5"), ("ETH", -2)])).isEmpty, "agrees")
    }

    @Test("a pending intent, or one younger than the settle time, keeps the desk's own position")
    func settleBeforeAdopting() throws {
        var book = portfolio()
        let intentTime: Int64 = 100 * second
        let output = book.onBar(bar("BTC", close: 100), now: intentTime, newIdentifier: IdentifierSource().next)
        let intent = try #require(output?.intents.first)

        // Waiting for its decision: never adopted, however late the snapshot.
        #expect(book.onAccountSnapshot(snapshot(asOf: intentTime + 100 * settle, [])).isEmpty)
        #expect(book.intendedPositions == ["BTC": 10])

        book.onDecision(decision(intent, .approved))
        // Decided, but the order may not have filled yet.
        #expect(book.onAccountSnapshot(snapshot(asOf: intentTime + settle - 1, [])).isEmpty)
        #expect(book.intendedPositions == ["BTC": 10])

        // Settled: BTC is absent from the snapshot, so flat; ETH (fresh) takes its short at once.
        let adopted = book.onAccountSnapshot(snapshot(asOf: intentTime + settle, [("ETH", -3)]))
        #expect(summary(adopted) == ["BTC 10 -> 0", "ETH 0 -> -3"])
        #expect(book.intendedPositions == ["ETH": -3])
        #expect(book.desks["BTC"]?.positionStrategy == nil)
    }

    @Test("the settle time holds back only the desk that made the intent")
    func settlePerDesk() throws {
        var book = portfolio()
        let t: Int64 = 50 * second
        let output = book.onBar(bar("ETH", close: 50), now: t, newIdentifier: IdentifierSource().next)
        let eth = try #require(output?.intents.first)
        book.onDecision(decision(eth, .approved))
        let adopted = book.onAccountSnapshot(snapshot(asOf: t + 1 * second, [("BTC", 2), ("ETH", 5)]))
        #expect(summary(adopted) == ["BTC 0 -> 2"])
        #expect(book.intendedPositions == ["BTC": 2, "ETH": 20])
    }
}
