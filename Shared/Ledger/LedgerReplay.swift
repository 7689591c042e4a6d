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
