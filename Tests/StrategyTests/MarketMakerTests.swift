import Foundation
import Market
import Schema
import Strategy
import Testing

let btc = Instrument(symbol: "BTC", szDecimals: 5)
/// 1,000 s after the epoch: the tests' "now".
let start: EpochNanos = 1_000_000_000_000
let ms: EpochNanos = 1_000_000

/// At a reference of 100,000: tier 0 is 0.0435 BTC, the maximum inventory 1 BTC.
func mmSettings(
    baseNotional: Amount = 4_350, maxInventoryNotional: Amount = 100_000, targetNotional: Amount = 0,
    filledDelayMs: Int = 60_000, minBookLevels: Int = 3, minDepthNotional: Amount = 0, priceBandBps: Double = 200,
    ceiling: Amount? = nil, floor: Amount? = nil
) -> MarketMakingSettings {
    MarketMakingSettings(
        tiers: 12, baseNotional: baseNotional, sizeDecay: "0.9", tierSpacingBps: 2, minSpreadBps: 4,
        maxSpreadBps: 40, volatilityLow: 0.001, volatilityHigh: 0.003, volatilityBars: 2,
        inventoryTargetNotional: targetNotional, maxInventoryNotional: maxInventoryNotional,
        filledOrderDelayMs: filledDelayMs, microLevels: 10, minBookLevels: minBookLevels,
        minDepthNotional: minDepthNotional, staleBookMs: 5_000, priceBandBps: priceBandBps, priceCeiling: ceiling,
        priceFloor: floor, keepaliveMs: 5_000, quoteLifetimeMs: 15_000)
}

func maker(_ settings: MarketMakingSettings = mmSettings()) throws -> MarketMaker {
    try MarketMaker(symbol: "BTC", instrument: btc, settings: settings, idPrefix: "mm")
}

/// `levels` levels a side, one dollar apart around `mid`, the same size everywhere: microprice = mid.
func btcBook(
    mid: Amount = 100_000, levels: Int = 10, bidSize: Amount = 1, askSize: Amount = 1, time: EpochNanos = start,
    symbol: String = "BTC"
) -> BookUpdate {
    BookUpdate(
        symbol: symbol, bids: (1...levels).map { BookLevel(price: mid - Amount($0), size: bidSize) },
        asks: (1...levels).map { BookLevel(price: mid + Amount($0), size: askSize) }, exchangeTime: time)
}

func quoteFill(_ side: Side, size: Amount = "0.01", price: Amount = 100_000, time: EpochNanos, id: String = "f1")
    -> Fill
{
    Fill(
        fillId: id, clientOrderId: "q1", symbol: "BTC", side: side, price: price, size: size, fee: 0,
        liquidity: .maker, purpose: .entry, strategy: "market_making", time: time, quoteTier: 0)
}

/// Flat bars: realised volatility 0, so the spread is the minimum.
func calmBars(_ maker: inout MarketMaker, count: Int = 3) {
    for index in 0..<count {
        maker.onBar(
            Bar(
                symbol: "BTC", intervalSeconds: 60, openTime: EpochNanos(index) * 60_000 * ms, open: 100_000,
                high: 100_000, low: 100_000, close: 100_000, volume: 1))
    }
}

/// The target an input produced; fails the test when there was none. (`#require` cannot wrap a
/// mutating call itself.)
func published(_ target: QuoteTarget?, sourceLocation: SourceLocation = #_sourceLocation) throws -> QuoteTarget {
    try #require(target, "no target published", sourceLocation: sourceLocation)
}

extension QuoteTarget {
    var codes: Set<ReasonCode> { Set(reasons.map(\.code)) }
}

@Suite("Market maker")
struct MarketMakerTests {
    static let expectedSizes: [Amount] = [
        "0.0435", "0.03915", "0.03524", "0.03171", "0.02854", "0.02569", "0.02312", "0.02081", "0.01873", "0.01685",
        "0.01517", "0.01365",
    ]

