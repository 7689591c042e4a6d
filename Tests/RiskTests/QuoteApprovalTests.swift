import Risk
import Schema
import Testing

/// A ladder on S0 (mark 100): `tiers` bids 99, 98, … and asks 101, 102, … of `size` each.
func quoteTarget(
    _ symbol: String = "S0", tiers: Int = 3, size: Amount = 1, at now: EpochNanos = t0, ttl: Int64 = seconds(5),
    id: String = "t1"
) -> QuoteTarget {
    var quotes: [QuoteLevel] = []
    for tier in 0..<tiers { quotes.append(QuoteLevel(side: .buy, tier: tier, price: Amount(99 - tier), size: size)) }
    for tier in 0..<tiers { quotes.append(QuoteLevel(side: .sell, tier: tier, price: Amount(101 + tier), size: size)) }
    return QuoteTarget(
        targetId: id, symbol: symbol, strategy: "market_making", sequence: 1, quotes: quotes, referencePrice: 100,
        reservationPrice: 100, spreadBps: 200, bidHalfSpreadBps: 100, askHalfSpreadBps: 100, inventory: 0,
        maxInventory: 10, refresh: QuoteRefresh(toleranceBps: 1, maxOrderAgeMs: 0, allowModify: true), reasons: [],
        createdAt: now, expiresAt: now + ttl)
}

@Suite("Quote approval: the risk gate clips a market maker's whole quote set")
struct QuoteApprovalTests {
    @Test("within every limit the whole ladder passes, in wire order, and counts as exposure")
    func wholeLadderPasses() {
        var book = activeBook()
        let approved = book.approve(quoteTarget(), now: t0)
        #expect(approved.quotes.count == 6)
        #expect(approved.clipped.isEmpty && approved.reasons.isEmpty)
        #expect(approved.quotes.map(\.price) == [99, 98, 97, 101, 102, 103])
        #expect(approved.tradingState == .active)
        // Worst case: every ask filled, each at the worse of its price and the mark (101 + 102 + 103).
        #expect(book.symbolExposure("S0") == 306)
    }

    @Test("SYNCING, HALTED and the kill switch rest nothing, each saying why")
    func statesRestNothing() {
        var syncing = RiskBook(limits: roomyLimits(), instruments: testInstruments(), startingCapital: 10_000, now: t0)
        #expect(syncing.approve(quoteTarget(), now: t0).quotes.isEmpty)
        #expect(syncing.approve(quoteTarget(), now: t0).reasons.map(\.code) == [.stateSyncing])

        var book = activeBook()
        _ = book.approve(quoteTarget(), now: t0)
        _ = book.setKillSwitch(true, reason: "operator", by: "test", from: "tests", now: t0 + 1)
        let withdrawn = book.reapproveQuotes(now: t0 + 2)
        #expect(withdrawn.count == 1)
        #expect(withdrawn.first?.quotes.isEmpty == true)
        #expect(withdrawn.first.map { [.stateHalted, .killSwitch].contains($0.reasons.first?.code) } == true)
        #expect(book.symbolExposure("S0") == 0)
    }

    @Test("REDUCING keeps only the side that shrinks the position, at most its size")
    func reducingKeepsReducingSide() {
        var book = activeBook(positions: [position("S0", "1.5")])
        _ = book.setVenueAvailable(false, reason: "test outage", now: t0)
        #expect(book.state == .reducing)
        let approved = book.approve(quoteTarget(), now: t0 + 1)
        #expect(approved.quotes.allSatisfy { $0.side == .sell })
        #expect(approved.quotes.map(\.size).sum() == "1.5")
        #expect(approved.reasons.contains { $0.code == .stateReducing })
    }

    @Test("inventory: quotes that would take the position past maxQuoteInventory are shrunk, then removed")
    func inventoryClips() {
        var limits = roomyLimits()
        limits.maxQuoteInventory = 250
        var book = activeBook(limits)
        let approved = book.approve(quoteTarget(), now: t0)
        // Bids: 99 (1 at ref 100 → 100), 98 (→ 200), 97 would reach 300 > 250: 0.5 fits.
        #expect(approved.bids.map(\.size) == [1, 1, "0.5"])
        #expect(approved.clipped.contains { $0.reason.code == .maxInventory && $0.allowedSize == "0.5" })

        // Already at the limit: the growing side goes, the shrinking side may go through zero to the limit.
        var long = activeBook(limits, positions: [position("S0", "2.5")])
        let oneSided = long.approve(quoteTarget(), now: t0)
        #expect(oneSided.bids.isEmpty)
        #expect(oneSided.reasons.contains { $0.code == .maxInventory })
        #expect(oneSided.asks.map(\.size).sum() == 3)
    }

    @Test("order notional, symbol worst case and gross exposure each clip with their own reason")
    func notionalLimits() {
        var perOrder = activeBook(roomyLimits(maxOrderNotional: 50))
        let small = perOrder.approve(quoteTarget(), now: t0)
        #expect(small.quotes.allSatisfy { $0.size * 100 <= 51 })
        #expect(small.clipped.allSatisfy { $0.reason.code == .maxOrderNotional })

        var perSymbol = activeBook(roomyLimits(maxSymbolNotional: 150))
        let symbol = perSymbol.approve(quoteTarget(), now: t0)
        #expect(symbol.bids.map(\.size) == [1, "0.5"])
        #expect(symbol.clipped.contains { $0.reason.code == .maxSymbolNotional })

        var gross = activeBook(roomyLimits(maxGrossExposure: 250), positions: [position("S1", 1)])
        let clipped = gross.approve(quoteTarget(), now: t0)
        #expect(clipped.clipped.contains { $0.reason.code == .maxGrossExposure })
        #expect(gross.grossExposure <= 250)
    }

    @Test("an expired or empty target withdraws; a quote below the minimum order value is dropped")
    func expiredAndTiny() {
        var book = activeBook()
        let expired = book.approve(quoteTarget(at: t0 - seconds(10)), now: t0)
        #expect(expired.quotes.isEmpty && expired.reasons.map(\.code) == [.quotesExpired])

        let tiny = book.approve(quoteTarget(size: "0.05"), now: t0)
        #expect(tiny.quotes.isEmpty)
        #expect(tiny.clipped.allSatisfy { $0.reason.code == .minOrderValue })
    }

    @Test("quote orders in a snapshot are not reserved twice: their exposure is the approved set's")
    func snapshotQuotesNotReserved() {
        var book = activeBook()
        _ = book.approve(quoteTarget(), now: t0)
        let resting = [OpenOrder(clientOrderId: "q1", symbol: "S0", side: .buy, size: 1, price: 99, quoteTier: 0)]
        _ = book.apply(snapshot(at: t0 + 1, openOrders: resting), now: t0 + 1)
        #expect(book.reservedOrderIds.isEmpty)
        #expect(book.symbolExposure("S0") == 306)
        #expect(book.isQuoted("S0", now: t0 + 1))
    }
}
