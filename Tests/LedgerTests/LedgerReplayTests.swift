import Ledger
import Schema
import Testing

private func funding(_ id: String, _ amount: Amount, time: EpochNanos, symbol: String = "BTC") -> FundingSettlement {
    FundingSettlement(fundingId: id, symbol: symbol, amount: amount, rate: "0.0000125", positionSize: 1, time: time)
}

@Suite("Replaying fills and funding")
struct LedgerReplayTests {
    let fills = [
        fill("f1", .buy, 1, at: 100, fee: "0.1", time: 10),
        fill("f2", .sell, 1, at: 110, fee: "0.1", time: 20),
        fill("f3", .buy, 2, at: 100, fee: "0.2", strategy: "revert", time: 30),
    ]

    @Test("funding lands between the fills by time, on the round trip open when it was paid")
    func mergedByTime() throws {
        // Given out of time order: the replay sorts funding, not fills.
        let payments = [funding("p3", "-0.4", time: 40), funding("p1", "-0.25", time: 15), funding("p0", "0.05", time: 5)]
        let ledger = try FifoLedger.replaying(fills: fills, funding: payments, startingCapital: 1_000)

        // The same ledger booked live, each payment when it came.
        var live = FifoLedger(startingCapital: 1_000)
        try live.applyFunding(symbol: "BTC", amount: "0.05", time: 5)
        try book(fills[0], into: &live)
        try live.applyFunding(symbol: "BTC", amount: "-0.25", time: 15)
        try book(fills[1], into: &live)
        try book(fills[2], into: &live)
        try live.applyFunding(symbol: "BTC", amount: "-0.4", time: 40)
        #expect(ledger == live)

        #expect(ledger.fundingPayments.map(\.time) == [5, 15, 40])
        #expect(ledger.fundingPayments.map(\.roundTrip) == [nil, 1, 2])
        #expect(ledger.closedTrades.first?.funding == "-0.25")
        #expect(ledger.unattributedFunding == "0.05")
        #expect(ledger.funding == "-0.6")
        #expect(ledger.account.realizedEquity == Amount(1_000) + 10 - "0.4" - "0.6")
    }

    @Test("all fills then all funding would give the closed trade's funding to the open one")
    func orderMatters() throws {
        let payments = [funding("p1", "-0.25", time: 15)]
        var naive = FifoLedger(startingCapital: 1_000)
        for fill in fills { try book(fill, into: &naive) }
        try naive.applyFunding(symbol: "BTC", amount: "-0.25", time: 15)
        let merged = try FifoLedger.replaying(fills: fills, funding: payments, startingCapital: 1_000)
        #expect(naive.closedTrades.first?.funding == 0)
        #expect(merged.closedTrades.first?.funding == "-0.25")
        // Equity is the same either way; only the attribution differs.
        #expect(naive.account.realizedEquity == merged.account.realizedEquity)
    }

    @Test("a payment at a fill's time goes after it; payments of one time keep their order")
    func ties() throws {
        let payments = [funding("a", "-1", time: 20), funding("b", "-2", time: 20, symbol: "ETH")]
        let ledger = try FifoLedger.replaying(fills: fills, funding: payments, startingCapital: 1_000)
        // f2 at time 20 closed the trip: the payment at 20 finds BTC flat.
        #expect(ledger.fundingPayments.map(\.symbol) == ["BTC", "ETH"])
        #expect(ledger.fundingPayments.map(\.roundTrip) == [nil, nil])
    }

    @Test("a payment without a symbol is refused")
    func refusesSymbolless() throws {
        var payment = funding("x", "-1", time: 1)
        payment.symbol = nil
        #expect(throws: LedgerError.self) {
            try FifoLedger.replaying(fills: [], funding: [payment], startingCapital: 1_000)
        }
    }

    @Test("the performance report counts funding, open and flat periods included")
    func report() throws {
        let payments = [funding("p0", "0.05", time: 5), funding("p1", "-0.25", time: 15), funding("p3", "-0.4", time: 40)]
        let report = try PerformanceReport(fills: fills, funding: payments, startingCapital: 1_000)
        #expect(report.fundingPayments == 3)
        #expect(report.funding == "-0.6")
        #expect(report.total.funding == "-0.25")
        #expect(report.total.netPnl == Amount(10) - "0.2" - "0.25")
        #expect(report.realizedEquity == Amount(1_000) + 10 - "0.4" - "0.6")
        let without = try PerformanceReport(fills: fills, startingCapital: 1_000)
        #expect(without.funding == 0 && without.fundingPayments == 0)
        #expect(report.table().contains("3 funding payments (-0.6)"))
    }
}
