import Ledger
import Schema
import Testing

/// A ledger seeded from a snapshot's lots and totals books later fills like the ledger that made it.
@Suite struct SeededLedgerTests {
    @Test func seededLedgerMatchesTheOriginalAfterMoreFills() throws {
        var original = FifoLedger(startingCapital: 10_000)
        try book(fill("a", .buy, "0.5", at: 100, fee: "0.1"), into: &original)
        try book(fill("b", .buy, "0.5", at: 120, fee: "0.1"), into: &original)
        try book(fill("c", .sell, "0.2", at: 130, fee: "0.1"), into: &original)
        try original.applyFunding(symbol: "BTC", amount: "-0.3", time: 5)

        let snapshot = try original.snapshot(asOf: 10, marks: ["BTC": 125])
        let position = try #require(snapshot.positions.first)
        let lots = try #require(position.lots)
        #expect(lots.map(\.size) == ["0.3", "0.5"])
        #expect(lots.map(\.entryPrice) == [100, 120])
        #expect(lots.map(\.fillId) == ["a", "b"])

        let openLots = lots.map {
            OpenLot(
                fillId: $0.fillId, strategy: $0.strategy, direction: .long, entryTime: $0.entryTime,
                entryPrice: $0.entryPrice, size: $0.size)
        }
        var seeded = try FifoLedger(
            startingCapital: 10_000, realizedPnl: snapshot.realizedPnl, fees: snapshot.fees, funding: snapshot.funding,
            openLots: ["BTC": openLots])
        #expect(seeded.position("BTC") == original.position("BTC"))

        let close = fill("d", .sell, "0.4", at: 90, fee: "0.2")
        try book(close, into: &original)
        try book(close, into: &seeded)
        #expect(seeded.realizedPnl == original.realizedPnl)
        #expect(seeded.fees == original.fees)
        #expect(seeded.funding == original.funding)
        #expect(seeded.position("BTC") == original.position("BTC"))
        #expect(try seeded.account(marks: ["BTC": 95]) == original.account(marks: ["BTC": 95]))
    }

    @Test func shortPositionsPublishNegativeLots() throws {
        var ledger = FifoLedger(startingCapital: 1_000)
        try book(fill("s", .sell, 2, at: 50), into: &ledger)
        let snapshot = try ledger.snapshot(asOf: 1, marks: ["BTC": 50])
        #expect(snapshot.positions.first?.lots?.map(\.size) == [-2])
    }

    @Test func lotsThatCannotBeBookedAreRefused() {
        let long = OpenLot(fillId: "a", strategy: "t", direction: .long, entryTime: 0, entryPrice: 100, size: 1)
        var short = long
        short.direction = .short
        var free = long
        free.entryPrice = 0
        for lots in [[long, short], [free]] {
            #expect(throws: LedgerError.self) {
                try FifoLedger(startingCapital: 1, realizedPnl: 0, fees: 0, funding: 0, openLots: ["BTC": lots])
            }
        }
    }
}
