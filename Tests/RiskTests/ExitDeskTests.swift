import Risk
import Schema
import Testing

@Suite("Exit desk")
struct ExitDeskTests {
    let btc = Instrument(symbol: "BTC", szDecimals: 5)

    func bar(_ close: Amount, minute: Int64) -> Bar {
        Bar(
            symbol: "BTC", intervalSeconds: 60, openTime: minute * 60_000_000_000, open: close, high: close,
            low: close, close: close, volume: 1_000)
    }

    @Test("a long position past its hard stop gets one exit intent for the whole position, tagged with the path")
    func hardStop() throws {
        var desk = ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: ["BTC": btc])
        desk.sync(symbol: "BTC", size: "0.02", entryPrice: 40_000, time: 0, strategy: "rsi")
        let early = desk.onBar(bar(39_500, minute: 1), now: 1)  // −1.25 %: not yet
        #expect(early == nil)
        let fired = desk.onBar(bar(39_100, minute: 2), now: 2)  // −2.25 %
        let exit = try #require(fired)
        #expect(exit.path == .hardStop)
        #expect(exit.intent.side == .sell)
        #expect(exit.intent.size == "0.02")
        #expect(exit.intent.purpose == .exit && exit.intent.reduceOnly)
        #expect(exit.intent.origin == "exit:hard_stop")
    }

    @Test("flat or never synced: no exits")
    func flat() {
        var desk = ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: ["BTC": btc])
        let before = desk.onBar(bar(30_000, minute: 1), now: 1)
        #expect(before == nil)
        desk.sync(symbol: "BTC", size: "0.02", entryPrice: 40_000, time: 0, strategy: "rsi")
        desk.sync(symbol: "BTC", size: .zero, entryPrice: nil, time: 1, strategy: "rsi")
        #expect(desk.trackedPositions == 0)
        let after = desk.onBar(bar(30_000, minute: 2), now: 2)
        #expect(after == nil)
    }

    @Test("a flip starts a fresh position: a short is stopped out on the way up")
    func flip() throws {
        var desk = ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: ["BTC": btc])
        desk.sync(symbol: "BTC", size: "0.02", entryPrice: 40_000, time: 0, strategy: "rsi")
        desk.sync(symbol: "BTC", size: "-0.02", entryPrice: 41_000, time: 1, strategy: "rsi")
        let fired = desk.onBar(bar(41_900, minute: 2), now: 2)
        let exit = try #require(fired)
        #expect(exit.intent.side == .buy)
    }
}
