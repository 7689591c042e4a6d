import Schema
import Testing

// @testable: StatusChange's memberwise init is internal; comparing whole changes is the point.
@testable import Market

private let second: Int64 = 1_000_000_000
/// A start on a minute boundary, so bar open times are easy to write.
private let start: Int64 = 1_704_067_200 * second

private func feed(symbols: [String] = ["BTC", "ETH"], now: Int64 = start) -> MarketFeedState {
    MarketFeedState(symbols: symbols, barSeconds: 60, barGraceNanos: 2 * second, staleAfterNanos: 5 * second, now: now)
}

@Suite("Market feed state")
struct MarketFeedStateTests {
    @Test("each symbol builds its own bars; a trade in the next interval closes only its symbol's bar")
    func barsPerSymbol() throws {
        var state = feed()
        #expect(state.trade("BTC", price: 100, size: 1, time: start + 1 * second, now: start + 1 * second).bar == nil)
        #expect(state.trade("ETH", price: 10, size: 3, time: start + 10 * second, now: start + 10 * second).bar == nil)
        #expect(state.trade("BTC", price: 101, size: 2, time: start + 30 * second, now: start + 30 * second).bar == nil)
        #expect(state.trade("BTC", price: 99, size: "0.5", time: start + 59 * second, now: start + 59 * second).bar == nil)

        let next = state.trade("BTC", price: 102, size: 1, time: start + 61 * second, now: start + 61 * second)
        let bar = try #require(next.bar)
        #expect(bar.symbol == "BTC" && bar.openTime == start && bar.intervalSeconds == 60)
        #expect(bar.open == 100 && bar.high == 101 && bar.low == 99 && bar.close == 99)
        #expect(bar.baseVolume == Amount("3.5") && bar.tradeCount == 3)
        #expect(next.change == nil, "BTC was live already")
        #expect(state.views["BTC"]?.trades == 4 && state.views["BTC"]?.bars == 1)
        // ETH's bar is untouched by BTC's trade.
        #expect(state.views["ETH"]?.bars == 0 && state.views["ETH"]?.aggregator.openBar?.open == 10)
    }

    @Test("tick closes a bar only after its interval plus the grace, without a later trade")
    func tickClosesAfterGrace() throws {
        var state = feed()
        _ = state.trade("ETH", price: 10, size: 3, time: start + 10 * second, now: start + 10 * second)
        _ = state.trade("ETH", price: 11, size: 1, time: start + 20 * second, now: start + 20 * second)
        // Interval ends at +60 s; the grace is 2 s.
        #expect(state.tick(now: start + 61 * second).bars.isEmpty)
        #expect(state.tick(now: start + 62 * second - 1).bars.isEmpty)
        let closed = state.tick(now: start + 62 * second).bars
        #expect(closed.count == 1)
        let bar = try #require(closed.first)
        #expect(bar.symbol == "ETH" && bar.openTime == start && bar.open == 10 && bar.close == 11 && bar.high == 11)
        #expect(bar.baseVolume == 4 && bar.tradeCount == 2)
        #expect(state.views["ETH"]?.bars == 1)
        #expect(state.tick(now: start + 200 * second).bars.isEmpty, "a bar closes once")
        // A trade for the closed interval is late and makes no bar.
        #expect(state.trade("ETH", price: 12, size: 1, time: start + 30 * second, now: start + 201 * second).bar == nil)
        #expect(state.views["ETH"]?.aggregator.lateTradeCount == 1)
    }

    @Test("bars of several symbols closing on one tick come back sorted by symbol")
    func tickSortsBars() {
        var state = feed(symbols: ["SOL", "BTC", "ETH"])
        for symbol in ["SOL", "ETH", "BTC"] {
            _ = state.trade(symbol, price: 5, size: 1, time: start + 5 * second, now: start + 5 * second)
        }
        #expect(state.tick(now: start + 62 * second).bars.map(\.symbol) == ["BTC", "ETH", "SOL"])
        #expect(state.symbols == ["BTC", "ETH", "SOL"])
    }