    @Test("12 tiers a side, sizes 4,350 USD / 100,000 × 0.9^i on BTC's grid, bids below and asks above the mid")
    func ladder() throws {
        var mm = try maker()
        let target = try published(mm.onBook(btcBook(), now: start))
        #expect(target.bids.count == 12 && target.asks.count == 12)
        #expect(target.bids.map(\.size) == Self.expectedSizes)
        #expect(target.asks.map(\.size) == Self.expectedSizes)
        #expect(target.bids.map(\.tier) == Array(0..<12) && target.asks.map(\.tier) == Array(0..<12))
        // Each tier is 0.9 of the one before, to within the size grid's rounding.
        for (previous, next) in zip(Self.expectedSizes, Self.expectedSizes.dropFirst()) {
            let ratio = next.doubleValue / previous.doubleValue
            #expect(abs(ratio - 0.9) < 0.001)
        }
        #expect(target.bids.allSatisfy { $0.price < 100_000 })
        #expect(target.asks.allSatisfy { $0.price > 100_000 })
        #expect(zip(target.bids, target.bids.dropFirst()).allSatisfy { $0.price > $1.price })
        #expect(zip(target.asks, target.asks.dropFirst()).allSatisfy { $0.price < $1.price })
        // No bars yet: the widest spread, 40 bps, 20 a side; tiers 2 bps apart.
        #expect(target.bids[0].price == 99_800 && target.asks[0].price == 100_200)
        #expect(target.bids[11].price == 99_580 && target.asks[11].price == 100_420)
        #expect(target.codes.contains(.volatilitySpread))
        #expect(target.referencePrice == 100_000 && target.reservationPrice == 100_000)
        #expect(target.maxInventory == 1 && target.inventory == 0)

        #expect(target.targetId == "mm-BTC-1" && target.sequence == 1 && target.symbol == "BTC")
        #expect(target.strategy == "market_making")
        #expect(target.createdAt == start && target.expiresAt == start + 15_000 * ms)
        #expect(target.refresh == QuoteRefresh(toleranceBps: 1, maxOrderAgeMs: 1_800_000, allowModify: true))
        #expect(target.topic == "intent.quotes.BTC")
    }

    @Test("sizes are fixed at the first sound book and kept when the price moves")
    func sizesFixed() throws {
        var mm = try maker()
        _ = mm.onBook(btcBook(), now: start)
        let moved = try published(mm.onBook(btcBook(mid: 110_000, time: start + ms), now: start + ms))
        #expect(moved.bids.map(\.size) == Self.expectedSizes)
        #expect(moved.maxInventory == 1)
        #expect(mm.status.tierSizes == Self.expectedSizes)
    }

    @Test("calm bars give the minimum spread and no volatility reason; rough bars widen it")
    func volatility() throws {
        var mm = try maker()
        calmBars(&mm)
        let calm = try published(mm.onBook(btcBook(), now: start))
        // 4 bps: 2 a side, 20 dollars.
        #expect(calm.spreadBps == 4)
        #expect(calm.bids[0].price == 99_980 && calm.asks[0].price == 100_020)
        #expect(!calm.codes.contains(.volatilitySpread))

        var rough = try maker()
        for (index, close) in [100_000, 100_500, 100_000].enumerated() {
            rough.onBar(
                Bar(
                    symbol: "BTC", intervalSeconds: 60, openTime: EpochNanos(index) * 60_000 * ms,
                    open: Amount(close), high: Amount(close), low: Amount(close), close: Amount(close), volume: 1))
        }
        let wide = try published(rough.onBook(btcBook(), now: start))
        #expect(wide.spreadBps > 4)
        #expect(wide.reasons.contains { $0.code == .volatilitySpread && $0.detail.hasPrefix("spread") })
    }

    @Test("no new target while nothing changes; the keepalive republishes the same quotes")
    func publishOnlyOnChange() throws {
        var mm = try maker()
        let first = try published(mm.onBook(btcBook(), now: start))
        #expect(mm.onBook(btcBook(time: start + ms), now: start + ms) == nil)
        #expect(mm.tick(now: start + 2_000 * ms) == nil)
        #expect(mm.onBook(btcBook(time: start + 4_000 * ms), now: start + 4_000 * ms) == nil)
        let again = try published(mm.tick(now: start + 5_000 * ms))
        #expect(again.quotes == first.quotes)
        #expect(again.sequence == 2 && again.targetId == "mm-BTC-2")
        #expect(again.createdAt == start + 5_000 * ms && again.expiresAt == start + 20_000 * ms)
        #expect(mm.tick(now: start + 5_001 * ms) == nil)
        #expect(mm.status.targetsPublished == 2)

        // A change of the quotes publishes at once.
        let moved = try published(mm.onBook(btcBook(mid: 100_100, time: start + 5_002 * ms), now: start + 5_002 * ms))
        #expect(moved.sequence == 3 && moved.quotes != first.quotes)
    }

