import Foundation
import Ledger
import Schema
import Testing

@Suite("FifoLedger, hand-worked")
struct FifoLedgerTests {
    @Test("a buy from flat opens a long lot and books its fee")
    func openLong() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        let report = try book(fill("f1", .buy, 1, at: 100, fee: "0.1", time: 1), into: &ledger)

        #expect(report.matches.isEmpty)
        #expect(report.openedSize == 1)
        #expect(report.positionAfter == 1)
        #expect(report.closedTrades.isEmpty)
        let position = try #require(ledger.position("BTC"))
        #expect(position.size == 1)
        #expect(position.direction == .long)
        #expect(position.averageEntryPrice == 100)
        #expect(
            position.lots == [
                OpenLot(fillId: "f1", strategy: "trend", direction: .long, entryTime: 1, entryPrice: 100, size: 1)
            ])
        #expect(ledger.realizedPnl == 0)
        #expect(ledger.fees == "0.1")
        #expect(ledger.account.realizedEquity == "999.9")
        #expect(ledger.lastFillId == "f1")
    }

    @Test("a sell from flat opens a short: negative size")
    func openShort() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .sell, "0.5", at: 2000), into: &ledger)
        let position = try #require(ledger.position("BTC"))
        #expect(position.size == "-0.5")
        #expect(position.direction == .short)
        // A short gains when the price falls: (1900 − 2000) × 0.5 × −1 = +50.
        #expect(try ledger.unrealizedPnl("BTC", mark: 1900) == 50)
    }

    @Test("adding opens a second lot; the average entry is size-weighted")
    func addToPosition() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, time: 1), into: &ledger)
        let report = try book(fill("f2", .buy, 3, at: 110, time: 2), into: &ledger)

        #expect(report.matches.isEmpty)
        let position = try #require(ledger.position("BTC"))
        #expect(position.size == 4)
        #expect(position.lots.map(\.size) == [1, 3])
        #expect(position.averageEntryPrice == "107.5")  // (100 + 330) / 4
        #expect(try ledger.unrealizedPnl("BTC", mark: 120) == 50)  // 20 + 30
    }

    @Test("a partial close matches the oldest lots first (FIFO, not LIFO or average cost)")
    func partialCloseIsFifo() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, time: 1), into: &ledger)
        try book(fill("f2", .buy, 3, at: 110, time: 2), into: &ledger)
        let report = try book(fill("f3", .sell, 2, at: 120, time: 3), into: &ledger)

        // FIFO: 1 @ 100 → +20, then 1 @ 110 → +10. (LIFO would give 20, average cost 25.)
        #expect(report.matches.map(\.size) == [1, 1])
        #expect(report.matches.map(\.entryFillId) == ["f1", "f2"])
        #expect(report.matches.map(\.realizedPnl) == [20, 10])
        #expect(report.realizedPnl == 30)
        #expect(report.closedTrades.isEmpty)
        #expect(report.positionAfter == 2)
        #expect(ledger.realizedPnl == 30)
        let position = try #require(ledger.position("BTC"))
        #expect(position.lots.map(\.fillId) == ["f2"])
        #expect(position.averageEntryPrice == 110)
        #expect(try ledger.unrealizedPnl("BTC", mark: 105) == -10)
    }

    @Test("a full close flattens the position and yields one trade for the whole round trip")
    func fullCloseMakesOneTrade() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, fee: "0.1", time: 1), into: &ledger)
        try book(fill("f2", .buy, 3, at: 110, fee: "0.1", time: 2), into: &ledger)
        try book(fill("f3", .sell, 2, at: 120, fee: "0.1", time: 3), into: &ledger)
        let report = try book(fill("f4", .sell, 2, at: 90, fee: "0.1", time: 4), into: &ledger)

        #expect(report.realizedPnl == -40)  // (90 − 110) × 2
        #expect(report.positionAfter == 0)
        #expect(ledger.position("BTC") == nil)
        #expect(ledger.positions.isEmpty)
        #expect(ledger.realizedPnl == -10)
        let trade = try #require(report.closedTrades.first)
        #expect(report.closedTrades.count == 1)
        #expect(ledger.closedTrades == [trade])
        #expect(
            trade
                == ClosedTrade(
                    roundTrip: 1, symbol: "BTC", strategy: "trend", direction: .long, entryTime: 1, exitTime: 4,
                    entryPrice: "107.5", exitPrice: 105, size: 4, realizedPnl: -10, fees: "0.4", funding: 0))
        #expect(trade.netPnl == "-10.4")
        #expect(ledger.account.realizedEquity == "989.6")
    }

    @Test("a sell larger than a long closes it and opens a short with the remainder")
    func flipLongToShort() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 2, at: 100, fee: "0.2", time: 1), into: &ledger)
        let flip = try book(fill("f2", .sell, 5, at: 110, fee: "0.5", time: 2), into: &ledger)

        #expect(flip.matches.map(\.size) == [2])
        #expect(flip.realizedPnl == 20)
        #expect(flip.openedSize == 3)
        #expect(flip.positionAfter == -3)
        // The flip's fee is split by size: 2/5 to the trade it closes, 3/5 to the one it opens.
        let first = try #require(flip.closedTrades.first)
        #expect(first.direction == .long)
        #expect(first.size == 2)
        #expect(first.realizedPnl == 20)
        #expect(first.fees == "0.4")
        let position = try #require(ledger.position("BTC"))
        #expect(
            position.lots == [
                OpenLot(fillId: "f2", strategy: "trend", direction: .short, entryTime: 2, entryPrice: 110, size: 3)
            ])

        let close = try book(fill("f3", .buy, 3, at: 100, fee: "0.3", time: 3), into: &ledger)
        let second = try #require(close.closedTrades.first)
        #expect(second.roundTrip == first.roundTrip + 1)
        #expect(second.direction == .short)
        #expect(second.entryTime == 2)
        #expect(second.entryPrice == 110)
        #expect(second.exitPrice == 100)
        #expect(second.size == 3)
        #expect(second.realizedPnl == 30)
        #expect(second.fees == "0.6")  // 0.3 of the flip + 0.3
        #expect(ledger.realizedPnl == 50)
        #expect(ledger.fees == "1.0")
        #expect(ledger.closedTrades.map(\.fees).sum() == ledger.fees)
    }

    @Test("a buy larger than a short closes it and opens a long with the remainder")
    func flipShortToLong() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .sell, 1, at: 50, time: 1), into: &ledger)
        try book(fill("f2", .sell, 1, at: 60, time: 2), into: &ledger)
        let flip = try book(fill("f3", .buy, 3, at: 40, fee: "0.3", time: 3), into: &ledger)

        // Short 1 @ 50 and 1 @ 60 bought back at 40: +10 and +20.
        #expect(flip.matches.map(\.realizedPnl) == [10, 20])
        #expect(flip.positionAfter == 1)
        let trade = try #require(flip.closedTrades.first)
        #expect(trade.direction == .short)
        #expect(trade.entryPrice == 55)
        #expect(trade.size == 2)
        #expect(trade.realizedPnl == 30)
        #expect(trade.fees == "0.2")
        let position = try #require(ledger.position("BTC"))
        #expect(position.direction == .long)
        #expect(position.lots.map(\.entryPrice) == [40])
        #expect(position.lots.map(\.size) == [1])
    }

    @Test("fees lower equity; a negative fee is a maker rebate")
    func feesAndRebates() throws {
        var ledger = FifoLedger(startingCapital: 500)
        try book(fill("f1", .buy, 1, at: 100, fee: "0.05"), into: &ledger)
        try book(fill("f2", .sell, 1, at: 100, fee: "-0.02"), into: &ledger)

        #expect(ledger.realizedPnl == 0)
        #expect(ledger.fees == "0.03")
        #expect(ledger.totals("BTC") == SymbolTotals(realizedPnl: 0, fees: "0.03", funding: 0))
        #expect(ledger.account.realizedEquity == "499.97")
        let trade = try #require(ledger.closedTrades.first)
        #expect(trade.fees == "0.03")
        #expect(trade.netPnl == "-0.03")
    }

    @Test("funding while open belongs to the round trip; funding while flat only to equity")
    func funding() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try ledger.applyFunding(symbol: "BTC", amount: "0.7", time: 0)  // flat: no trade carries it
        try book(fill("f1", .buy, 1, at: 100, time: 1), into: &ledger)
        let paid = try ledger.applyFunding(symbol: "BTC", amount: -2, time: 2)
        try ledger.applyFunding(symbol: "BTC", amount: "0.5", time: 3)
        try book(fill("f2", .sell, 1, at: 100, time: 4), into: &ledger)

        #expect(paid == FundingPayment(symbol: "BTC", amount: -2, time: 2, roundTrip: 1))
        #expect(ledger.fundingPayments.map(\.roundTrip) == [nil, 1, 1])
        #expect(ledger.funding == "-0.8")
        #expect(ledger.unattributedFunding == "0.7")
        #expect(ledger.totals("BTC").funding == "-0.8")
        let trade = try #require(ledger.closedTrades.first)
        #expect(trade.funding == "-1.5")
        #expect(trade.netPnl == "-1.5")
        #expect(ledger.account.realizedEquity == "999.2")
    }

    @Test("lots of two strategies in one round trip make one trade each; fees and funding split by size")
    func strategyAttribution() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("a1", .buy, 1, at: 100, fee: "0.1", strategy: "trend", time: 1), into: &ledger)
        try book(fill("b1", .buy, 3, at: 100, fee: "0.3", strategy: "revert", time: 2), into: &ledger)
        try ledger.applyFunding(symbol: "BTC", amount: 4, time: 3)  // 1 : 3 by open size
        let exit = try book(fill("x1", .sell, 4, at: 110, fee: "0.8", strategy: "exit", time: 4), into: &ledger)

        #expect(exit.closedTrades.map(\.strategy) == ["trend", "revert"])
        #expect(Set(exit.closedTrades.map(\.roundTrip)).count == 1)
        let trend = exit.closedTrades[0], revert = exit.closedTrades[1]
        #expect(trend.realizedPnl == 10)
        #expect(revert.realizedPnl == 30)
        #expect(trend.fees == "0.3")  // 0.1 own entry + 0.8 × 1/4
        #expect(revert.fees == "0.9")  // 0.3 own entry + 0.8 × 3/4
        #expect(trend.funding == 1)
        #expect(revert.funding == 3)
        #expect(trend.netPnl + revert.netPnl == ledger.account.realizedEquity - ledger.startingCapital)
        let byStrategy = ledger.performance().byStrategy
        #expect(byStrategy["trend"]?.totalNetPnl == "10.7")
        #expect(byStrategy["revert"]?.totalNetPnl == "32.1")
        #expect(byStrategy["exit"] == nil)
    }

    @Test("a fee that does not divide evenly is split exactly: the shares add up to the fee")
    func unevenFeeSplit() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, strategy: "a"), into: &ledger)
        try book(fill("f2", .buy, 1, at: 100, strategy: "b"), into: &ledger)
        try book(fill("f3", .buy, 1, at: 100, strategy: "c"), into: &ledger)
        try book(fill("f4", .sell, 3, at: 100, fee: 1), into: &ledger)

        let fees = ledger.closedTrades.map(\.fees)
        #expect(fees == ["0.3333333333", "0.3333333333", "0.3333333334"])
        #expect(fees.sum() == 1)
    }

    @Test("a repeated fill id is ignored and reported as a duplicate")
    func duplicateFill() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        let first = fill("f1", .buy, 1, at: 100, fee: "0.1")
        try book(first, into: &ledger)
        let before = ledger

        #expect(try ledger.apply(first) == .duplicate(fillId: "f1"))
        // Same id, different content: still the same fill, still ignored.
        #expect(try ledger.apply(fill("f1", .sell, 7, at: 1)).isDuplicate)
        #expect(ledger == before)
        #expect(ledger.positionSize("BTC") == 1)
        #expect(ledger.fees == "0.1")
        #expect(ledger.contains(fillId: "f1"))
        #expect(!ledger.contains(fillId: "f2"))
    }

    @Test(
        "odd input is refused with a descriptive error and leaves the ledger unchanged",
        arguments: [
            (fill("bad", .buy, 0, at: 100), LedgerError.nonPositiveSize(fillId: "bad", size: 0)),
            (fill("bad", .sell, -1, at: 100), .nonPositiveSize(fillId: "bad", size: -1)),
            (fill("bad", .buy, 1, at: 0), .nonPositivePrice(fillId: "bad", price: 0)),
            (fill("bad", .sell, 1, at: "-5.5"), .nonPositivePrice(fillId: "bad", price: "-5.5")),
            (fill("bad", .buy, 1, at: 100, symbol: nil), .missingSymbol(fillId: "bad")),
            (fill("bad", .buy, 1, at: 100, symbol: ""), .missingSymbol(fillId: "bad")),
            (fill("", .buy, 1, at: 100), .missingFillId(clientOrderId: "cl-")),
            (
                fill("bad", .buy, 1, at: 100, fee: Amount(Decimal.nan)),
                .invalidFee(fillId: "bad", fee: Amount(Decimal.nan))
            ),
        ])
    func refusedFill(_ bad: Fill, _ expected: LedgerError) throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 2, at: 100, fee: "0.1"), into: &ledger)
        try book(fill("f2", .sell, 1, at: 110, fee: "0.1"), into: &ledger)
        let before = ledger

        #expect(throws: expected) { try ledger.apply(bad) }
        #expect(ledger == before)
        #expect(!expected.description.isEmpty)
        if !bad.fillId.isEmpty {
            #expect(expected.description.contains(bad.fillId))
            // A refused fill is not remembered: once corrected, the same id is booked.
            let corrected = fill(bad.fillId, .buy, 1, at: 100)
            #expect(try !ledger.apply(corrected).isDuplicate)
        }
    }

    @Test("a NaN size or price is refused as not positive")
    func notANumber() {
        var ledger = FifoLedger(startingCapital: 1000)
        let nan = Amount(Decimal.nan)
        #expect(throws: LedgerError.self) { try ledger.apply(fill("n1", .buy, nan, at: 100)) }
        #expect(throws: LedgerError.self) { try ledger.apply(fill("n2", .buy, 1, at: nan)) }
        #expect(throws: LedgerError.invalidFunding(symbol: "BTC", amount: nan)) {
            try ledger.applyFunding(symbol: "BTC", amount: nan, time: 0)
        }
        #expect(ledger == FifoLedger(startingCapital: 1000))
    }

    @Test("funding without a symbol is refused and changes nothing")
    func fundingWithoutSymbol() {
        var ledger = FifoLedger(startingCapital: 1000)
        #expect(throws: LedgerError.invalidFunding(symbol: "", amount: 1)) {
            try ledger.applyFunding(symbol: "", amount: 1, time: 0)
        }
        #expect(ledger == FifoLedger(startingCapital: 1000))
    }

    @Test("marks: each open position needs a positive one; flat symbols need none")
    func marks() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, symbol: "BTC"), into: &ledger)
        try book(fill("f2", .sell, 2, at: 10, symbol: "ETH"), into: &ledger)
        try book(fill("f3", .buy, 1, at: 5, symbol: "SOL"), into: &ledger)
        try book(fill("f4", .sell, 1, at: 6, symbol: "SOL"), into: &ledger)

        #expect(throws: LedgerError.missingMark(symbol: "ETH")) { try ledger.unrealizedPnl(marks: ["BTC": 100]) }
        #expect(throws: LedgerError.nonPositiveMark(symbol: "BTC", mark: 0)) {
            try ledger.unrealizedPnl(marks: ["BTC": 0, "ETH": 10])
        }
        // BTC +5, ETH (9 − 10) × 2 × −1 = +2; SOL is flat.
        #expect(try ledger.unrealizedPnl(marks: ["BTC": 105, "ETH": 9]) == 7)
        #expect(try ledger.unrealizedPnl("SOL", mark: 1) == 0)
    }

    @Test("account figures: equity = starting capital + realised − fees + funding (+ unrealised)")
    func accountFigures() throws {
        var ledger = FifoLedger(startingCapital: 10_000)
        try book(fill("f1", .buy, 2, at: 100, fee: 1, time: 1), into: &ledger)
        try book(fill("f2", .sell, 1, at: 150, fee: 1, time: 2), into: &ledger)
        try ledger.applyFunding(symbol: "BTC", amount: "-0.25", time: 3)

        let unmarked = ledger.account
        #expect(unmarked.unrealizedPnl == nil)
        #expect(unmarked.equity == nil)
        #expect(unmarked.realizedEquity == "10047.75")  // 10000 + 50 − 2 − 0.25

        let marked = try ledger.account(marks: ["BTC": 90])
        #expect(marked.unrealizedPnl == -10)
        #expect(marked.equity == "10037.75")
        #expect(marked.realizedEquity == unmarked.realizedEquity)

        let snapshot = try ledger.snapshot(asOf: 99, marks: ["BTC": 90])
        #expect(snapshot.equity == "10037.75")
        #expect(snapshot.realizedPnl == 50)
        #expect(snapshot.fees == 2)
        #expect(snapshot.funding == "-0.25")
        #expect(snapshot.unrealizedPnl == -10)
        let lot = PositionLot(fillId: "f1", strategy: "trend", size: 1, entryPrice: 100, entryTime: 1)
        #expect(
            snapshot.positions == [
                Position(symbol: "BTC", size: 1, entryPrice: 100, unrealizedPnl: -10, lots: [lot])
            ])
        #expect(snapshot.lastFillId == "f2")
        #expect(snapshot.asOf == 99)
        #expect(throws: LedgerError.missingMark(symbol: "BTC")) { try ledger.snapshot(asOf: 99, marks: [:]) }
    }

    @Test("symbols keep separate lots and round trips")
    func symbolsAreIndependent() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100, symbol: "BTC"), into: &ledger)
        let eth = try book(fill("f2", .sell, 1, at: 10, symbol: "ETH"), into: &ledger)
        #expect(eth.matches.isEmpty)  // a sell of ETH does not close BTC
        #expect(ledger.positionSize("BTC") == 1)
        #expect(ledger.positionSize("ETH") == -1)
        #expect(ledger.positions.map(\.symbol) == ["BTC", "ETH"])
        #expect(ledger.symbols == ["BTC", "ETH"])
    }

    @Test("a copy of the ledger is independent: value semantics")
    func valueSemantics() throws {
        var ledger = FifoLedger(startingCapital: 1000)
        try book(fill("f1", .buy, 1, at: 100), into: &ledger)
        var copy = ledger
        try book(fill("f2", .sell, 1, at: 120), into: &copy)
        #expect(ledger.positionSize("BTC") == 1)
        #expect(ledger.closedTrades.isEmpty)
        #expect(copy.closedTrades.count == 1)
    }
}
