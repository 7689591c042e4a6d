import Foundation
import Hyperliquid
import Market
import Schema
import Testing

@testable import ExchangeSim

/// ../shared/data beside the repository (this file is <root>/Tests/ExchangeSimTests/…).
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
        #expect(player.events(upTo: script.durationMs - 1).count == 54)
        #expect(player.events(upTo: script.durationMs).count == 1)  // the loop starts again

        var h = Harness()
        if case .book(let coin, let bids, let asks) = script.steps[0].event {
            h.core.applyMarket(.book(coin: coin, bids: bids, asks: asks), now: h.now)
        }
        #expect(h.info("{\"type\":\"allMids\"}")["BTC"]?.stringValue == "105055.5")
        // An Ioc buy takes the real ask: 105,056.0 for 6.34472.
        #expect(h.order(true, "105100", "0.01", tif: .ioc)["filled"]?["avgPx"]?.stringValue == "105056.0")
    }

    @Test func theSyntheticMarketNeedsNoFilesAndIsSeeded() {
        let spec = VenueConfig.defaultAssets[0]
        func run(seed: UInt64) -> [MarketEvent] {
            let market = SyntheticMarket(settings: .init(seed: seed, startPrice: 100_000, tick: 1))
            var player = MarketPlayer(coin: "BTC", spec: spec, source: .synthetic(market, candleMs: 60_000), startMs: 1_000)
            return player.events(upTo: 1_000 + 10 * 60_000)
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

@Suite struct ServiceTests {
    @Test func infoWeightsFollowTheDocs() {
        #expect(VenueCore.infoWeight(type: "l2Book", items: 0) == 2)
        #expect(VenueCore.infoWeight(type: "clearinghouseState", items: 0) == 2)
        #expect(VenueCore.infoWeight(type: "meta", items: 0) == 20)
        #expect(VenueCore.infoWeight(type: "userRole", items: 0) == 60)
        #expect(VenueCore.infoWeight(type: "userFills", items: 45) == 22)
        #expect(VenueCore.infoWeight(type: "candleSnapshot", items: 120) == 22)
    }

    @Test func exchangeWeightCountsTheBatch() {
        let orders = (0..<79).map { _ in OrderWire(asset: 0, isBuy: true, limitPx: "1", size: "1", orderType: .limit(.gtc)) }
        let body = ExchangeRequest(
            action: Action.order(orders).wireValue, nonce: 1, signature: Signature(r: [UInt8](repeating: 1, count: 32), s: [UInt8](repeating: 1, count: 32), v: 27))
        #expect(HTTPServer.exchangeWeight(body.jsonBytes()) == 2)
        #expect(HTTPServer.exchangeWeight(Array("{}".utf8)) == 1)
    }

    @Test func ipLimitRefusesPastTwelveHundredAMinute() {
        let limits = IPRateLimits()
        #expect(limits.admit(ip: "a", weight: 1_200))
        #expect(!limits.admit(ip: "a", weight: 20))
        #expect(limits.admit(ip: "b", weight: 20))
    }

    @Test func faultsApplyUntilTheirEnd() throws {
        let faults = FaultInjector()
        let t0 = Date(timeIntervalSince1970: 1_000)
        try faults.apply(try WireValue(json: "{\"rateLimitStorm\":{\"seconds\":10}}"), now: t0)
        #expect(faults.verdict(now: t0.addingTimeInterval(5), random: 0.5) == .rateLimited)
        #expect(faults.verdict(now: t0.addingTimeInterval(10), random: 0.5) == .proceed(delay: .zero))
        faults.clear()
        try faults.apply(try WireValue(json: "{\"error5xx\":{\"rate\":0.5,\"seconds\":10},\"slow\":{\"milliseconds\":300,\"seconds\":10}}"), now: t0)
        #expect(faults.verdict(now: t0, random: 0.4) == .serverError(status: 500))
        #expect(faults.verdict(now: t0, random: 0.6) == .proceed(delay: .milliseconds(300)))
        try faults.apply(try WireValue(json: "{\"stall\":{\"seconds\":2}}"), now: t0)
        #expect(faults.verdict(now: t0.addingTimeInterval(1), random: 0.9) == .proceed(delay: .milliseconds(1_300)))
        #expect(faults.current.active(at: t0).keys.sorted() == ["error5xx", "slow", "stall"])
        #expect(throws: FaultError.self) { try faults.apply(try WireValue(json: "{\"stall\":{}}"), now: t0) }
        faults.clear()
        #expect(faults.current.active(at: t0).isEmpty)
    }

    @Test func configFilesAreValidated() throws {
        let json = """
            {"accounts":[{"address":"0x1111111111111111111111111111111111111111","usdc":"2500.5"}],
             "takerFee":0.0005,"market":{"source":"synthetic","seed":9},"network":"testnet"}
            """
        let config = try JSONDecoder().decode(VenueConfig.self, from: Data(json.utf8))
        #expect(config.accounts[0].usdc == "2500.5" && config.takerFee == "0.0005" && config.makerFee == "0.0001")
        #expect(config.market.source == .synthetic && config.market.seed == 9 && config.network == .testnet)
        #expect(Array(config.assets.map(\.name).prefix(3)) == ["BTC", "ETH", "SOL"] && config.validate().isEmpty)
        var bad = config
        bad.accounts.append(AccountSpec(address: "0x12", usdc: 1))
        bad.assets.append(AccountSpecFree.duplicateBTC)
        #expect(bad.validate().count == 2)
    }

    @Test func syntheticIsTheDefaultWithoutData() throws {
        var settings = VenueConfig()
        settings.market.dataDir = nil
        settings.market.source = .synthetic
        let setup = try MarketSetup.build(settings: settings, now: 0)
        #expect(setup.players.count == settings.assets.count && setup.description.hasPrefix("synthetic seed 42"))
        settings.market.dataDir = "/nonexistent/folder"
        #expect(throws: SetupError.self) { try MarketSetup.build(settings: settings, now: 0) }
    }
}

enum AccountSpecFree {
    static let duplicateBTC = AssetSpec(name: "BTC", szDecimals: 5, maxLeverage: 40)
}
