import Foundation
import Hyperliquid
import Market
import Schema
import Testing
import TestSupport
import VenueTestSupport

@testable import Venue

/// The venue as a place to make markets: queue position, the address budget, self-trade
/// prevention, Alo modifies, and maker fills on every market source.
@Suite struct QueuePositionTests {
    @Test func aPrintAtThePriceEatsTheQueueAheadFirst() {
        var h = Harness()
        h.book(bids: [(100, 3)], asks: [(101, 3)])
        let oid = h.order(true, "100", "1", tif: .alo).restingOid!
        #expect(h.core.orders[oid]!.queueAhead == 3)
        h.print(px: 100, sz: 2, buyer: false)  // 3 ahead: only the queue moves
        #expect(h.core.orders[oid]!.sz == 1 && h.core.orders[oid]!.queueAhead == 1)
        h.print(px: 100, sz: "1.5", buyer: false)  // 1 ahead, then 0.5 for us
        #expect(h.core.orders[oid]!.sz == "0.5" && h.core.orders[oid]!.queueAhead == 0)
        let fill = h.core.accounts[Harness.alice.address]!.fills[0]
        // A maker fill at the maker rate: 0.5 × 100 × 0.01 %.
        #expect(fill.px == 100 && fill.sz == "0.5" && !fill.crossed && fill.fee == "0.005")
        #expect(h.usdc(Harness.alice) == Amount(100_000) - Amount("0.005"))
    }

    @Test func aPrintThroughThePriceFillsDespiteTheQueue() {
        var h = Harness()
        h.book(bids: [(100, 3)], asks: [(101, 3)])
        let oid = h.order(true, "100", "1", tif: .alo).restingOid!
        h.print(px: "99.9", sz: "0.7", buyer: false)  // below our bid: the seller met us first
        #expect(h.core.orders[oid]!.sz == "0.3")
        #expect(h.core.orders[oid]!.queueAhead == 3)
        h.print(px: "99.8", sz: 5, buyer: false)
        #expect(h.status(of: oid) == "filled")
        #expect(h.position(Harness.alice) == 1)
    }

    @Test func aSnapshotShowingLessSizeShortensTheQueueButNeverLengthensIt() {
        var h = Harness()
        h.book(bids: [(100, 3)], asks: [(101, 3)])
        let oid = h.order(true, "100", "1", tif: .alo).restingOid!
        h.book(bids: [(100, 1)], asks: [(101, 3)])
        #expect(h.core.orders[oid]!.queueAhead == 1)
        h.book(bids: [(100, 8)], asks: [(101, 3)])  // size added later joins behind us
        #expect(h.core.orders[oid]!.queueAhead == 1)
        h.print(px: 100, sz: "1.25", buyer: false)
        #expect(h.core.orders[oid]!.sz == "0.75")
    }

    @Test func paperOrdersAtOnePriceShareTheExternalQueueInTimeOrder() {
        var h = Harness()
        h.book(bids: [(100, 3)], asks: [(101, 3)])
        let bob = h.order(true, "100", "1", tif: .alo, by: Harness.bob).restingOid!
        let carol = h.order(true, "100", "1", tif: .alo, by: Harness.carol).restingOid!
        h.print(px: 100, sz: "3.5", buyer: false)
        #expect(h.core.orders[bob]!.sz == "0.5")
        #expect(h.core.orders[carol]!.sz == 1 && h.core.orders[carol]!.queueAhead == 0)
        h.print(px: 100, sz: 1, buyer: false)  // bob's rest first, then carol
        #expect(h.status(of: bob, Harness.bob) == "filled")
        #expect(h.core.orders[carol]!.sz == "0.5")
    }

