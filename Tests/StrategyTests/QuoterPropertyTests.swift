import Foundation
import Schema
import Strategy
import Testing

/// Random instruments, settings and markets from a seeded SplitMix64: every failure
/// replays from its seed.
@Suite("Quoter properties")
struct QuoterPropertyTests {
    struct Scenario {
        var instrument: Instrument
        var settings: QuoterSettings
        var input: QuoteInput
        var fills: [(Side, Amount, EpochNanos)]
    }

    /// A multiple of 10^-decimals between the bounds.
    static func gridAmount(_ random: inout SplitMix64, _ range: ClosedRange<Double>, decimals: Int) -> Amount {
        Amount(random.double(in: range)).rounded(scale: decimals, .down)
    }

    static func scenario(_ random: inout SplitMix64) -> Scenario {
        let szDecimals = random.int(in: 2...5)
        let instrument = Instrument(
            symbol: "R", szDecimals: szDecimals, minOrderValue: random.chance(0.5) ? 0 : 10)
        let base = gridAmount(&random, 0.1...5, decimals: 2)
        let maxInventory = gridAmount(&random, 0.5...20, decimals: 2)
        let minSpread = random.double(in: 0.5...10)
        let volatilityLow = random.double(in: 0...0.002)
        let settings = QuoterSettings(
            tiersPerSide: random.int(in: 1...12), baseSize: base,
            sizeDecay: gridAmount(&random, 0.5...1, decimals: 2), minimumLot: gridAmount(&random, 0...0.1, decimals: 2),
            tierSizeRounding: random.chance(0.5) ? .nearest : .down, tierSpacingBps: random.double(in: 0...10),
            minSpreadBps: minSpread, maxSpreadBps: minSpread * random.double(in: 1...20), volatilityLow: volatilityLow,
            volatilityHigh: volatilityLow + random.double(in: 0.0001...0.01),
            imbalanceWidening: random.double(in: 0...3), maxSideWidening: random.double(in: 1...4),
            adverseSelection: AdverseSelectionSettings(
                windowNanos: 5_000_000_000, thresholdBps: random.double(in: 0...20),
                wideningFactor: random.double(in: 1...4), halfLifeNanos: 10_000_000_000),
            maxInventory: maxInventory, inventorySkewBps: random.double(in: 0...300),
            inventorySizeShrink: random.double(in: 0...1))

        // A price between 0.01 and 200,000, on the instrument's grid, and a book around it.
        let level = random.double(in: -2...5.3)
        let price = instrument.roundPrice(Amount(pow(10, level)))
        var bestBid: Amount? = instrument.nextPrice(below: price)
        var bestAsk: Amount? = price
        for _ in 0..<random.int(in: 0...3) { bestAsk = instrument.nextPrice(above: bestAsk!) }
        if !bestBid!.isPositive { bestBid = nil }
        if random.chance(0.1) { bestBid = nil }
        if random.chance(0.1) { bestAsk = nil }
        let reference = bestBid.flatMap { bid in bestAsk.map { (bid + $0) / 2 } } ?? price
        let volatility: Double =
            random.chance(0.05) ? .nan : random.double(in: -0.001...0.02)
        let inventory = (maxInventory * Amount(random.double(in: -1.5...1.5))).rounded(scale: szDecimals, .down)
        let now: EpochNanos = 10_000_000_000
        var fills: [(Side, Amount, EpochNanos)] = []
        for _ in 0..<random.int(in: 0...3) {
            let move = random.double(in: -0.005...0.005)
            fills.append(
                (
                    random.chance(0.5) ? .buy : .sell, reference * Amount(1 + move),
                    now - EpochNanos(random.int(in: 0...8_000_000_000))
                ))
        }
        return Scenario(
            instrument: instrument, settings: settings,
            input: QuoteInput(
                referencePrice: reference, bestBid: bestBid, bestAsk: bestAsk, volatility: volatility,
                imbalance: random.double(in: -1.5...1.5), inventory: inventory, now: now),
            fills: fills)
    }

