import Execution
import Foundation
import Hyperliquid
import Ledger
import Schema
import Storage
import Testing

extension SystemTests {
    @Test("a paper account driven to liquidation: the venue closes it, the ledger and trace book it, ledger = exchange")
    func liquidatedAccount() async throws {
        try await withSystem([
            // 15× the 10,000 starting capital on one position (exchange-sim's default leverage is 20×).
            "signal": ["tradeNotional": "150000", "rsi": ["oversold": 45, "overbought": 55]],
            "risk": looseRisk,
            "executor": ["reconcileSeconds": 2],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("a position on the exchange", timeout: .seconds(120)) {
                try await !system.exchangePositions().isEmpty
            }
            let (halted, answer) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: #"{"engaged": true, "reason": "liquidation test"}"#,
                token: RunningSystem.adminToken)
            #expect(halted == 200, "\(answer)")
            try await Task.sleep(for: .seconds(2))  // orders in flight end

            let client = system.exchangeClient()
            defer { Task { try? await client.shutdown() } }
            let account = try system.paperWallet().address
            let before = try await client.clearinghouseState(user: account)
            let position = try #require(before.position("BTC"))
            let liquidationPx = try #require(position.liquidationPx, "clearinghouseState gives a liquidation price")
            // Through it by 1 %: the venue liquidates.
            let through = position.szi.isPositive ? liquidationPx * Amount("0.99") : liquidationPx * Amount("1.01")
            let mark = through.rounded(scale: 0)
            try await system.simAdminPost("/admin/mark", body: #"{"coin": "BTC", "px": "\#(mark)"}"#)

            try await system.waitUntil("the position gone on the exchange", timeout: .seconds(20)) {
                try await system.exchangePositions()["BTC"] == nil
            }
            try await system.waitUntil("the liquidation in the ledger and on the bus", timeout: .seconds(30)) {
                let fills = try LedgerStore(path: system.ledgerDatabase).fills()
                let onBus = try system.trace().messages(Fill.self).contains { $0.body.strategy == "liquidation" }
                return fills.contains { $0.strategy == "liquidation" } && onBus
            }
            let exchangeFills = try await client.userFills(user: account)
            let liquidations = exchangeFills.filter { $0.liquidation != nil }
            #expect(!liquidations.isEmpty)
            let store = try LedgerStore(path: system.ledgerDatabase)
            let booked = try store.fills()
            // Every exchange fill of this account is in the ledger, the liquidation's too.
            #expect(Set(exchangeFills.map { FillMapping.fillId($0) }).isSubset(of: Set(booked.map(\.fillId))))
            let ledger = try FifoLedger.replaying(fills: booked, funding: try store.fundingPayments(), startingCapital: 10_000)
            #expect(ledger.positionSize("BTC") == .zero)
            // Flat on both sides: the ledger's equity is the exchange's account value.
            let after = try await client.clearinghouseState(user: account)
            #expect(after.assetPositions.allSatisfy { $0.szi.isZero })
            #expect(ledger.account.realizedEquity == after.marginSummary.accountValue,
                "ledger \(ledger.account.realizedEquity), exchange \(after.marginSummary.accountValue)")
            // An alert says what happened; the executor is not left degraded with a position mismatch.
            let alerts = try system.trace().messages(Alert.self).map(\.body)
            #expect(alerts.contains { $0.code == "liquidated" && $0.message.contains("BTC") })
            #expect(!alerts.contains { $0.code == "foreign_fills" })
            let exitFill = try #require(try system.trace().messages(Fill.self).last { $0.body.strategy == "liquidation" })
            #expect(exitFill.body.purpose == .exit)
        }
    }
}