    @Test func aModifyKeepsItsPlaceOnlyWithoutPriceChangeOrSizeIncrease() {
        var h = Harness()
        h.book(bids: [(100, 3), (99, 3)], asks: [(101, 3)])
        let first = h.order(true, "100", "1", tif: .alo).restingOid!
        h.print(px: 100, sz: 2, buyer: false)
        #expect(h.core.orders[first]!.queueAhead == 1)
        func modify(_ oid: UInt64, _ px: String, _ sz: String) -> UInt64? {
            let wire = OrderWire(asset: 0, isBuy: true, limitPx: px, size: sz, orderType: .limit(.alo))
            return h.statuses(h.send(.batchModify([ModifyWire(oid: .oid(oid), order: wire)])))[0].restingOid
        }
        let smaller = modify(first, "100", "0.5")!
        #expect(h.core.orders[smaller]!.queueAhead == 1)
        #expect(h.core.orders[smaller]!.sequence == h.core.orders[first]!.sequence)
        let bigger = modify(smaller, "100", "2")!
        #expect(h.core.orders[bigger]!.queueAhead == 3)  // back of the displayed queue
        let moved = modify(bigger, "99", "2")!
        #expect(h.core.orders[moved]!.queueAhead == 3)
        let back = modify(moved, "100", "2")!
        #expect(h.core.orders[back]!.queueAhead == 3)
    }
}

@Suite struct RequestBudgetTests {
    static func order(_ px: String) -> Action {
        .order([OrderWire(asset: 0, isBuy: true, limitPx: px, size: "1", orderType: .limit(.gtc))])
    }

    @Test func theCapIsTheBudgetPlusVolumeAndBatchesCountEachOrder() {
        var h = Harness { $0.initialRequestBudget = 3 }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let two = Action.order([
            OrderWire(asset: 0, isBuy: true, limitPx: "90", size: "1", orderType: .limit(.gtc)),
            OrderWire(asset: 0, isBuy: true, limitPx: "91", size: "1", orderType: .limit(.gtc)),
        ])
        #expect(h.statuses(h.send(two)).count == 2)
        #expect(h.statuses(h.send(Self.order("92"))).count == 1)
        let refused = h.send(Self.order("93"))
        #expect(
            refused["response"]?.stringValue
                == "Too many cumulative requests sent (4 > 3) for cumulative volume traded $0. Place taker orders to free up 1 request per USDC traded."
        )
        let limits = h.info("{\"type\":\"userRateLimit\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
        #expect(limits.jsonString() == "{\"cumVlm\":\"0.0\",\"nRequestsUsed\":3,\"nRequestsCap\":3,\"nRequestsSurplus\":0}")
    }

    @Test func pastTheCapOneRequestEveryTenSeconds() {
        var h = Harness { $0.initialRequestBudget = 1 }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        #expect(h.statuses(h.send(Self.order("90"))).count == 1)
        #expect(h.send(Self.order("90"))["status"]?.stringValue == "err")  // the cap is reached: throttled from now
        h.now += 9_999
        #expect(h.send(Self.order("90"))["status"]?.stringValue == "err")
        h.now += 1
        #expect(h.statuses(h.send(Self.order("90"))).first?.restingOid != nil)  // 10 s on: one request
        #expect(h.send(Self.order("90"))["status"]?.stringValue == "err")
        h.now += 10_000
        // A batch of two is two requests: more than the one a throttled address may send.
        let two = Action.order([
            OrderWire(asset: 0, isBuy: true, limitPx: "90", size: "1", orderType: .limit(.gtc)),
            OrderWire(asset: 0, isBuy: true, limitPx: "91", size: "1", orderType: .limit(.gtc)),
        ])
        #expect(h.send(two)["status"]?.stringValue == "err")
        #expect(h.statuses(h.send(Self.order("90"))).first?.restingOid != nil)
        let limits = h.info("{\"type\":\"userRateLimit\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
        #expect(limits["nRequestsUsed"]?.uint64Value == 3 && limits["nRequestsCap"]?.uint64Value == 1)
    }

    @Test func cancelsHaveHeadroomUpToTwiceTheCap() {
        var h = Harness { $0.initialRequestBudget = 4 }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let four = Action.order((0..<4).map { i in
            OrderWire(asset: 0, isBuy: true, limitPx: "9\(i)", size: "1", orderType: .limit(.gtc))
        })
        #expect(h.statuses(h.send(four)).count == 4)
        #expect(h.send(Self.order("90"))["status"]?.stringValue == "err")
        // Cancels may go to min(4 + 100,000, 2 × 4) = 8 requests.
        let oids = h.openOids(Harness.alice)
        let cancels = Action.cancel(oids.map { CancelWire(asset: 0, oid: $0) })
        #expect(h.statuses(h.send(cancels)) == Array(repeating: .string("success"), count: 4))
        let more = h.send(.cancel([CancelWire(asset: 0, oid: oids[0])]))
        #expect(
            more["response"]?.stringValue
                == "Too many cumulative requests sent (9 > 8) for cumulative volume traded $0. Place taker orders to free up 1 request per USDC traded."
        )
    }

