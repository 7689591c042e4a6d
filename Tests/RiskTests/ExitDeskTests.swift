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

@Suite("Exit desk from snapshots")
struct ExitDeskSnapshotTests {
    let btc = Instrument(symbol: "BTC", szDecimals: 5)
    let eth = Instrument(symbol: "ETH", szDecimals: 4)

    func bar(_ symbol: String, _ close: Amount, minute: Int64) -> Bar {
        Bar(
            symbol: symbol, intervalSeconds: 60, openTime: minute * 60_000_000_000, open: close, high: close,
            low: close, close: close, volume: 1_000)
    }

    @Test("after a restart a snapshot's positions are tracked, so their exits fire without any fill")
    func restartResumesExits() throws {
        var desk = ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: ["BTC": btc, "ETH": eth])
        #expect(desk.trackedPositions == 0)
        desk.sync(
            positions: [
                Position(symbol: "BTC", size: "0.02", entryPrice: 40_000, unrealizedPnl: 0),
                Position(symbol: "ETH", size: "-1", entryPrice: 3_000, unrealizedPnl: 0),
            ], time: 10)
        #expect(desk.trackedSymbols == ["BTC", "ETH"])
        let fired = desk.onBar(bar("BTC", 39_100, minute: 1), now: 11)
        let exit = try #require(fired)
        #expect(exit.path == .hardStop)
        #expect(exit.intent.side == .sell && exit.intent.size == "0.02")
        #expect(exit.intent.strategy == "snapshot")
        let firedShort = desk.onBar(bar("ETH", 3_070, minute: 1), now: 12)
        let short = try #require(firedShort)
        #expect(short.intent.side == .buy && short.intent.size == "1")
    }

    @Test("a position gone from the snapshot is dropped; one still held keeps its strategy; zero sizes are ignored")
    func goneIsDropped() {
        var desk = ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: ["BTC": btc, "ETH": eth])
        desk.sync(symbol: "BTC", size: "0.02", entryPrice: 40_000, time: 0, strategy: "rsi")
        desk.sync(symbol: "ETH", size: "1", entryPrice: 3_000, time: 0, strategy: "rsi")
        desk.sync(
            positions: [
                Position(symbol: "BTC", size: "0.03", entryPrice: 40_100, unrealizedPnl: 0),
                Position(symbol: "SOL", size: 0, entryPrice: 100, unrealizedPnl: 0),
            ], time: 5)
        #expect(desk.trackedSymbols == ["BTC"])
        #expect(desk.onBar(bar("ETH", 1_000, minute: 1), now: 6) == nil)
        let exit = desk.onBar(bar("BTC", 39_000, minute: 1), now: 7)
        #expect(exit?.intent.size == "0.03")
        #expect(exit?.intent.strategy == "rsi")
        desk.sync(positions: [], time: 8)
        #expect(desk.trackedPositions == 0)
    }
}
