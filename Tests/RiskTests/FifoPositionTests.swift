import Ledger
import Risk
import Schema
import Testing

/// Between snapshots the risk book keeps positions and realised P&L by the executor's FIFO rules.
@Suite struct FifoPositionTests {
    /// Open in two lots at different prices, then close part: FIFO closes the 100 lot (P&L 20,
    /// entry left 110); average cost would say P&L 15, entry 105.
    static let fills: [Fill] = [
        riskFill("f1", .buy, 1, at: 100, fee: "0.05", time: t0 + 1),
        riskFill("f2", .buy, 1, at: 110, fee: "0.05", time: t0 + 2),
        riskFill("f3", .sell, 1, at: 120, fee: "0.06", time: t0 + 3),
    ]

    /// The executor's ledger fed the same fills, valued at the book's mark of 100.
    static func ledger(_ fills: [Fill]) throws -> FifoLedger {
        var ledger = FifoLedger(startingCapital: 10_000)
        for fill in fills { try ledger.apply(fill) }
        return ledger
    }

    /// Realised P&L as the book sees it: equity less capital, unrealised, funding (zero here), plus fees.
    static func realized(_ book: RiskBook, fees: Amount) -> Amount {
        book.equity - 10_000 - book.unrealizedPnl + fees
    }

    /// After a restart every snapshot names a last fill from before it. A fill recorded after such a
    /// snapshot but executed (exchange time) before it — an exchange stop's — still closes the position.
    @Test func aFillWithAnEarlierExchangeTimeCountsAfterARestart() throws {
        let held = [Position(symbol: "S0", size: 2, entryPrice: 100, unrealizedPnl: 0)]
        var book = RiskBook(limits: roomyLimits(), instruments: testInstruments(), startingCapital: 10_000, now: t0)
        _ = book.updateMark(symbol: "S0", price: 100, now: t0)
        _ = book.apply(snapshot(at: t0, positions: held, lastFillId: "before-restart"), now: t0)
        _ = book.apply(snapshot(at: t0 + seconds(2), positions: held, lastFillId: "before-restart"), now: t0 + seconds(2))
        #expect(book.position("S0") == 2)
        let stop = riskFill("stop", .sell, 2, at: 97, time: t0 + seconds(1))
        _ = book.apply(stop, now: t0 + seconds(3))
        #expect(book.position("S0") == 0)
    }

    @Test func fillsAfterAFlatSnapshotMatchTheLedger() throws {
        var book = activeBook()
        for (i, fill) in Self.fills.enumerated() { _ = book.apply(fill, now: t0 + Int64(i) + 1) }
        let ledger = try Self.ledger(Self.fills)
        let open = try #require(ledger.position("S0"))

        #expect(book.position("S0") == open.size)
        #expect(book.entryPrice("S0") == open.averageEntryPrice)
        #expect(book.entryPrice("S0") == 110)  // average cost: 105
        #expect(Self.realized(book, fees: ledger.fees) == ledger.realizedPnl)
        #expect(ledger.realizedPnl == 20)  // average cost: 15
        #expect(book.equity == (try ledger.account(marks: ["S0": 100]).equity))
    }

    @Test func aLaggingSnapshotWithLotsReappliesTheRestByFifo() throws {
        var book = activeBook()
        for (i, fill) in Self.fills.enumerated() { _ = book.apply(fill, now: t0 + Int64(i) + 1) }
        // The executor's snapshot after f1 only: one lot; f2 and f3 are re-applied on top.
        let early = try Self.ledger([Self.fills[0]]).snapshot(asOf: t0 + 1, marks: ["S0": 100])
        #expect(early.positions.first?.lots?.count == 1)
        _ = book.apply(early, now: t0 + 4)

        let ledger = try Self.ledger(Self.fills)
        #expect(book.position("S0") == 1)
        #expect(book.entryPrice("S0") == 110)
        #expect(Self.realized(book, fees: ledger.fees) == 20)
        #expect(book.equity == (try ledger.account(marks: ["S0": 100]).equity))
    }

    @Test func aSnapshotWithLotsThenAFillClosesTheOldestLot() throws {
        var book = activeBook()
        let lots = [
            PositionLot(fillId: "f1", strategy: "test", size: 1, entryPrice: 100, entryTime: t0 - 2),
            PositionLot(fillId: "f2", strategy: "test", size: 1, entryPrice: 110, entryTime: t0 - 1),
        ]
        let held = Position(symbol: "S0", size: 2, entryPrice: 105, unrealizedPnl: -10, lots: lots)
        _ = book.apply(snapshot(at: t0 + 1, realized: 7, positions: [held], lastFillId: "f2"), now: t0 + 1)
        _ = book.apply(riskFill("f3", .sell, 1, at: 120, time: t0 + 2), now: t0 + 2)

        #expect(book.position("S0") == 1)
        #expect(book.entryPrice("S0") == 110)
        #expect(Self.realized(book, fees: 0) == 27)  // 7 before, 20 on this fill
    }

    @Test func aSnapshotWithoutLotsIsOneLotAtItsEntryPrice() {
        var book = activeBook()
        // An older executor: no lots, so the position is one lot at 105.
        let held = Position(symbol: "S0", size: 2, entryPrice: 105, unrealizedPnl: -10)
        _ = book.apply(snapshot(at: t0 + 1, realized: 7, positions: [held], lastFillId: "f2"), now: t0 + 1)
        _ = book.apply(riskFill("f3", .sell, 1, at: 120, time: t0 + 2), now: t0 + 2)

        #expect(book.position("S0") == 1)
        #expect(book.entryPrice("S0") == 105)
        #expect(Self.realized(book, fees: 0) == 22)  // 7 before, 15 on this fill
    }

    @Test func lotsThatDoNotAddUpFallBackToTheEntryPrice() {
        var book = activeBook()
        let lots = [PositionLot(fillId: "f1", strategy: "test", size: 1, entryPrice: 100, entryTime: t0)]
        let held = Position(symbol: "S0", size: 2, entryPrice: 105, unrealizedPnl: -10, lots: lots)
        _ = book.apply(snapshot(at: t0 + 1, positions: [held], lastFillId: "f2"), now: t0 + 1)
        _ = book.apply(riskFill("f3", .sell, 1, at: 120, time: t0 + 2), now: t0 + 2)

        #expect(book.position("S0") == 1)
        #expect(book.entryPrice("S0") == 105)
        #expect(Self.realized(book, fees: 0) == 15)
    }
}

private func riskFill(
    _ id: String, _ side: Side, _ size: Amount, at price: Amount, fee: Amount = 0, time: EpochNanos
) -> Fill {
    Fill(
        fillId: id, clientOrderId: "cl-\(id)", symbol: "S0", side: side, price: price, size: size, fee: fee,
        liquidity: .taker, purpose: .entry, strategy: "test", time: time)
}