    @Test func tradedVolumeRaisesTheCap() {
        var h = Harness { $0.initialRequestBudget = 1 }
        h.book(bids: [(99_000, 1)], asks: [(100_000, 1)])
        h.order(true, "100000", "0.0123", tif: .ioc)  // $1,230 traded
        let limits = h.info("{\"type\":\"userRateLimit\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
        #expect(limits["cumVlm"]?.stringValue == "1230.0")
        #expect(limits["nRequestsCap"]?.uint64Value == 1_231 && limits["nRequestsUsed"]?.uint64Value == 1)
    }

}

@Suite struct MakerProtectionTests {
    @Test func selfTradePreventionExpiresTheMaker() {
        var h = Harness()
        h.book(bids: [(90, 5)], asks: [(110, 5)])
        let mine = h.order(false, "100", "1").restingOid!
        let bobs = h.order(false, "100", "1", by: Harness.bob).restingOid!
        // Alice's buy meets her own ask first: it is canceled and the buy goes on to bob's.
        let bought = h.order(true, "100", "1", tif: .ioc)
        #expect(bought.filledSize == "1.0")
        #expect(h.status(of: mine) == "selfTradeCanceled")
        #expect(h.status(of: bobs, Harness.bob) == "filled")
        #expect(h.core.accounts[Harness.alice.address]!.fills.allSatisfy { $0.crossed })
        #expect(h.position(Harness.alice) == 1 && h.position(Harness.bob) == -1)
    }

    @Test func anAloBatchModifyThatWouldCrossIsRefusedAndTheOriginalIsCanceled() {
        var h = Harness()
        h.book(bids: [(100, 3)], asks: [(101, 3)])
        let bid = h.order(true, "100", "1", tif: .alo).restingOid!
        let ask = h.order(false, "102", "1", tif: .alo).restingOid!
        let crossing = OrderWire(asset: 0, isBuy: true, limitPx: "101", size: "1", orderType: .limit(.alo))
        let fine = OrderWire(asset: 0, isBuy: false, limitPx: "101.5", size: "1", orderType: .limit(.alo))
        let answer = h.send(.batchModify([ModifyWire(oid: .oid(bid), order: crossing), ModifyWire(oid: .oid(ask), order: fine)]))
        #expect(answer["status"]?.stringValue == "ok")
        let statuses = h.statuses(answer)
        #expect(statuses[0].error == "Post only order would have immediately matched, bbo was 100@101. asset=0")
        #expect(statuses[1].restingOid != nil)
        // A modify is a cancel and a new order: the cancel stands, nothing of the bid is left.
        #expect(h.status(of: bid) == "canceled")
        #expect(h.openOids(Harness.alice) == [statuses[1].restingOid!])
        #expect(h.position(Harness.alice) == 0)
    }
}

/// A market maker's simplest loop, run on the venue core: after every market event it keeps one
/// Alo bid and one Alo ask `ticksBehind` ticks behind the external touch, moving them with modifies.
struct TouchQuoter {
    let user: Address
    let asset: Int
    let ticksBehind: Int
    let notional: Amount
    var bid: UInt64?
    var ask: UInt64?
    var quotesPlaced = 0

    init(user: Address, asset: Int = 0, ticksBehind: Int, notional: Amount = 1_000) {
        self.user = user
        self.asset = asset
        self.ticksBehind = ticksBehind
        self.notional = notional
    }