    @Test("at the maximum inventory only the reducing side quotes; the limit is relative to the target")
    func oneSidedAtLimit() throws {
        var mm = try maker()
        _ = mm.onBook(btcBook(), now: start)
        mm.onPosition(1)
        let long = try published(mm.onBook(btcBook(time: start + ms), now: start + ms))
        #expect(long.bids.isEmpty && long.asks.count == 12)
        #expect(long.codes.contains(.inventoryLimit))
        #expect(long.inventory == 1 && long.maxInventory == 1)
        #expect(mm.status.state == .quoting && mm.status.bidsWanted == 0 && mm.status.asksWanted == 12)

        mm.onPosition(-1)
        let short = try published(mm.onBook(btcBook(time: start + 2 * ms), now: start + 2 * ms))
        #expect(short.asks.isEmpty && short.bids.count == 12)

        // A target of 1 BTC (100,000 USD): holding 1 is flat, holding 2 is at the limit.
        var targeted = try maker(mmSettings(targetNotional: 100_000))
        targeted.onPosition(1)
        let atTarget = try published(targeted.onBook(btcBook(), now: start))
        #expect(atTarget.bids.count == 12 && atTarget.asks.count == 12)
        #expect(atTarget.reservationPrice == 100_000)
        #expect(targeted.status.inventoryTarget == 1)
        targeted.onPosition(2)
        let over = try published(targeted.onBook(btcBook(time: start + ms), now: start + ms))
        #expect(over.bids.isEmpty && over.asks.count == 12)
    }

    @Test("fills move the inventory; a repeated fill id counts once")
    func fillsMoveInventory() throws {
        var mm = try maker(mmSettings(filledDelayMs: 0))
        _ = mm.onBook(btcBook(), now: start)
        mm.onFill(quoteFill(.buy, size: "0.5", time: start))
        mm.onFill(quoteFill(.buy, size: "0.5", time: start))
        #expect(mm.inventory == Amount("0.5"))
        mm.onFill(quoteFill(.buy, size: "0.5", time: start, id: "f2"))
        #expect(mm.inventory == 1)
        let target = try published(mm.onBook(btcBook(time: start + ms), now: start + ms))
        #expect(target.bids.isEmpty)
        // The account snapshot overrides what the fills said.
        mm.onPosition(0)
        #expect(mm.inventory == 0)
        #expect(mm.status.fillsSeen == 2 && mm.status.inputsIgnored == 1)
    }

    @Test("after a fill the filled side waits out the filled-order delay, then comes back")
    func filledOrderDelay() throws {
        var mm = try maker(mmSettings(filledDelayMs: 3_000))
        _ = mm.onBook(btcBook(), now: start)
        mm.onFill(quoteFill(.buy, time: start + ms))
        let waiting = try published(mm.onBook(btcBook(time: start + 2 * ms), now: start + 2 * ms))
        #expect(waiting.bids.isEmpty && waiting.asks.count == 12)
        #expect(waiting.reasons.contains { $0.code == .filledOrderDelay && $0.detail.hasPrefix("bid") })
        #expect(mm.status.bidWaitsUntil == start + 3_001 * ms)

        // Still waiting just before the end; back at the end, on the clock alone.
        _ = mm.onBook(btcBook(time: start + 2_000 * ms), now: start + 2_000 * ms)
        let stillWaiting = mm.tick(now: start + 3_000 * ms)
        #expect(stillWaiting == nil)
        let back = try published(mm.tick(now: start + 3_001 * ms))
        #expect(back.bids.count == 12 && !back.codes.contains(.filledOrderDelay))

        // A fill that is not a quote's (an exit, say) moves the inventory but starts no delay.
        var other = try maker(mmSettings(filledDelayMs: 3_000))
        _ = other.onBook(btcBook(), now: start)
        var exit = quoteFill(.sell, time: start)
        exit.purpose = .exit
        exit.quoteTier = nil
        other.onFill(exit)
        let target = try published(other.onBook(btcBook(time: start + ms), now: start + ms))
        #expect(target.asks.count == 12 && !target.codes.contains(.filledOrderDelay))
        #expect(other.inventory == Amount("-0.01"))
    }

