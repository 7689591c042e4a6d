import Risk
import Schema
import Testing

@Suite("Reservations")
struct ReservationTests {
    @Test func rejectReleasesTheReservation() throws {
        var book = activeBook(roomyLimits(maxOpenPositions: 1))
        let order = try #require(book.evaluate(intent("a"), now: t0).order)
        #expect(book.evaluate(intent("b", "S1"), now: t0).code == .maxOpenPositions)
        book.apply(OrderReject(clientOrderId: order.clientOrderId, symbol: "S0", reason: Reason(.venueRejected)), now: t0 + 1)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == nil)
        #expect(book.evaluate(intent("c", "S1"), now: t0 + 2).outcome == .approved)
    }

    @Test func rejectAfterAnAckKeepsTheReservation() throws {
        var book = activeBook()
        let order = try #require(book.evaluate(intent("a"), now: t0).order)
        book.apply(OrderAck(clientOrderId: order.clientOrderId, venueOrderId: "v1", symbol: "S0", action: .place), now: t0 + 1)
        // An ack means the order is live: a later reject refused a cancel, not the order.
        book.apply(OrderReject(clientOrderId: order.clientOrderId, symbol: "S0", reason: Reason(.venueRejected)), now: t0 + 2)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == 1)
    }

    @Test func partialFillsShrinkTheReservationAndCancelReleasesTheRest() throws {
        var book = activeBook(roomyLimits(maxSymbolNotional: 1_000))
        let order = try #require(book.evaluate(intent("a", size: 10), now: t0).order)
        _ = book.apply(fill(order, size: 4, id: "f1"), now: t0 + 1)
        #expect(book.position("S0") == 4)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == 6)
        #expect(book.symbolExposure("S0") == 1_000)
        // The same fill twice is one fill.
        _ = book.apply(fill(order, size: 4, id: "f1"), now: t0 + 2)
        #expect(book.position("S0") == 4)

        book.apply(OrderCanceled(clientOrderId: order.clientOrderId, symbol: "S0", reason: Reason("user")), now: t0 + 3)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == nil)
        #expect(book.position("S0") == 4)
        #expect(book.symbolExposure("S0") == 400)
        #expect(book.evaluate(intent("b", size: 6), now: t0 + 4).outcome == .approved)
    }

    @Test func fullFillReleasesTheReservation() throws {
        var book = activeBook()
        let order = try #require(book.evaluate(intent("a", size: 2), now: t0).order)
        _ = book.apply(fill(order, size: 1, id: "f1"), now: t0 + 1)
        _ = book.apply(fill(order, size: 1, id: "f2"), now: t0 + 2)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == nil)
        #expect(book.position("S0") == 2)
        #expect(book.occupiedPositionSlots == 1)
    }

    @Test func overdueOrdersAreFlaggedButStayReserved() throws {
        var book = activeBook()
        let silent = try #require(book.evaluate(intent("a"), now: t0).order)
        let acked = try #require(book.evaluate(intent("b", "S1"), now: t0).order)
        book.apply(OrderAck(clientOrderId: acked.clientOrderId, venueOrderId: "v", symbol: "S1", action: .place), now: t0 + 1)

        #expect(book.expireOverdue(now: silent.ackDeadline).isEmpty)  // due by then, not yet late
        let flagged = book.expireOverdue(now: silent.ackDeadline + 1)
        #expect(flagged.map(\.code) == [.ackTimeout])
        #expect(flagged.first?.detail.contains(silent.clientOrderId) == true)
        #expect(book.overdueOrderIds == [silent.clientOrderId])
        #expect(book.expireOverdue(now: silent.ackDeadline + 2).isEmpty)  // reported once
        #expect(book.reservedSize(clientOrderId: silent.clientOrderId) == 1)
    }

    @Test func snapshotReleasesOnlyOrdersNotLivePastTheirDeadline() throws {
        var book = activeBook()
        let lost = try #require(book.evaluate(intent("lost"), now: t0).order)
        let live = try #require(book.evaluate(intent("live", "S1"), now: t0).order)
        let liveOrder = OpenOrder(clientOrderId: live.clientOrderId, symbol: "S1", side: .buy, size: 1, price: 100)

        // Taken before the deadline: cannot prove the lost order dead.
        _ = book.apply(snapshot(at: lost.ackDeadline, openOrders: [liveOrder]), now: lost.ackDeadline)
        #expect(book.reservedSize(clientOrderId: lost.clientOrderId) == 1)

        // Taken after it: the order not shown is released, the live one stays.
        let after = lost.ackDeadline + 1
        _ = book.apply(snapshot(at: after, openOrders: [liveOrder]), now: after)
        #expect(book.reservedSize(clientOrderId: lost.clientOrderId) == nil)
        #expect(book.reservedSize(clientOrderId: live.clientOrderId) == 1)
        // Released means closed: resending the intent is still a duplicate.
        #expect(book.evaluate(intent("lost", at: after), now: after).code == .duplicateIntent)
    }

    @Test func aLaggingSnapshotCannotMakeAFillVanish() throws {
        var book = activeBook()
        let order = try #require(book.evaluate(intent("a", size: 3), now: t0).order)
        let open = OpenOrder(clientOrderId: order.clientOrderId, symbol: "S0", side: .buy, size: 3, price: 100)
        let lagging = snapshot(at: t0 + 1, openOrders: [open], lastFillId: nil)
        _ = book.apply(fill(order, id: "f1", at: t0 + 2), now: t0 + 2)
        #expect(book.position("S0") == 3)

        // Taken before the fill, delivered after it.
        _ = book.apply(lagging, now: t0 + 3)
        #expect(book.position("S0") == 3)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == nil)  // filled; not revived
        #expect(book.symbolExposure("S0") == 300)

        // A snapshot that holds the fill is not topped up again.
        _ = book.apply(snapshot(at: t0 + 4, positions: [position("S0", 3)], lastFillId: "f1"), now: t0 + 4)
        #expect(book.position("S0") == 3)
        // Nor is a later one.
        _ = book.apply(snapshot(at: t0 + 5, positions: [position("S0", 3)], lastFillId: "f1"), now: t0 + 5)
        #expect(book.position("S0") == 3)
    }

    @Test func aSnapshotAheadOfTheBusIsNotDoubleCounted() throws {
        var book = activeBook()
        let order = try #require(book.evaluate(intent("a", size: 2), now: t0).order)
        // The ledger already holds the fill the bus has not delivered yet.
        _ = book.apply(snapshot(at: t0 + 10, positions: [position("S0", 2)], lastFillId: "f1"), now: t0 + 10)
        _ = book.apply(fill(order, id: "f1", at: t0 + 5), now: t0 + 11)
        #expect(book.position("S0") == 2)
    }

    @Test func anOlderSnapshotIsIgnored() {
        var book = activeBook(positions: [position("S0", 5)])
        _ = book.apply(snapshot(at: t0 - 1, positions: []), now: t0 + 1)
        #expect(book.position("S0") == 5)
    }

    @Test func unknownLiveOrdersAreReserved() {
        var book = activeBook(roomyLimits(maxOpenPositions: 2))
        let foreign = OpenOrder(clientOrderId: "0xforeign", symbol: "S3", side: .buy, size: 5, price: 100)
        _ = book.apply(snapshot(at: t0 + 1, openOrders: [foreign]), now: t0 + 1)
        #expect(book.reservedEntryCount == 1)
        #expect(book.symbolExposure("S3") == 500)
        #expect(book.evaluate(intent("a", "S0"), now: t0 + 1).outcome == .approved)
        #expect(book.evaluate(intent("b", "S1"), now: t0 + 1).code == .maxOpenPositions)
        // Gone from the next snapshot: released.
        _ = book.apply(snapshot(at: t0 + 2), now: t0 + 2)
        #expect(book.reservedEntryCount == 1)  // only "a", still within its deadline
        #expect(book.symbolExposure("S3") == 0)
    }

    @Test func fillsKeepAveragePriceRealisedPnlAndFees() throws {
        var book = activeBook(capital: 10_000)
        let buy = try #require(book.evaluate(intent("a", size: 10), now: t0).order)
        _ = book.apply(fill(buy, price: 100, id: "f1", fee: 1), now: t0 + 1)
        let more = try #require(book.evaluate(intent("b", size: 10, price: 110), now: t0 + 2).order)
        _ = book.apply(fill(more, price: 110, id: "f2", fee: 1), now: t0 + 3)
        #expect(book.entryPrice("S0") == 105)
        let sell = try #require(book.evaluate(exitIntent("c", "S0", .sell, size: 20, price: 120, at: t0 + 4), now: t0 + 4).order)
        _ = book.updateMark(symbol: "S0", price: 120, now: t0 + 4)
        _ = book.apply(fill(sell, price: 120, id: "f3", fee: 2), now: t0 + 5)
        #expect(book.position("S0") == 0)
        // (120 − 105) × 20 − 4 fees
        #expect(book.equity == 10_296)
    }
}