    mutating func requote(_ core: inout VenueCore, now: UInt64) {
        guard let market = core.markets[asset], let bestBid = market.bestBid, let bestAsk = market.bestAsk else { return }
        let spec = core.assets[asset]
        for isBuy in [true, false] {
            let touch = isBuy ? bestBid : bestAsk
            let tick = MarketScripts.tick(at: touch, spec: spec)
            let px = isBuy ? touch - Amount(ticksBehind) * tick : touch + Amount(ticksBehind) * tick
            let sz = Amount.max((notional / px).rounded(scale: spec.szDecimals, .up), MarketScripts.lotSize(spec))
            let current = (isBuy ? bid : ask).flatMap { core.orders[$0] }.flatMap { $0.status.isLive ? $0 : nil }
            if let current, current.limitPx == px { continue }
            let wire = OrderWire(
                asset: asset, isBuy: isBuy, limitPx: Wire.plain(px), size: Wire.plain(sz), orderType: .limit(.alo))
            let status =
                if let current {
                    core.modify(ModifyWire(oid: .oid(current.oid), order: wire), user: user, now: now)
                } else {
                    core.placeOne(wire, user: user, now: now).status
                }
            let oid = status["resting"]?["oid"]?.uint64Value
            if oid != nil { quotesPlaced += 1 }
            if isBuy { bid = oid } else { ask = oid }
        }
    }

    func makerFills(_ core: VenueCore) -> [SimFill] { core.accounts[user]?.fills.filter { !$0.crossed } ?? [] }

    /// Quotes that filled at least partly.
    func quotesFilled(_ core: VenueCore) -> Int { Set(makerFills(core).map(\.oid)).count }
}

@Suite struct MakerFillsOnEverySourceTests {
    static let binanceL2 = sharedData.appendingPathComponent("btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz")
    static let binanceAvailable = FileManager.default.fileExists(atPath: binanceL2.path)

    /// Plays `player` from `start` to `end` in `stepMs` steps, requoting after every event.
    static func run(
        _ h: inout Harness, _ player: inout MarketPlayer, quoter: inout TouchQuoter, until end: UInt64, stepMs: UInt64 = 100
    ) {
        while h.now < end {
            h.now += stepMs
            for (_, event) in player.events(upTo: h.now) {
                h.core.applyMarket(event, now: h.now)
                quoter.requote(&h.core, now: h.now)
            }
            _ = h.core.drainEvents()
        }
    }