    static func plans(seed: UInt64, count: Int) -> [(Scenario, Quoter, QuotePlan)] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let scenario = scenario(&random)
            var quoter = Quoter(instrument: scenario.instrument, settings: scenario.settings)
            for (side, price, time) in scenario.fills { quoter.onFill(side: side, price: price, time: time) }
            let plan = quoter.quote(scenario.input)
            return (scenario, quoter, plan)
        }
    }

    @Test("tier sizes and spreads stay inside their bounds", arguments: [1, 2, 3] as [UInt64])
    func bounds(seed: UInt64) {
        var quoted = 0
        var widenedByFills = 0
        var atMaximum = 0
        for (scenario, quoter, plan) in Self.plans(seed: seed, count: 300) {
            let settings = scenario.settings
            let epsilon = 1e-9
            quoted += plan.quotes.count
            if plan.reasons.contains(where: { $0.code == .adverseSelection }) { widenedByFills += 1 }
            if plan.spreadBps == settings.maxSpreadBps { atMaximum += 1 }
            #expect(plan.spreadBps >= settings.minSpreadBps - epsilon)
            #expect(plan.spreadBps <= settings.maxSpreadBps + epsilon)
            for (half, widening) in [
                (plan.bidHalfSpreadBps, plan.bidWidening), (plan.askHalfSpreadBps, plan.askWidening),
            ] {
                #expect(widening >= 1 && widening <= settings.maxSideWidening)
                #expect(half >= settings.minSpreadBps / 2 - epsilon)
                #expect(half <= settings.maxSpreadBps / 2 * settings.maxSideWidening + epsilon)
            }
            for size in quoter.tierSizes {
                #expect(size <= settings.baseSize && !size.isNegative)
                #expect(scenario.instrument.roundSize(size) == size)
            }
            for quote in plan.quotes {
                #expect(quote.size >= settings.minimumLot && quote.size <= settings.baseSize)
                #expect(quote.size <= quoter.tierSizes[quote.tier])
                #expect(scenario.instrument.isValidSize(quote.size))
                #expect(scenario.instrument.isValidPrice(quote.price), "\(quote.price)")
                #expect(quote.size * quote.price >= scenario.instrument.minOrderValue)
                #expect(quote.timeInForce == .alo && quote.orderType == .limit)
            }
        }
        // The scenarios reach the interesting cases.
        #expect(quoted > 1_000 && widenedByFills > 10 && atMaximum > 10, "\(quoted) \(widenedByFills) \(atMaximum)")
    }

    @Test(
        "quotes never cross the touch or each other, and tiers are strictly ordered", arguments: [4, 5, 6] as [UInt64])
    func neverCross(seed: UInt64) {
        var atTouch = 0
        for (scenario, _, plan) in Self.plans(seed: seed, count: 300) {
            let input = scenario.input
            if let ask = input.bestAsk, plan.bids.first?.price == scenario.instrument.nextPrice(below: ask) {
                atTouch += 1
            }
            if let ask = input.bestAsk { #expect(plan.bids.allSatisfy { $0.price < ask }) }
            if let bid = input.bestBid { #expect(plan.asks.allSatisfy { $0.price > bid }) }
            if let topBid = plan.bids.first, let topAsk = plan.asks.first { #expect(topBid.price < topAsk.price) }
            #expect(zip(plan.bids, plan.bids.dropFirst()).allSatisfy { $0.price > $1.price && $0.tier < $1.tier })
            #expect(zip(plan.asks, plan.asks.dropFirst()).allSatisfy { $0.price < $1.price && $0.tier < $1.tier })
        }
        #expect(atTouch > 10, "only \(atTouch) plans pushed against the touch")
    }

    @Test("the inventory limit holds even if every resting quote fills", arguments: [7, 8, 9] as [UInt64])
    func inventoryLimit(seed: UInt64) {
        var stopped = 0
        var capped = 0
        for (scenario, quoter, plan) in Self.plans(seed: seed, count: 300) {
            let maximum = scenario.settings.maxInventory
            if plan.reasons.contains(where: { $0.detail.contains("stopped") }) { stopped += 1 }
            if plan.reasons.contains(where: { $0.detail.contains("capped") }) { capped += 1 }
            let inventory = scenario.input.inventory
            let bought = plan.bids.map(\.size).sum()
            let sold = plan.asks.map(\.size).sum()
            if !plan.bids.isEmpty { #expect(inventory + bought <= maximum) }
            if !plan.asks.isEmpty { #expect(inventory - sold >= -maximum) }
            if inventory >= maximum { #expect(plan.bids.isEmpty) }
            if inventory <= -maximum { #expect(plan.asks.isEmpty) }
            // The increasing side's sizes shrink with the inventory.
            let ratio = min(1, max(-1, (inventory / maximum).doubleValue))
            let factor = Amount(max(0, 1 - scenario.settings.inventorySizeShrink * abs(ratio)))
            let increasing = ratio > 0 ? plan.bids : (ratio < 0 ? plan.asks : [])
            for quote in increasing { #expect(quote.size <= quoter.tierSizes[quote.tier] * factor) }
        }
        #expect(stopped > 10 && capped > 10, "stopped \(stopped), capped \(capped)")
    }
}
