import Execution
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hyperliquid
import Ledger
import Schema
import Storage
import Testing

/// Funding the exchange charges reaches the executor's ledger, its equity, the bus and the reports.
@Suite(.serialized) struct FundingTests {
    @Test("funding charged on exchange-sim: ledger = userFunding, equity = capital + realised − fees + funding, on the bus")
    func fundingFromTheExchangeIsBooked() async throws {
        let system = try await withSystem([
            "signal": busySignals, "risk": looseRisk,
            // The funding sync runs on the reconciliation timer: every 2 s here.
            "executor": ["reconcileSeconds": 2],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("a position on the exchange", timeout: .seconds(120)) {
                try await !system.exchangePositions().isEmpty
            }
            // Stop trading and freeze the mark, so the position funding is charged on stays put.
            let (halted, answer) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: #"{"engaged": true, "reason": "funding test"}"#,
                token: RunningSystem.adminToken)
            #expect(halted == 200, "\(answer)")
            let client = system.exchangeClient()
            defer { Task { try? await client.shutdown() } }
            let mark = try #require(try await client.allMids()["BTC"])
            try await system.simAdminPost("/admin/mark", body: #"{"coin": "BTC", "px": "\#(mark)"}"#)
            try await Task.sleep(for: .seconds(3))
            let held = try await system.exchangePositions()
            try #require(held["BTC"] != nil, "the position closed before funding: \(held)")

            // Two funding periods, charged now (a millisecond apart at least: each is its own payment).
            for _ in 0..<2 {
                let charged = try await system.simAdminPost("/admin/funding", body: "{}")
                let document = try JSONSerialization.jsonObject(with: Data(charged.utf8)) as? [String: Any]
                #expect(document?["payments"] as? Int == 1, "\(charged)")
                try await Task.sleep(for: .milliseconds(20))
            }
            let account = try system.paperWallet().address
            // At least those two (an hour boundary during the test adds the sim's own).
            #expect(try await client.userFunding(user: account, startTime: 0).count >= 2)

            try await system.waitUntil("the ledger to hold the exchange's funding", timeout: .seconds(30)) {
                let exchange = try await client.userFunding(user: account, startTime: 0)
                return try LedgerStore(path: system.ledgerDatabase).fundingPayments().count == exchange.count
            }
            let exchangeFunding = try await client.userFunding(user: account, startTime: 0)
            let store = try LedgerStore(path: system.ledgerDatabase)
            let booked = try store.fundingPayments()
            // The same payments: count, ids, and amounts per coin.
            #expect(booked.count == exchangeFunding.count)
            #expect(Set(booked.map(\.fundingId)) == Set(exchangeFunding.map(FundingMapping.fundingId)))
            func perCoin(_ pairs: [(String, Amount)]) -> [String: Amount] {
                pairs.reduce(into: [:]) { $0[$1.0, default: .zero] += $1.1 }
            }
            let exchangePerCoin = perCoin(exchangeFunding.map { ($0.coin, $0.usdc) })
            #expect(perCoin(booked.map { ($0.symbol ?? "", $0.amount) }) == exchangePerCoin)
            let total = exchangePerCoin.values.sum()
            #expect(!total.isZero, "funding on a held position is not zero")
            // The exchange's own running total says the same (its cumFunding is positive when paid).
            let state = try await client.clearinghouseState(user: account)
            #expect(state.position("BTC")?.cumFunding?.allTime == -(exchangePerCoin["BTC"] ?? .zero))

            // Equity from the ledger: starting capital + realised − fees + funding.
            let ledger = try FifoLedger.replaying(fills: try store.fills(), funding: booked, startingCapital: 10_000)
            #expect(ledger.funding == total)
            #expect(ledger.account.realizedEquity == 10_000 + ledger.realizedPnl - ledger.fees + total)

            // The account snapshot on the bus carries that funding, and its equity adds up.
            try await system.waitUntil("an account snapshot with the funding", timeout: .seconds(15)) {
                try system.trace().messages(AccountSnapshot.self, source: "executor").last?.body.funding == total
            }
            let snapshot = try #require(try system.trace().messages(AccountSnapshot.self, source: "executor").last?.body)
            #expect(snapshot.realizedPnl == ledger.realizedPnl && snapshot.fees == ledger.fees)
            #expect(
                snapshot.equity
                    == snapshot.startingCapital + snapshot.realizedPnl - snapshot.fees + snapshot.funding
                    + snapshot.unrealizedPnl)
            #expect(snapshot.startingCapital == 10_000)

            // Each payment was published once, as acct.funding, with the symbol indexed.
            let published = try system.trace().messages(FundingSettlement.self)
            #expect(published.map(\.body.fundingId).sorted() == booked.map(\.fundingId).sorted())
            #expect(published.allSatisfy { $0.header.symbol == "BTC" && $0.header.source == "executor" })
            #expect(
                try system.trace().scalar("SELECT COUNT(*) FROM envelope WHERE type = 'acct.funding' AND symbol = 'BTC'")
                    == booked.count)

            // A later sync finds nothing new: no payment is booked twice.
            try await Task.sleep(for: .seconds(5))
            #expect(try store.fundingPayments().count == booked.count)
            #expect(try system.trace().messages(FundingSettlement.self).count == booked.count)
            try await system.expectLedgerMatchesExchange()

            // SIGKILL the executor: restarted, it replays fills and funding from its ledger, and its
            // first snapshots carry the same funding; its start-up sync books nothing twice.
            let before = try #require(await system.entry("executor"))
            let pid = try #require(before["pid"] as? Int)
            let oldInstance = try #require(before["instance"] as? String)
            kill(Int32(pid), SIGKILL)
            var newInstance = ""
            try await system.waitUntil("the executor restarted with a new instance", timeout: .seconds(45)) {
                guard let entry = await system.entry("executor"), let instance = entry["instance"] as? String,
                    instance != oldInstance, entry["health"] as? String == "ok"
                else { return false }
                newInstance = instance
                return true
            }
            try await system.waitUntil("a snapshot from the restarted executor", timeout: .seconds(15)) {
                try system.trace().messages(AccountSnapshot.self, source: "executor").last?.header.instance == newInstance
            }
            let restarted = try #require(try system.trace().messages(AccountSnapshot.self, source: "executor").last)
            #expect(restarted.header.instance == newInstance)
            #expect(restarted.body.funding == total)
            #expect(restarted.body.realizedPnl == ledger.realizedPnl && restarted.body.fees == ledger.fees)
            #expect(try store.fundingPayments().count == booked.count)
            #expect(try system.trace().messages(FundingSettlement.self).count == booked.count)
        }

