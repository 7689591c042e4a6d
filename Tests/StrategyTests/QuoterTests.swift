import Foundation
import Market
import Schema
import Strategy
import Testing

let eth = Instrument(symbol: "ETH", szDecimals: 3, minOrderValue: 10)

func quoterSettings(
    tiers: Int = 12, base: Amount = "0.435", decay: Amount = "0.9", minimumLot: Amount = "0.1",
    maxInventory: Amount = 100, skewBps: Double = 10, shrink: Double = 1, spacingBps: Double = 2,
    imbalanceWidening: Double = 1, maxSideWidening: Double = 3
) -> QuoterSettings {
    QuoterSettings(
        tiersPerSide: tiers, baseSize: base, sizeDecay: decay, minimumLot: minimumLot, tierSpacingBps: spacingBps,
        minSpreadBps: 4, maxSpreadBps: 40, volatilityLow: 0.001, volatilityHigh: 0.003,
        imbalanceWidening: imbalanceWidening, maxSideWidening: maxSideWidening,
        adverseSelection: AdverseSelectionSettings(
            windowNanos: 5_000_000_000, thresholdBps: 5, wideningFactor: 2, halfLifeNanos: 30_000_000_000),
        maxInventory: maxInventory, inventorySkewBps: skewBps, inventorySizeShrink: shrink)
}

/// A calm market at 3000 with a one-tick book, flat inventory, no imbalance.
func calm(
    inventory: Amount = 0, imbalance: Double = 0, volatility: Double = 0, now: EpochNanos = 0,
    mid: Amount = 3_000, bestBid: Amount? = "2999.9", bestAsk: Amount? = "3000.1"
) -> QuoteInput {
    QuoteInput(
        referencePrice: mid, bestBid: bestBid, bestAsk: bestAsk, volatility: volatility, imbalance: imbalance,
        inventory: inventory, now: now)
}

@Suite("Quoter")
struct QuoterTests {
    @Test("worked example: 12 tiers, base 0.435, decay 0.9 → level 11 is 0.137, above a 0.1 minimum lot")
    func workedExample() {
        var quoter = Quoter(instrument: eth, settings: quoterSettings())
        // 0.435 × 0.9^11 = 0.13650760929915: to 3 decimals, halves up, 0.137.
        #expect(quoter.tierSizes[11] == Amount("0.137"))
        #expect(
            quoter.tierSizes == [
                "0.435", "0.392", "0.352", "0.317", "0.285", "0.257", "0.231", "0.208", "0.187", "0.169", "0.152",
                "0.137",
            ])
        #expect(quoter.quotableTierSizes.count == 12)
        let plan = quoter.quote(calm())
        #expect(plan.bids.map(\.size) == quoter.tierSizes)
        #expect(plan.asks.map(\.size) == quoter.tierSizes)
        #expect(plan.bids[11].size == Amount("0.137") && plan.bids[11].tier == 11)
        #expect(plan.quotes.allSatisfy { $0.orderType == .limit && $0.timeInForce == .alo })