    @Test("a stale book withdraws every quote with a reason; the next book resumes")
    func staleBook() throws {
        var mm = try maker()
        _ = mm.onBook(btcBook(), now: start)
        #expect(mm.tick(now: start + 5_000 * ms) != nil)  // keepalive, still fresh
        let stale = try published(mm.tick(now: start + 5_001 * ms))
        #expect(stale.quotes.isEmpty)
        #expect(stale.reasons.map(\.code) == [.bookUnsound])
        #expect(stale.reasons[0].detail.contains("no book for 5001 ms"))
        #expect(stale.referencePrice == nil)
        #expect(mm.status.state == .withdrawn)
        #expect(mm.tick(now: start + 6_000 * ms) == nil)

        let resumed = try published(mm.onBook(btcBook(time: start + 7_000 * ms), now: start + 7_000 * ms))
        #expect(resumed.bids.count == 12 && resumed.asks.count == 12)
        #expect(resumed.sequence == stale.sequence + 1)
    }

    @Test("thin, shallow, crossed, locked and malformed books withdraw; a sound one resumes")
    func unsoundBooks() throws {
        var mm = try maker(mmSettings(minDepthNotional: 300_000))
        _ = mm.onBook(btcBook(), now: start)
        var now = start
        func expectWithdrawn(_ book: BookUpdate, _ detail: String) throws {
            now += ms
            var book = book
            book.exchangeTime = now
            let target = try published(mm.onBook(book, now: now))
            #expect(target.quotes.isEmpty)
            #expect(target.reasons.count == 1 && target.reasons[0].code == .bookUnsound)
            #expect(target.reasons[0].detail.contains(detail), "\(target.reasons[0].detail)")
            let sound = try published(mm.onBook(btcBook(time: now), now: now))
            #expect(sound.bids.count == 12 && sound.asks.count == 12)
        }
        try expectWithdrawn(btcBook(levels: 2), "bid side has 2 levels, ask side has 2 levels; 3 required")
        // 10 levels × 0.2 BTC × ~100,000 ≈ 200,000 USD a side, below 300,000.
        try expectWithdrawn(btcBook(bidSize: "0.2"), "bid depth")
        var crossed = btcBook()
        crossed.bids[0].price = 100_002
        crossed.bids.sort { $0.price > $1.price }
        try expectWithdrawn(crossed, "crossed book")
        var locked = btcBook()
        locked.bids[0].price = 100_001
        try expectWithdrawn(locked, "locked book")
        var negative = btcBook()
        negative.asks[3].size = -1
        try expectWithdrawn(negative, "malformed book: ask level 3 has size -1")
        var unordered = btcBook()
        unordered.bids.swapAt(2, 5)
        try expectWithdrawn(unordered, "bid levels out of order")
        // A one-sided book.
        let noAsks = BookUpdate(symbol: "BTC", bids: btcBook().bids, asks: [], exchangeTime: 0)
        try expectWithdrawn(noAsks, "ask side has 0 levels")
    }

    @Test("books of another symbol or older than the last one are ignored")
    func ignoredBooks() throws {
        var mm = try maker()
        _ = mm.onBook(btcBook(time: start + 10 * ms), now: start)
        #expect(mm.onBook(btcBook(levels: 1, symbol: "ETH"), now: start + ms) == nil)
        #expect(mm.onBook(btcBook(levels: 1, time: start), now: start + ms) == nil)
        #expect(mm.status.state == .quoting && mm.status.inputsIgnored == 2)
    }

