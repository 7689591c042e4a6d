import Schema
import L2Replay
import Testing

struct FixedPointBookTests {
    @Test("the best levels follow sets and removals, scanning out to the next level")
    func bestLevels() {
        var book = FixedPointBook()
        book.setBid(1_000, lots: 5)
        book.setBid(998, lots: 7)
        book.setAsk(1_002, lots: 3)
        book.setAsk(1_005, lots: 4)
        #expect(book.bestBidTick == 1_000 && book.bestBidLots == 5)
        #expect(book.bestAskTick == 1_002 && book.bestAskLots == 3)
        book.setBid(1_000, lots: 0)
        book.setAsk(1_002, lots: 0)
        #expect(book.bestBidTick == 998 && book.bestAskTick == 1_005)
        book.setBid(1_001, lots: 1)
        #expect(book.bestBidTick == 1_001)
        #expect(book.levels(bid: true, limit: 5).map(\.tick) == [1_001, 998])
        #expect(book.levels(bid: false, limit: 1).map(\.lots) == [4])
        book.setBid(1_001, lots: 0)
        book.setBid(998, lots: 0)
        #expect(!book.hasBid && book.bestBidLots == 0)
        #expect(!book.isCrossed)
        book.setBid(1_005, lots: 1)
        #expect(book.isCrossed)
    }

    @Test("the window grows both ways and keeps what it held; levels beyond maxSpan live off the window")
    func window() {
        var book = FixedPointBook(maxSpan: 100_000)
        let accepted = [book.setBid(50_000, lots: 2), book.setAsk(70_000, lots: 3), book.setBid(1_000, lots: 1)]
        #expect(accepted == [true, true, true])
        #expect(book.lots(bid: true, at: 50_000) == 2 && book.lots(bid: false, at: 70_000) == 3)
        book.setAsk(900_000, lots: 4)
        book.setBid(Int64.min + 1, lots: 5)
        #expect(book.lots(bid: false, at: 900_000) == 4)
        #expect(book.levels(bid: false, limit: 3).map(\.tick) == [70_000, 900_000])
        #expect(book.levels(bid: true, limit: 3).map(\.tick) == [50_000, 1_000, Int64.min + 1])
        // The window's best goes: the far level takes over, and back.
        book.setAsk(70_000, lots: 0)
        #expect(book.bestAskTick == 900_000 && book.bestAskLots == 4)
        book.setAsk(69_000, lots: 1)
        #expect(book.bestAskTick == 69_000)
        book.setAsk(69_000, lots: 0)
        book.setAsk(900_000, lots: 0)
        #expect(!book.hasAsk)
        book.setBid(50_000, lots: 0)
        book.setBid(1_000, lots: 0)
        #expect(book.bestBidTick == Int64.min + 1)
        let refused = book.setBid(50_000, lots: -1)
        #expect(!refused)
        #expect(book.lots(bid: true, at: 50_000) == 0)
        book.removeAll()
        #expect(!book.hasBid && !book.hasAsk && book.lots(bid: false, at: 900_000) == 0)
    }
}

/// The queue-position fills of the market maker on hand-made events (ticks and lots directly).
struct QueueMarketMakerTests {
    static func level(_ kind: L2Event.Kind, _ price: Int64, _ lots: Int64, ends: Bool = true) -> L2Event {
        L2Event(time: 0, price: price, quantity: lots, kind: kind, endsUpdate: ends)
    }

    /// A book of bid 1000 × 5 / ask 1001 × 5 (and 999 × 8, 1002 × 8 behind), quoted at the touch.
    static func quotedAtTouch(maxPosition: Int64 = 10) -> QueueMarketMaker {
        var maker = QueueMarketMaker(
            parameters: QuotingParameters(halfSpreadTicks: 0, orderLots: 2, maxPositionLots: maxPosition, makerFeeMicros: 200))
        maker.handle(L2Event(time: 0, price: 0, quantity: 0, kind: .clear, endsUpdate: false))
        maker.handle(level(.bid, 999, 8, ends: false))
        maker.handle(level(.ask, 1_002, 8, ends: false))
        maker.handle(level(.bid, 1_000, 5, ends: false))
        maker.handle(level(.ask, 1_001, 5))
        return maker
    }