        // Rounding down instead would give 0.136: the field number is rounding to nearest.
        var down = quoterSettings()
        down.tierSizeRounding = .down
        #expect(Quoter(instrument: eth, settings: down).tierSizes[11] == Amount("0.136"))
    }

    @Test("tiers below the minimum lot are dropped; the minimum applies to the rounded size")
    func minimumLot() {
        let quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 16))
        // Level 14 is 0.0995… → 0.100, kept; level 15 is 0.0895… → 0.090, dropped.
        #expect(quoter.tierSizes[14] == Amount("0.1"))
        #expect(quoter.tierSizes[15] == Amount("0.09"))
        #expect(quoter.quotableTierSizes.count == 15)
        let plan = quoter.plan(calm())
        #expect(plan.bids.count == 15 && plan.asks.count == 15)
        #expect(plan.bids.last?.tier == 14)
    }

    @Test("a tier below the venue's minimum order value is dropped")
    func minimumNotional() {
        let quoter = Quoter(
            instrument: Instrument(symbol: "X", szDecimals: 3, minOrderValue: 10), settings: quoterSettings())
        // At a price of 50, tier 7 (0.208) is worth 10.4 and tier 8 (0.187) only 9.35.
        let plan = quoter.plan(calm(mid: 50, bestBid: nil, bestAsk: nil))
        #expect(plan.bids.map(\.tier) == Array(0...7))
        #expect(plan.asks.map(\.tier) == Array(0...7))
    }

    @Test("the spread moves geometrically from its minimum to its maximum with volatility")
    func spreadFromVolatility() {
        let settings = quoterSettings()
        func spread(_ volatility: Double) -> Double { Quoter.spreadBps(volatility: volatility, settings: settings) }
        #expect(spread(0) == 4)
        #expect(spread(0.001) == 4)
        #expect(abs(spread(0.002) - (4.0 * 40).squareRoot()) < 1e-9)  // t = ½: the geometric mean
        #expect(abs(spread(0.0015) - 4 * pow(10, 0.25)) < 1e-9)
        #expect(spread(0.003) == 40)
        #expect(spread(1) == 40)
        #expect(spread(.nan) == 40)
        #expect(spread(.infinity) == 40)
        #expect(spread(-.infinity) == 4)
    }

    @Test("prices: tier 0 at half the spread from the mid, tiers spaced out, bids down and asks up")
    func prices() {
        let quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 3))
        let plan = quoter.plan(calm())
        // spread 4 bps → 2 bps a side = 0.6; tiers 2 bps further each.
        #expect(plan.bids.map(\.price) == ["2999.4", "2998.8", "2998.2"])
        #expect(plan.asks.map(\.price) == ["3000.6", "3001.2", "3001.8"])
        // 3000.05 ∓ 2 bps, at 5 significant figures.
        let wide = Quoter(instrument: eth, settings: quoterSettings(tiers: 1, spacingBps: 0))
        let odd = wide.plan(calm(mid: "3000.05", bestBid: "3000", bestAsk: "3000.1"))
        #expect(odd.bids[0].price == Amount("2999.4"))  // 2999.449… rounded down
        #expect(odd.asks[0].price == Amount("3000.7"))  // 3000.650… rounded up
    }

    @Test("book imbalance widens the side under pressure, up to the cap")
    func imbalance() {
        let quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 1))
        let bidHeavy = quoter.plan(calm(imbalance: 0.5))
        #expect(bidHeavy.askWidening == 1.5 && bidHeavy.bidWidening == 1)
        #expect(bidHeavy.askHalfSpreadBps == 3 && bidHeavy.bidHalfSpreadBps == 2)
        #expect(bidHeavy.reasons.map(\.code) == [.bookImbalance])
        let offerHeavy = quoter.plan(calm(imbalance: -1))
        #expect(offerHeavy.bidWidening == 2 && offerHeavy.askWidening == 1)
        #expect(offerHeavy.bids[0].price == Amount("2998.8"))
        let capped = Quoter(instrument: eth, settings: quoterSettings(imbalanceWidening: 5)).plan(calm(imbalance: 1))
        #expect(capped.askWidening == 3)
    }

    @Test("adverse selection: a fill followed by an adverse move widens that side, then decays")
    func adverseSelection() {
        var quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 1))
        quoter.onFill(side: .buy, price: 3_000, time: 0)
        // 1 s later the mid is 3 (10 bps) below the fill: our bids were picked off.
        let hit = quoter.quote(calm(now: 1_000_000_000, mid: 2_997, bestBid: "2996.9", bestAsk: "2997.1"))
        #expect(hit.bidWidening == 2 && hit.askWidening == 1)
        #expect(hit.reasons.map(\.code) == [.adverseSelection])
        #expect(quoter.adverseSelection.detections == 1)
        #expect(quoter.adverseSelection.watched.isEmpty)
        // One half-life later half the excess is left; ten later almost none.
        let later = quoter.quote(calm(now: 31_000_000_000))
        #expect(abs(later.bidWidening - 1.5) < 1e-12)
        let much = quoter.quote(calm(now: 301_000_000_000))
        #expect(much.bidWidening < 1.001)

        // Combined with imbalance, capped.
        var both = Quoter(instrument: eth, settings: quoterSettings(tiers: 1))
        both.onFill(side: .sell, price: 3_000, time: 0)
        let squeezed = both.quote(calm(imbalance: 1, now: 2_000_000_000, mid: "3002"))
        #expect(squeezed.askWidening == 3)  // 2 × 2, capped at 3
        #expect(squeezed.bidWidening == 1)
    }

    @Test("no adverse selection: a move too small, a favourable move, or a move after the window")
    func notAdverse() {
        var quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 1))
        quoter.onFill(side: .buy, price: 3_000, time: 0)
        quoter.onFill(side: .sell, price: 3_000, time: 0)
        #expect(quoter.quote(calm(now: 1_000_000_000, mid: "2999")).bidWidening == 1)  // 3.3 bps < 5
        #expect(quoter.quote(calm(now: 2_000_000_000, mid: "2999")).askWidening == 1)  // favourable to the sell
        #expect(quoter.adverseSelection.watched.count == 2)
        // 6 s after the fills the window (5 s) is over: the move no longer counts.
        let late = quoter.quote(calm(now: 6_000_000_000, mid: 2_990))
        #expect(late.bidWidening == 1)
        #expect(quoter.adverseSelection.watched.isEmpty)
        #expect(quoter.adverseSelection.detections == 0)
    }

    @Test("inventory: quotes shift against it, the increasing side shrinks, and stops at the maximum")
    func inventory() {
        let settings = quoterSettings(
            tiers: 5, base: "0.4", decay: "0.5", minimumLot: "0.01", maxInventory: 2, skewBps: 10)
        let quoter = Quoter(instrument: eth, settings: settings)
        #expect(quoter.tierSizes == ["0.4", "0.2", "0.1", "0.05", "0.025"])

        let half = quoter.plan(calm(inventory: 1, bestBid: nil, bestAsk: nil))
        #expect(half.reservationPrice == Amount("2998.5"))  // 3000 − 5 bps
        #expect(half.bids.map(\.size) == ["0.2", "0.1", "0.05", "0.025", "0.012"])
        #expect(half.asks.map(\.size) == quoter.tierSizes)
        #expect(half.bids[0].price == Amount("2997.9"))  // 2998.5 − 2 bps = 2997.90…
        #expect(half.asks[0].price == Amount("2999.1"))
        #expect(half.reasons.map(\.code) == [.inventoryLimit])

        let short = quoter.plan(calm(inventory: -1))
        #expect(short.reservationPrice == Amount("3001.5"))
        #expect(short.asks.map(\.size) == ["0.2", "0.1", "0.05", "0.025", "0.012"])
        #expect(short.bids.map(\.size) == quoter.tierSizes)

        let full = quoter.plan(calm(inventory: 2))
        #expect(full.bids.isEmpty)
        #expect(full.asks.map(\.size) == quoter.tierSizes)
        #expect(full.reasons.contains { $0.code == .inventoryLimit && $0.detail.contains("stopped") })
        #expect(quoter.plan(calm(inventory: -3)).asks.isEmpty)
    }

    @Test("a side never rests more than takes inventory to its maximum")
    func inventoryRoom() {
        let settings = quoterSettings(
            tiers: 5, base: "0.4", decay: "0.5", minimumLot: "0.01", maxInventory: 2, shrink: 0)
        let plan = Quoter(instrument: eth, settings: settings).plan(calm(inventory: "1.75"))
        #expect(plan.bids.map(\.size) == ["0.25"])  // 0.4 capped to the 0.25 left
        #expect(plan.asks.map(\.size).sum() == Amount("0.775"))
    }

    @Test("quotes never cross the touch, however far the skew pushes them")
    func touch() {
        let quoter = Quoter(instrument: eth, settings: quoterSettings(tiers: 3, maxInventory: 2, skewBps: 200))
        let plan = quoter.plan(calm(inventory: -1))  // reservation 3030, far above the ask
        #expect(plan.bids.map(\.price) == ["3000", "2999.9", "2999.8"])
        #expect(plan.asks.allSatisfy { $0.price > 3_030 })
        let down = quoter.plan(calm(inventory: 1))  // reservation 2970, far below the bid
        #expect(down.asks.map(\.price) == ["3000", "3000.1", "3000.2"])
    }

    @Test("nothing is quoted on a crossed book or without a reference price")
    func refusals() {
        let quoter = Quoter(instrument: eth, settings: quoterSettings())
        let crossed = quoter.plan(calm(bestBid: "3000.2", bestAsk: "3000.1"))
        #expect(crossed.quotes.isEmpty && crossed.reasons.map(\.code) == [.crossedBook])
        let none = quoter.plan(calm(mid: 0))
        #expect(none.quotes.isEmpty && none.reasons.map(\.code) == [.noReferencePrice])
    }

    @Test("input from a book: mid, touch and imbalance")
    func fromBook() throws {
        let book = OrderBook(
            symbol: "ETH", bids: [BookLevel(price: "2999.9", size: 3), BookLevel(price: "2999.8", size: 3)],
            asks: [BookLevel(price: "3000.1", size: 2)])
        let input = try #require(QuoteInput(book: book, volatility: 0, inventory: 0, now: 0))
        #expect(input.referencePrice == 3_000 && input.bestBid == Amount("2999.9") && input.bestAsk == Amount("3000.1"))
        #expect(abs(input.imbalance - 0.5) < 1e-12)
        #expect(QuoteInput(book: OrderBook(symbol: "ETH"), volatility: 0, inventory: 0, now: 0) == nil)
    }

    @Test("settings are validated with every problem at once")
    func validation() {
        var bad = quoterSettings()
        bad.tiersPerSide = 0
        bad.sizeDecay = "1.5"
        bad.minSpreadBps = 50
        bad.maxInventory = 0
        do {
            try bad.validate()
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 4, "\(error.problems)")
        }
    }
}
