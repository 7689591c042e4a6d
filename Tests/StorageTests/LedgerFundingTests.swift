import Foundation
import GRDB
import Schema
import Storage
import Testing
import TestSupport

private func payment(
    _ id: String, _ amount: Amount, time: EpochNanos, symbol: String = "BTC", size: Amount = "0.5"
) -> FundingSettlement {
    FundingSettlement(fundingId: id, symbol: symbol, amount: amount, rate: "0.0000125", positionSize: size, time: time)
}

@Suite("LedgerStore funding")
struct LedgerFundingTests {
    @Test("recordFunding is idempotent by funding id; the first record wins")
    func idempotent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        #expect(try store.recordFunding(payment("p1", "-0.656812", time: 3_600_000_000_000)))
        #expect(try store.recordFunding(payment("p1", "-99", time: 1)) == false)
        #expect(try store.fundingPayments() == [payment("p1", "-0.656812", time: 3_600_000_000_000)])
    }

    @Test("fundingPayments are oldest first with exact amounts; lastFundingTime is the newest")
    func readBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        #expect(try store.fundingPayments().isEmpty)
        #expect(try store.lastFundingTime() == nil)
        let late = payment("p2", "0.000001", time: 7_200_000_000_000, symbol: "ETH", size: "-12.3456789")
        let early = payment("p1", "-123456.123456", time: 3_600_000_000_000)
        let sameTime = payment("p3", "0", time: 7_200_000_000_000, symbol: "SOL", size: "0.00000001")
        for item in [late, early, sameTime] { try store.recordFunding(item) }
        #expect(try store.fundingPayments() == [early, late, sameTime])
        #expect(try store.lastFundingTime() == 7_200_000_000_000)
    }

    @Test("funding survives reopening, and a ledger from before funding gains the table")
    func migration() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("ledger.sqlite")
        // A ledger as the previous version left it (v1 and v2 only), with one order and fill.
        do {
            let store = try LedgerStore(path: path)
            try store.recordOrder(command("cl-1"), at: 1)
            try store.recordFill(fill("fill-1", order: "cl-1", size: "0.5"))
            try store.queue.write { db in
                try db.execute(sql: "DROP TABLE ledger_funding")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v3: funding'")
            }
        }
        let reopened = try LedgerStore(path: path)
        #expect(try reopened.fills().map(\.fillId) == ["fill-1"])
        #expect(try reopened.recordFunding(payment("p1", "-0.1", time: 5)))
        let again = try LedgerStore(path: path)
        #expect(try again.fundingPayments().map(\.fundingId) == ["p1"])
        #expect(try again.recordFunding(payment("p1", "-0.1", time: 5)) == false)
    }

    @Test("the trace recorder keeps a funding envelope with its symbol column, and reads it back by type")
    func traced() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        let paid = payment("p1", "-0.006249", time: 3_600_000_000_000, symbol: "ETH")
        try database.write(batch([try received(paid, source: "executor", at: 3_600_100_000_000, trace: "t-1")]))
        #expect(
            try database.scalar("SELECT COUNT(*) FROM envelope WHERE type = 'acct.funding' AND symbol = 'ETH' AND topic = 'acct.funding.ETH'")
                == 1)
        #expect(try database.messages(FundingSettlement.self).map(\.body) == [paid])
    }

    @Test("a corrupt amount is an error, never a guessed value")
    func corruptRow() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path("ledger.sqlite"))
        try store.recordFunding(payment("p1", "-0.1", time: 5))
        try store.queue.write { db in try db.execute(sql: "UPDATE ledger_funding SET amount = 'lots'") }
        #expect(throws: LedgerStore.StoreError.corruptRow("amount lots")) { try store.fundingPayments() }
    }
}