    @Test("a stale or ended feed withdraws; a live status and the next book resume")
    func feedStatus() throws {
        var mm = try maker()
        _ = mm.onBook(btcBook(), now: start)
        #expect(
            mm.onFeedStatus(
                FeedStatus(symbol: "ETH", state: .stale, source: "feed", lastUpdateAgeMs: 6_000), now: start) == nil)
        let stale = try published(
            mm.onFeedStatus(
                FeedStatus(symbol: "BTC", state: .stale, source: "feed", lastUpdateAgeMs: 6_000, detail: "gap"),
                now: start + ms))
        #expect(stale.quotes.isEmpty && stale.reasons.map(\.code) == [.bookUnsound])
        #expect(stale.reasons[0].detail == "feed stale from feed: gap")
        // The book was forgotten: a live status alone does not quote yet.
        let live = mm.onFeedStatus(
            FeedStatus(symbol: "BTC", state: .live, source: "feed", lastUpdateAgeMs: 0), now: start + 2 * ms)
        #expect(live?.quotes.isEmpty == true)
        #expect(live?.reasons.first?.detail == "no book received yet")
        let resumed = try published(mm.onBook(btcBook(time: start + 3 * ms), now: start + 3 * ms))
        #expect(resumed.bids.count == 12)

        let ended = try published(
            mm.onFeedStatus(
                FeedStatus(symbol: "BTC", state: .ended, source: "replay", lastUpdateAgeMs: 0), now: start + 4 * ms))
        #expect(ended.quotes.isEmpty && ended.codes == [.bookUnsound])
    }

    @Test("before any book the first tick publishes an empty target saying why")
    func noBookYet() throws {
        var mm = try maker()
        #expect(mm.status.state == .waiting)
        let target = try published(mm.tick(now: start))
        #expect(target.quotes.isEmpty && target.reasons == [Reason(.bookUnsound, "no book received yet")])
        #expect(target.maxInventory == 0 && target.referencePrice == nil)
        #expect(mm.tick(now: start + ms) == nil)
    }

    @Test("the price band drops far tiers; the ceiling removes bids above it and the floor asks below it")
    func priceBand() throws {
        // Half-spread 20 bps, tiers 2 bps apart: within 30 bps are tiers 0…5.
        var mm = try maker(mmSettings(priceBandBps: 30))
        let target = try published(mm.onBook(btcBook(), now: start))
        #expect(target.bids.map(\.tier) == Array(0...5) && target.asks.map(\.tier) == Array(0...5))
        #expect(target.quotes.allSatisfy { abs(($0.price - 100_000).doubleValue) <= 300 })
        #expect(target.reasons.contains(Reason(.priceBand, "bid: 6 tiers beyond 30.0 bps of 100000 dropped")))
        #expect(target.reasons.contains { $0.code == .priceBand && $0.detail.hasPrefix("ask") })

        var capped = try maker(mmSettings(ceiling: 99_700))
        let belowCeiling = try published(capped.onBook(btcBook(), now: start))
        #expect(belowCeiling.bids.allSatisfy { $0.price <= 99_700 } && belowCeiling.bids.count == 7)
        #expect(belowCeiling.asks.count == 12)
        #expect(
            belowCeiling.reasons.contains(Reason(.priceBand, "bid: 5 tiers above the price ceiling 99700 dropped")))
        var floored = try maker(mmSettings(floor: 100_300))
        let aboveFloor = try published(floored.onBook(btcBook(), now: start))
        #expect(aboveFloor.asks.allSatisfy { $0.price >= 100_300 } && aboveFloor.asks.count == 7)
        #expect(aboveFloor.bids.count == 12)
        #expect(aboveFloor.reasons.contains { $0.code == .priceBand && $0.detail.contains("price floor 100300") })
        // The market above the ceiling: no bids at all, and the target says why.
        var above = try maker(mmSettings(ceiling: 90_000))
        let sellOnly = try published(above.onBook(btcBook(), now: start))
        #expect(sellOnly.bids.isEmpty && sellOnly.asks.count == 12)

        // A band narrower than the half-spread empties the target, and says so.
        var narrow = try maker(mmSettings(priceBandBps: 10))
        let empty = try published(narrow.onBook(btcBook(), now: start))
        #expect(empty.quotes.isEmpty && empty.codes.contains(.priceBand))
    }

    @Test("a book lean widens the pressured side and says so; an adverse move after a fill widens that side")
    func widening() throws {
        var mm = try maker(mmSettings(filledDelayMs: 0))
        calmBars(&mm)
        // Bids heavier: the asks are pressured and widen.
        let leaning = try published(mm.onBook(btcBook(bidSize: 3, askSize: 1), now: start))
        #expect(leaning.askHalfSpreadBps > leaning.bidHalfSpreadBps)
        #expect(leaning.reasons.contains { $0.code == .bookImbalance && $0.detail.hasPrefix("ask") })
        #expect(leaning.referencePrice! > 100_000)

        // Our ask filled at 100,000, then the mid rose 10 bps: the ask side was picked off.
        mm.onFill(quoteFill(.sell, time: start + ms))
        let after = try published(mm.onBook(btcBook(mid: 100_100, time: start + 2 * ms), now: start + 2 * ms))
        #expect(after.reasons.contains { $0.code == .adverseSelection && $0.detail.hasPrefix("ask") })
        #expect(after.askHalfSpreadBps == 2 * after.bidHalfSpreadBps)
        #expect(mm.status.adverseSelectionDetections == 1)
    }

    @Test("a ladder too small for the venue's minimum order value quotes nothing, and says why")
    func ladderTooSmall() throws {
        // Tier 0 is 5 USD, below the 10 USD minimum order value.
        var mm = try maker(mmSettings(baseNotional: 5))
        let target = try published(mm.onBook(btcBook(), now: start))
        #expect(target.quotes.isEmpty)
        #expect(target.reasons.filter { $0.code == .ladderTooSmall }.count == 2)

        // A minimum lot above tier 0: the ladder cannot be sized.
        var lot = mmSettings()
        lot.minimumLot = 1
        var big = try maker(lot)
        let unsized = try published(big.onBook(btcBook(), now: start))
        #expect(unsized.quotes.isEmpty && unsized.codes == [.ladderTooSmall])
        #expect(unsized.reasons[0].detail.contains("minimumLot 1 exceeds baseSize"))
        #expect(big.quoter == nil)
    }

    @Test("settings validation lists every problem at once; the maker refuses invalid settings")
    func validation() throws {
        #expect(throws: Never.self) { try mmSettings().validate() }
        var bad = mmSettings()
        bad.tiers = 0
        bad.baseNotional = -1
        bad.sizeDecay = 2
        bad.minSpreadBps = 50
        bad.maxSpreadBps = 10
        bad.microLevels = 0
        bad.staleBookMs = 0
        bad.priceBandBps = .nan
        bad.priceCeiling = 100
        bad.priceFloor = 200
        bad.keepaliveMs = 20_000
        bad.filledOrderDelayMs = -1
        do {
            try bad.validate()
            Issue.record("invalid settings passed")
        } catch {
            let text = error.description
            for name in [
                "tiers 0", "baseNotional -1", "sizeDecay 2", "minSpreadBps (50.0)", "microLevels 0", "staleBookMs 0",
                "priceBandBps nan", "priceFloor 200 is above priceCeiling 100", "quoteLifetimeMs 15000 must exceed",
                "filledOrderDelayMs -1",
            ] {
                #expect(text.contains(name), "missing \(name) in \(text)")
            }
            #expect(error.problems.count == 10)
        }
        #expect(throws: StrategyConfigError.self) { try maker(bad) }
        #expect(throws: StrategyConfigError.self) {
            try MarketMaker(symbol: "ETH", instrument: btc, settings: mmSettings(), idPrefix: "")
        }
    }

    @Test("bad inputs never crash: absurd times, bars and fills are ignored or saturate")
    func badInputs() throws {
        var mm = try maker()
        mm.onBar(
            Bar(symbol: "BTC", intervalSeconds: 60, openTime: 0, open: 0, high: 0, low: 0, close: 0, volume: 0))
        mm.onFill(quoteFill(.buy, size: -1, time: start))
        mm.onFill(quoteFill(.buy, time: .max, id: "late"))
        #expect(mm.inventory == Amount("0.01"))
        let target = try published(mm.onBook(btcBook(time: .max - 1), now: .max - 1))
        #expect(target.expiresAt == .max)
        #expect(target.bids.isEmpty && target.asks.count == 12)  // the bid waits until the end of time
        // A clock running backwards neither crashes nor republishes.
        #expect(mm.tick(now: .min) == nil)
    }
}