    @Test("one silent symbol goes stale while the other stays live; each transition is reported once")
    func stalenessPerSymbol() throws {
        var state = feed()
        let btcLive = state.book("BTC", now: start + 1 * second)
        #expect(btcLive == .init(symbol: "BTC", state: .live, detail: "books and trades flowing", silentNanos: 0))
        #expect(state.book("ETH", now: start + 1 * second)?.state == .live)
        #expect(state.book("BTC", now: start + 1 * second) == nil, "already live")
        #expect(state.liveCount == 2)

        // ETH keeps flowing, BTC goes silent after +1 s.
        #expect(state.book("ETH", now: start + 4 * second) == nil)
        #expect(state.trade("ETH", price: 10, size: 1, time: start + 5 * second, now: start + 5 * second).change == nil)
        #expect(state.tick(now: start + 6 * second).changes.isEmpty, "silent for exactly staleAfter: still live")
        let changes = state.tick(now: start + 6 * second + 1).changes
        #expect(
            changes == [
                .init(symbol: "BTC", state: .stale, detail: "no market data for 5000 ms", silentNanos: 5 * second + 1)
            ])
        #expect(state.views["BTC"]?.state == .stale && state.views["ETH"]?.state == .live)
        #expect(state.liveCount == 1)
        #expect(state.tick(now: start + 7 * second).changes.isEmpty, "reported once")

        // BTC's next trade makes it live again, once.
        let back = state.trade("BTC", price: 100, size: 1, time: start + 8 * second, now: start + 8 * second)
        #expect(back.change?.symbol == "BTC" && back.change?.state == .live && back.change?.silentNanos == 0)
        #expect(state.book("BTC", now: start + 8 * second) == nil)
        #expect(state.liveCount == 2)

        // Now ETH falls silent (its last data at +5 s) and BTC keeps going.
        _ = state.book("BTC", now: start + 9 * second)
        let later = state.tick(now: start + 10 * second + 1).changes
        #expect(later.map(\.symbol) == ["ETH"] && later.map(\.state) == [.stale])
        #expect(later.first?.silentNanos == 5 * second + 1)
        // A book (not only a trade) brings it back.
        #expect(state.book("ETH", now: start + 11 * second)?.state == .live)
    }

    @Test("a disconnect makes every symbol stale once; each comes back at its own next data")
    func disconnectedMakesAllStale() {
        var state = feed()
        _ = state.book("BTC", now: start + 1 * second)
        _ = state.book("ETH", now: start + 2 * second)
        let changes = state.disconnected(reason: "socket closed", now: start + 3 * second)
        #expect(
            changes == [
                .init(
                    symbol: "BTC", state: .stale, detail: "exchange websocket down: socket closed",
                    silentNanos: 2 * second),
                .init(
                    symbol: "ETH", state: .stale, detail: "exchange websocket down: socket closed", silentNanos: 1 * second),
            ])
        #expect(state.liveCount == 0)
        #expect(state.disconnected(reason: "again", now: start + 4 * second).isEmpty, "reported once")
        #expect(state.tick(now: start + 30 * second).changes.isEmpty, "already stale: no second report")
        #expect(state.book("ETH", now: start + 31 * second)?.state == .live)
        #expect(state.views["BTC"]?.state == .stale)
        #expect(state.liveCount == 1)
    }

    @Test("a symbol that never sent anything goes stale staleAfter after the start")
    func neverSentGoesStale() {
        var state = feed()
        #expect(state.liveCount == 0)
        #expect(state.views["BTC"]?.state == nil)
        #expect(state.tick(now: start + 5 * second).changes.isEmpty)
        _ = state.book("ETH", now: start + 5 * second)
        let changes = state.tick(now: start + 5 * second + 1).changes
        #expect(
            changes == [
                .init(symbol: "BTC", state: .stale, detail: "no market data for 5000 ms", silentNanos: 5 * second + 1)
            ])
        #expect(state.views["ETH"]?.state == .live)
    }

    @Test("unknown symbols are ignored")
    func unknownSymbolsIgnored() {
        var state = feed()
        #expect(state.book("DOGE", now: start + 1 * second) == nil)
        let trade = state.trade("DOGE", price: 1, size: 1, time: start + 1 * second, now: start + 1 * second)
        #expect(trade.bar == nil && trade.change == nil)
        #expect(state.trade("DOGE", price: 1, size: 1, time: start + 70 * second, now: start + 70 * second).bar == nil)
        #expect(state.symbols == ["BTC", "ETH"])
        #expect(state.views["DOGE"] == nil)
        #expect(state.liveCount == 0)
        // The unknown symbol's data did not keep the known ones live.
        #expect(state.tick(now: start + 70 * second).changes.map(\.symbol) == ["BTC", "ETH"])
    }
}
