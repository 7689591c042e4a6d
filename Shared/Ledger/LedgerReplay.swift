import Schema

extension FifoLedger {
    /// Books recorded fills and funding payments into this ledger, merged by time: each payment goes in
    /// after every fill up to its time, so it lands on the round trip that was open when it was paid.
    /// Replaying all fills and then all funding would give every payment to whatever is open at the end.
    ///
    /// Fills keep the order given (the order the venue reported them, which FIFO matching depends on);
    /// funding is taken oldest first. A symbol-less payment is refused like `applyFunding` refuses it.
    public mutating func replay(fills: [Fill], funding: [FundingSettlement]) throws(LedgerError) {
        try replay(fills: fills, funding: funding) { _, _ in }
    }

    /// `replay(fills:funding:)`, calling `afterEach` with the books and the record's time after every
    /// fill and funding payment is booked: how an equity history sees each step.
    public mutating func replay(
        fills: [Fill], funding: [FundingSettlement], afterEach: (FifoLedger, EpochNanos) -> Void
    ) throws(LedgerError) {
        let payments = funding.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .map(\.element)
        var next = payments.startIndex
        func book(_ payment: FundingSettlement) throws(LedgerError) {
            try applyFunding(symbol: payment.symbol ?? "", amount: payment.amount, time: payment.time)
            afterEach(self, payment.time)
        }
        for fill in fills {
            while next < payments.endIndex, payments[next].time < fill.time {
                try book(payments[next])
                next += 1
            }
            try apply(fill)
            afterEach(self, fill.time)
        }
        while next < payments.endIndex {
            try book(payments[next])
            next += 1
        }
    }

    /// A fresh ledger with `fills` and `funding` replayed (see `replay(fills:funding:)`).
    public static func replaying(fills: [Fill], funding: [FundingSettlement], startingCapital: Amount)
        throws(LedgerError) -> FifoLedger
    {
        var ledger = FifoLedger(startingCapital: startingCapital)
        try ledger.replay(fills: fills, funding: funding)
        return ledger
    }
}

/// A window's fills and funding booked once by the FIFO ledger's rules, with the realised equity after
/// each record: what the P&L report, the equity history and the pipeline's closed trades are read
/// from, so that a report over tens of thousands of fills replays them once.
public struct ReplayedLedger: Sendable {
    public let fills: [Fill]
    public let funding: [FundingSettlement]
    /// The books after the last record.
    public let ledger: FifoLedger
    /// Realised equity after each fill and funding payment, in booking order.
    public let equity: EquityHistory

    public init(fills: [Fill], funding: [FundingSettlement], startingCapital: Amount) throws(LedgerError) {
        var ledger = FifoLedger(startingCapital: startingCapital)
        var points: [EquityPoint] = []
        points.reserveCapacity(fills.count + funding.count)
        try ledger.replay(fills: fills, funding: funding) { books, time in
            points.append(EquityPoint(time: time, equity: books.account.realizedEquity))
        }
        self.fills = fills
        self.funding = funding
        self.ledger = ledger
        equity = EquityHistory(startingCapital: startingCapital, points: points)
    }
}