    @Test(.enabled(if: binanceAvailable, "../shared/data is absent: the Binance depth capture cannot be replayed"))
    func theBinanceDepthCaptureGivesMakerFillsNearTheTouch() async throws {
        // Foundation on Linux cannot inflate gzip.
        let gunzip = try await runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-dc", Self.binanceL2.path])
        try #require(gunzip.status == 0, "gzip -dc \(Self.binanceL2.path) failed: \(gunzip.errorText)")
        let text = gunzip.outputText
        // The first 10,000 lines (about a minute of the capture) keep the test quick.
        let head = text.split(separator: "\n", maxSplits: 10_000).prefix(10_000).joined(separator: "\n")
        let spec = VenueConfig.defaultAssets[0]
        let script = try MarketScripts.binanceL2(head, coin: "BTC", spec: spec)
        let books = script.steps.compactMap { step -> ([ExternalLevel], [ExternalLevel])? in
            if case .book(_, let bids, let asks) = step.event { (bids, asks) } else { nil }
        }
        #expect(books.count > 100)
        for (bids, asks) in books {
            #expect(bids.count == 20 && asks.count == 20 && bids[0].px < asks[0].px)
            #expect(zip(bids, bids.dropFirst()).allSatisfy { $0.px > $1.px })
            for level in bids + asks { #expect(AssetRules.priceError(level.px, spec: spec, asset: 0) == nil) }
        }
        #expect(script.steps.contains { if case .trades = $0.event { true } else { false } })

        var h = Harness()
        var player = MarketPlayer(coin: "BTC", spec: spec, source: .script(script), startMs: h.now)
        var quoter = TouchQuoter(user: Harness.alice.address, ticksBehind: 1)
        Self.run(&h, &player, quoter: &quoter, until: h.now + min(script.durationMs, 60_000))
        let fills = quoter.makerFills(h.core)
        #expect(!fills.isEmpty)
        #expect(fills.contains { $0.isBuy } && fills.contains { !$0.isBuy })
        // Not every quote fills: the queue and the market decide.
        #expect(quoter.quotesFilled(h.core) < quoter.quotesPlaced)
    }

    @Test(.enabled(if: captureAvailable, "../shared/data is absent: the Hyperliquid capture cannot be replayed"))
    func theHyperliquidCaptureGivesMakerFillsNearTheTouch() throws {
        let script = try MarketScripts.hyperliquidCapture(String(contentsOf: hyperliquidCapture, encoding: .utf8), coin: "BTC")
        var h = Harness()
        var player = MarketPlayer(coin: "BTC", spec: VenueConfig.defaultAssets[0], source: .script(script), startMs: h.now)
        var quoter = TouchQuoter(user: Harness.alice.address, ticksBehind: 0)
        Self.run(&h, &player, quoter: &quoter, until: h.now + 2 * script.durationMs)
        let fills = quoter.makerFills(h.core)
        #expect(!fills.isEmpty)
        #expect(quoter.quotesFilled(h.core) < quoter.quotesPlaced)
    }

    @Test func theSyntheticMarketFillsANearTouchQuoteWithinMinutes() {
        // The default paper market at candleSeconds 5, seed 42: BTC and a cheap coin with a fine tick.
        for (asset, coin) in [(0, "BTC"), (4, "XRP")] {
            var share: [Int: Double] = [:]
            for ticksBehind in [0, 2] {
                var h = Harness()
                let listing = PaperListing.listing(coin)
                let market = listing.market(marketSeed: 42, ownSeed: 42 &+ UInt64(asset) &+ 1, startPrice: nil)
                var player = MarketPlayer(coin: coin, spec: listing.spec, source: .synthetic(market, candleMs: 5_000), startMs: h.now)
                var quoter = TouchQuoter(user: Harness.alice.address, asset: asset, ticksBehind: ticksBehind)
                let candles: UInt64 = 36  // three minutes
                Self.run(&h, &player, quoter: &quoter, until: h.now + candles * 5_000)
                let fills = quoter.makerFills(h.core)
                #expect(!fills.isEmpty, "\(coin) \(ticksBehind) ticks behind: no maker fill in 3 minutes")
                // Well within the first minute (12 candles).
                #expect((fills.first?.time ?? .max) < Harness.start + 60_000)
                #expect(fills.contains { $0.isBuy } && fills.contains { !$0.isBuy })
                // Plausible: many quotes are moved away unfilled, more of them further from the touch.
                share[ticksBehind] = Double(quoter.quotesFilled(h.core)) / Double(quoter.quotesPlaced)
                #expect(share[ticksBehind]! < 0.75, "\(coin) \(ticksBehind) behind: \(share[ticksBehind]!) of quotes filled")
            }
            #expect(share[2]! < share[0]!)
        }
    }

    @Test func theSyntheticMarketIsTheSameForASeed() {
        let listing = PaperListing.listing("ETH")
        func run() -> ([MarketEvent], [Amount]) {
            var h = Harness()
            var player = MarketPlayer(
                coin: "ETH", spec: listing.spec,
                source: .synthetic(listing.market(marketSeed: 42, ownSeed: 44, startPrice: nil), candleMs: 5_000), startMs: h.now)
            var quoter = TouchQuoter(user: Harness.alice.address, asset: 1, ticksBehind: 1)
            var events: [MarketEvent] = []
            while h.now < Harness.start + 60_000 {
                h.now += 100
                for (_, event) in player.events(upTo: h.now) {
                    events.append(event)
                    h.core.applyMarket(event, now: h.now)
                    quoter.requote(&h.core, now: h.now)
                }
            }
            return (events, quoter.makerFills(h.core).map(\.px))
        }
        let (a, b) = (run(), run())
        #expect(a.0 == b.0 && a.1 == b.1 && !a.1.isEmpty)
    }
}