        // The reports agree, funding included, whichever record they read.
        let (traceCode, fromTrace) = try await system.command(["report", "--source", "trace", "--json"])
        let (ledgerCode, fromLedger) = try await system.command(["report", "--source", "ledger", "--json"])
        #expect(traceCode == 0 && ledgerCode == 0, "\(fromTrace)\n\(fromLedger)")
        #expect(fromTrace == fromLedger)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(fromLedger.utf8)) as? [String: Any])
        let store = try LedgerStore(path: system.ledgerDatabase)
        let funding = try store.fundingPayments()
        #expect(printed["fundingPayments"] as? Int == funding.count)
        #expect(printed["funding"] as? String == funding.map(\.amount).sum().description)
        let offline = try PerformanceReport(fills: try store.fills(), funding: funding, startingCapital: 10_000)
        #expect(printed["realizedEquity"] as? String == offline.realizedEquity.description)
    }
}

extension RunningSystem {
    /// POST to one of exchange-sim's admin routes with its token; the answer's body.
    @discardableResult
    func simAdminPost(_ path: String, body: String) async throws -> String {
        var request = URLRequest(url: URL(string: exchangeURL + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("Bearer \(Self.simToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        guard status == 200 else { throw HarnessError(description: "POST \(path): \(status) \(text)") }
        return text
    }
}
