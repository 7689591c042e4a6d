import Foundation
import Hyperliquid
import Market
import Schema
import Testing
import VenueTestSupport

@testable import Venue

/// ../shared/data beside the repository (this file is <root>/Tests/VenueTests/…).
let sharedData: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data")
    .standardized
let hyperliquidCapture = sharedData.appendingPathComponent("btc-hyperliquid-ws-2025-01-26.ndjson")
let captureAvailable = FileManager.default.fileExists(atPath: hyperliquidCapture.path)

@Suite struct MarketFeedTests {
    @Test(.enabled(if: captureAvailable, "../shared/data is absent: the Hyperliquid capture cannot be replayed"))
    func theHyperliquidCaptureReplaysInALoop() throws {
        let text = try String(contentsOf: hyperliquidCapture, encoding: .utf8)
        let script = try MarketScripts.hyperliquidCapture(text, coin: "BTC")
        let books = script.steps.filter { if case .book = $0.event { true } else { false } }
        #expect(books.count == 46 && script.steps.count == 55)
        #expect(script.durationMs > 20_000 && script.durationMs < 30_000)

        var player = MarketPlayer(coin: "BTC", spec: VenueConfig.defaultAssets[0], source: .script(script), startMs: 0)
        #expect(player.events(upTo: 0).count == 1)
        // Each with the time it was due, however late it is asked for.
        let rest = player.events(upTo: script.durationMs - 1)
        #expect(rest.count == 54 && rest.map(\.at) == script.steps.dropFirst().map(\.offsetMs))
        #expect(player.events(upTo: script.durationMs + 5).map(\.at) == [script.durationMs])  // the loop starts again

        // Twice as fast: due at half the offsets after the start.
        var fast = MarketPlayer(
            coin: "BTC", spec: VenueConfig.defaultAssets[0], source: .script(script), startMs: 1_000, speed: 2)
        #expect(
            fast.events(upTo: 1_000 + script.durationMs / 2).prefix(script.steps.count).map(\.at)
                == script.steps.map { 1_000 + $0.offsetMs / 2 })

        var h = Harness()
        if case .book(let coin, let bids, let asks) = script.steps[0].event {
            h.core.applyMarket(.book(coin: coin, bids: bids, asks: asks), now: h.now)
        }
        #expect(h.info("{\"type\":\"allMids\"}")["BTC"]?.stringValue == "105055.5")
        // An Ioc buy takes the real ask: 105,056.0 for 6.34472.
        #expect(h.order(true, "105100", "0.01", tif: .ioc)["filled"]?["avgPx"]?.stringValue == "105056.0")
    }

    @Test("a market event played late keeps the time it was due; none goes behind a time already stamped")
    func lateEventsKeepTheirTime() throws {
        let listing = PaperListing.listing("BTC")
        var market = listing.market(marketSeed: 1, ownSeed: 2, startPrice: nil)
        // Prints at each quarter of one-second candles.
        let script = try MarketScripts.candles(
            [market.nextCandle(), market.nextCandle()], coin: "BTC", spec: listing.spec, candleMs: 1_000)
        var h = Harness()
        let start = h.now
        var players = [MarketPlayer(coin: "BTC", spec: listing.spec, source: .script(script), startMs: start)]
        var clock = VenueClock()
        _ = h.core.drainEvents()
        func printTimes() -> [UInt64] {
            h.core.drainEvents().compactMap { event in
                guard case .trade(_, let print) = event else { return nil }
                return print["time"]?.int64Value.map(UInt64.init)
            }
        }
        func dueTimes(_ range: ClosedRange<UInt64>) -> [UInt64] {
            script.steps.flatMap { step -> [UInt64] in
                guard range.contains(step.offsetMs), case .trades(_, let trades) = step.event else { return [] }
                return trades.map { _ in start + step.offsetMs }
            }
        }
        // Played 270 ms after the first candle's last print was due (the process was off the CPU): each
        // print keeps its own time, so the last is still in the first second.
        #expect(h.core.play(&players, upTo: start + 1_020, clock: &clock))
        let first = printTimes()
        #expect(first == dueTimes(0...1_020) && first.contains(start + 750) && !first.isEmpty)
        // A request stamped at +1,300 before the print due at +1,250 is played: the print takes +1,300.
        #expect(clock.stamp(start + 1_300) == start + 1_300)
        #expect(h.core.play(&players, upTo: start + 1_500, clock: &clock))
        #expect(printTimes() == dueTimes(1_021...1_500).map { max($0, start + 1_300) })
        #expect(clock.lastStamp == start + 1_500)
    }

    @Test func theSyntheticMarketNeedsNoFilesAndIsSeeded() {
        let spec = VenueConfig.defaultAssets[0]
        func run(seed: UInt64) -> [MarketEvent] {
            let market = SyntheticMarket(settings: .init(seed: seed, startPrice: 100_000, tick: 1))
            var player = MarketPlayer(coin: "BTC", spec: spec, source: .synthetic(market, candleMs: 60_000), startMs: 1_000)
            let due = player.events(upTo: 1_000 + 10 * 60_000)
            // A book and a print at each quarter of a candle.
            #expect(due.map(\.at) == due.indices.map { 1_000 + UInt64($0 / 2) * 15_000 })
            return due.map(\.event)
        }
        let a = run(seed: 7)
        #expect(a.count == 10 * 8 + 2)  // the 11th candle has only started
        #expect(a == run(seed: 7))
        #expect(a != run(seed: 8))
        for event in a {
            guard case .book(_, let bids, let asks) = event else { continue }
            #expect(bids.count == 20 && asks.count == 20 && bids[0].px < asks[0].px)
            for level in bids + asks { #expect(AssetRules.priceError(level.px, spec: spec, asset: 0) == nil) }
        }
    }

    @Test func syntheticBooksFollowTheTickRules() {
        let eth = VenueConfig.defaultAssets[1]
        let (bids, asks) = MarketScripts.syntheticBook(around: "3300.37", spec: eth)
        #expect(asks[0].px - bids[0].px == "0.1")
        for level in bids + asks { #expect(AssetRules.priceError(level.px, spec: eth, asset: 1) == nil) }
        #expect(MarketScripts.tick(at: 105_000, spec: VenueConfig.defaultAssets[0]) == 10)
        #expect(MarketScripts.tick(at: "9682", spec: VenueConfig.defaultAssets[0]) == "0.1")
    }

    @Test func candlesPlayOpenExtremesClose() throws {
        let candle = Candle(openTime: 0, open: 100, high: 110, low: 95, close: 105, volume: 40_000)
        let events = MarketScripts.candleEvents(candle, coin: "SOL", spec: VenueConfig.defaultAssets[2])
        let prints = events.compactMap { if case .trades(_, let t) = $0 { t[0].px } else { nil } }
        #expect(prints == [100, 95, 110, 105])
    }
}