    @Test("a new quote joins the back of its level")
    func joinsBack() {
        let maker = Self.quotedAtTouch()
        #expect(maker.bid == RestingQuote(price: 1_000, lots: 2, queueAhead: 5))
        #expect(maker.ask == RestingQuote(price: 1_001, lots: 2, queueAhead: 5))
    }

    @Test("trades at the price eat the queue ahead; the quote fills once a trade exceeds it")
    func tradesAdvanceQueue() {
        var maker = Self.quotedAtTouch()
        maker.handle(Self.level(.sellTrade, 1_000, 3))
        #expect(maker.bid?.queueAhead == 2 && maker.account.fills == 0)
        maker.handle(Self.level(.sellTrade, 1_000, 2))
        #expect(maker.bid?.queueAhead == 0 && maker.account.fills == 0, "a trade that only empties the queue fills nothing")
        maker.handle(Self.level(.sellTrade, 1_000, 1))
        #expect(maker.account.fills == 1)
        #expect(maker.account.positionLots == 2)
        #expect(maker.account.cashTickLots == -2_000)
        #expect(maker.account.feeMicroTickLots == 2_000 * 200)
        // Requoted at the back of the level right after the fill.
        #expect(maker.bid == RestingQuote(price: 1_000, lots: 2, queueAhead: 5))
        // Trades on the other side do nothing to the bid.
        maker.handle(Self.level(.buyTrade, 1_000, 50))
        #expect(maker.bid?.queueAhead == 5)
    }

    @Test("a shrinking level moves the quote up only to the new size; a growing one never pushes it back")
    func cancellationsAreCautious() {
        var maker = Self.quotedAtTouch()
        maker.handle(Self.level(.bid, 1_000, 9))
        #expect(maker.bid?.queueAhead == 5)
        maker.handle(Self.level(.bid, 1_000, 1))
        #expect(maker.bid?.queueAhead == 1)
        maker.handle(Self.level(.ask, 1_001, 4))
        #expect(maker.ask?.queueAhead == 4)
    }

    @Test("a trade through the price or the book reaching the quote fills it whole")
    func throughFills() {
        var maker = Self.quotedAtTouch()
        maker.handle(Self.level(.buyTrade, 1_002, 1))
        #expect(maker.account.fills == 1 && maker.account.positionLots == -2 && maker.account.cashTickLots == 2_002)
        var other = Self.quotedAtTouch()
        other.handle(Self.level(.ask, 1_000, 3))
        #expect(other.account.fills == 1 && other.account.positionLots == 2, "the ask reached the bid quote")
    }

    @Test("the quotes move with the mid and honour the position limit")
    func requoteAndLimit() {
        var maker = Self.quotedAtTouch(maxPosition: 2)
        maker.handle(Self.level(.bid, 1_000, 0))
        // Best bid 999, ask 1001: the mid is still 1000 and the bid quote stays, nothing ahead of it now.
        #expect(maker.bid == RestingQuote(price: 1_000, lots: 2, queueAhead: 0))
        maker.handle(Self.level(.sellTrade, 1_000, 1))
        #expect(maker.account.positionLots == 2)
        #expect(maker.bid == nil, "at the limit, no more bids")
        #expect(maker.ask != nil)
        let placed = maker.quotesPlaced
        maker.handle(Self.level(.ask, 1_002, 3))
        #expect(maker.quotesPlaced == placed, "an unchanged mid leaves the quotes alone")
    }

    @Test("equity is exact: a round trip earns the spread less fees")
    func roundTripEquity() {
        var maker = Self.quotedAtTouch()
        maker.handle(Self.level(.sellTrade, 1_000, 6))
        maker.handle(Self.level(.buyTrade, 1_001, 6))
        #expect(maker.account.fills == 2 && maker.account.positionLots == 0)
        #expect(maker.account.cashTickLots == 2)
        let fees = (1_000 * 2 + 1_001 * 2) * 200
        #expect(maker.account.equityMicroTickLots(markTicks: 1_000) == 2 * 1_000_000 - Int64(fees))
        let instrument = L2Instrument.binanceBTCUSDT
        #expect(instrument.price(ticks: 2) * instrument.size(lots: 1) == Amount("0.0002"))
    }
}
