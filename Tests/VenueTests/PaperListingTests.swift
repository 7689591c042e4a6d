import Foundation
import Market
import Schema
import Testing
import TestSupport

@testable import Venue

/// Close-to-close log returns of `count` candles.
private func returns(_ market: SyntheticMarket, count: Int) -> [Double] {
    var market = market
    let closes = (0..<count).map { _ in market.nextCandle().close.doubleValue }
    return zip(closes, closes.dropFirst()).map { log($1 / $0) }
}

/// Every level of the synthetic book around `price` is a price and a size the venue accepts.
private func bookProblems(around price: Amount, spec: AssetSpec) -> [String] {
    let (bids, asks) = MarketScripts.syntheticBook(around: price, spec: spec)
    var problems: [String] = []
    if bids.count != 20 || asks.count != 20 { problems.append("\(bids.count) bids, \(asks.count) asks") }
    for level in bids + asks {
        if let error = AssetRules.priceError(level.px, spec: spec, asset: 0) { problems.append("px \(level.px): \(error)") }
        if let error = AssetRules.sizeError(level.sz, spec: spec) { problems.append("sz \(level.sz): \(error)") }
    }
    if let bid = bids.first, let ask = asks.first, !(bid.px < price && price <= ask.px || bid.px <= price && price < ask.px) {
        problems.append("touch \(bid.px)/\(ask.px) does not straddle \(price)")
    }
    return problems
}

/// Names the default list does not hold: what a config may name.
private let unknownNames = ["PEPE", "kPEPE", "WIF", "HYPE", "X", "TAO", "ENA", "ZZZ"] + (0..<200).map { "COIN\($0)" }

@Suite("Paper listings")
struct PaperListingTests {
    @Test("the defaults: at least 8 distinct coins, varied size decimals, prices over three orders of magnitude")
    func defaults() {
        let listings = PaperListing.defaults
        #expect(listings.count >= 8)
        #expect(Set(listings.map(\.spec.name)).count == listings.count)
        #expect(Set(listings.map(\.spec.szDecimals)).count >= 4)
        let prices = listings.map(\.startPrice)
        let span = prices.max()! / prices.min()!
        #expect(span >= 1_000, "\(span)")
        for listing in listings {
            #expect((0...5).contains(listing.spec.szDecimals), "\(listing.spec.name)")
            #expect(listing.beta > 0 && listing.beta <= 1 && listing.volatility > 0, "\(listing.spec.name)")
            #expect(PaperListing.listing(listing.spec.name) == listing, "a default is found by name")
            let problems = bookProblems(around: Amount(listing.startPrice), spec: listing.spec)
            #expect(problems.isEmpty, "\(listing.spec.name): \(problems)")
        }
    }

    @Test("an unknown coin's listing is derived from its name: the same each time, with venue-valid books")
    func unknownCoins() {
        var decimals = Set<Int>()
        for name in unknownNames {
            let listing = PaperListing.listing(name)
            #expect(PaperListing.listing(name) == listing, "\(name)")
            #expect(listing.spec.name == name)
            #expect((0...5).contains(listing.spec.szDecimals), "\(name): \(listing.spec.szDecimals)")
            #expect(listing.startPrice >= 0.1 && listing.startPrice <= 1_000, "\(name): \(listing.startPrice)")
            #expect(listing.beta >= 0.4 && listing.beta <= 0.8 && listing.volatility >= 1 && listing.volatility <= 2)
            #expect([3, 5, 10, 20].contains(listing.spec.maxLeverage))
            let problems = bookProblems(around: Amount(listing.startPrice), spec: listing.spec)
            #expect(problems.isEmpty, "\(name) at \(listing.startPrice): \(problems)")
            decimals.insert(listing.spec.szDecimals)
        }
        // Names do spread over the range (a constant would pass the checks above).
        #expect(decimals.count >= 4, "\(decimals.sorted())")
        #expect(PaperListing.listing("COIN1") != PaperListing.listing("COIN2"))
    }

    @Test("two default coins on one market seed move together; on different seeds they do not")
    func defaultCoinsMoveTogether() {
        let btc = PaperListing.listing("BTC"), eth = PaperListing.listing("ETH")
        let count = 400
        let together = pearson(
            returns(btc.market(marketSeed: 3, ownSeed: 1, startPrice: nil), count: count),
            returns(eth.market(marketSeed: 3, ownSeed: 2, startPrice: nil), count: count))
        #expect(together > 0.6, "\(together)")
        let apart = pearson(
            returns(btc.market(marketSeed: 3, ownSeed: 1, startPrice: nil), count: count),
            returns(eth.market(marketSeed: 4, ownSeed: 2, startPrice: nil), count: count))
        #expect(abs(apart) < 0.2, "\(apart)")
    }

    @Test("a listing's market starts at its price (or the one given) on its own tick")
    func marketSettings() {
        let sol = PaperListing.listing("SOL")
        let market = sol.market(marketSeed: 1, ownSeed: 2, startPrice: nil)
        #expect(market.settings.startPrice == 200 && market.settings.beta == sol.beta)
        #expect(market.settings.marketSeed == 1 && market.settings.seed == 2)
        #expect(market.settings.tick == MarketScripts.tick(at: 200, spec: sol.spec))
        #expect(market.settings.barVolatility == 0.0012 * sol.volatility)
        #expect(sol.market(marketSeed: 1, ownSeed: 2, startPrice: 180).settings.startPrice == 180)
    }

    /// A walking price reaches powers of ten: the asks above one must take the coarser tick there
    /// (9.9999 → 10 → 10.001), or they have six significant figures and the venue refuses them.
    @Test("the book just below a power of ten stays within the price rules", arguments: [
        ("9.999", 2), ("99.99", 3), ("0.99999", 1), ("999.9", 4), ("9999", 5), ("0.09999", 0),
    ])
    func bookAcrossAPowerOfTen(price: String, szDecimals: Int) throws {
        let spec = AssetSpec(name: "X", szDecimals: szDecimals, maxLeverage: 10)
        let mid = try #require(Amount(price))
        #expect(bookProblems(around: mid, spec: spec).isEmpty, "\(bookProblems(around: mid, spec: spec))")
        let asks = MarketScripts.syntheticBook(around: mid, spec: spec).1.map(\.px)
        #expect(zip(asks, asks.dropFirst()).allSatisfy { $0 < $1 }, "asks rise: \(asks)")
    }
}
