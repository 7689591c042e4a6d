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
            // The alert follows the fill on the bus; the recorder may write either first.
            try await system.waitUntil("the liquidation in the ledger, on the bus and alerted", timeout: .seconds(30)) {
                let fills = try LedgerStore(path: system.ledgerDatabase).fills()
                let onBus = try system.trace().messages(Fill.self).contains { $0.body.strategy == "liquidation" }
                let alerted = try system.trace().messages(Alert.self).contains { $0.body.code == "liquidated" }
                return fills.contains { $0.strategy == "liquidation" } && onBus && alerted
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

extension SystemTests {
    @Test("an entry whose liquidation price would sit too close to the mark is refused with the figures; the executor set the leverage")
    func liquidationDistanceRefusal() async throws {
        try await withSystem([
            // 15× the capital: liquidation some 6 % away, inside a 10 % floor.
            "signal": ["tradeNotional": "150000", "rsi": ["oversold": 45, "overbought": 55]],
            "risk": looseRisk,
            "margin": ["defaultLeverage": 20, "minLiquidationDistance": 0.1],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("an entry refused for its liquidation distance", timeout: .seconds(120)) {
                try system.trace().messages(RiskDecision.self).contains {
                    $0.body.reasons.contains { $0.code.rawValue == "liquidation_distance" }
                }
            }
            let refusal = try #require(
                try system.trace().messages(RiskDecision.self).first { $0.body.reasons.contains { $0.code.rawValue == "liquidation_distance" } })
            let detail = refusal.body.reasons.first { $0.code.rawValue == "liquidation_distance" }?.detail ?? ""
            #expect(detail.contains("post-trade liquidation price") && detail.contains("limit 10 %") && detail.contains("20×"), "\(detail)")
            #expect(try system.trace().messages(OrderCommand.self).isEmpty, "no entry may pass")
            #expect(try await system.exchangePositions().isEmpty)
            let executor = try await system.adminGet("executor", "/status")
            #expect(executor.contains("BTC 20× cross"), "\(executor.prefix(600))")
        }
    }
}

extension SystemTests {
    @Test("an entry whose post-trade VaR would exceed its limit is refused with the figures (too little history: the stated fallback)")
    func valueAtRiskRefusal() async throws {
        try await withSystem([
            "signal": busySignals, "risk": RunningSystem.merge(looseRisk, ["portfolio": ["enabled": true, "maxValueAtRisk": "100"]]),
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("an entry refused for VaR", timeout: .seconds(120)) {
                try system.trace().messages(RiskDecision.self).contains {
                    $0.body.reasons.contains { $0.code.rawValue == "portfolio_var" }
                }
            }
            let refusal = try #require(
                try system.trace().messages(RiskDecision.self).first { $0.body.reasons.contains { $0.code.rawValue == "portfolio_var" } })
            let detail = refusal.body.reasons.first { $0.code.rawValue == "portfolio_var" }?.detail ?? ""
            // About 1,000 of notional with no history: 30 % of gross, stated as the fallback, against 100.
            #expect(detail.contains("post-trade VaR") && detail.contains("limit 100") && detail.contains("insufficient_history"), "\(detail)")
            #expect(try system.trace().messages(OrderCommand.self).isEmpty)
            let metrics = try await system.adminGet("risk-gate", "/metrics")
            // Flat (every entry refused): a VaR of exactly 0, exported.
            #expect(metrics.contains("breakwater_risk_var 0"), "\(metrics.split(separator: "\n").filter { $0.contains("breakwater_risk_var") })")
            #expect(metrics.contains("breakwater_risk_var_exceptions 0") && metrics.contains("breakwater_risk_var_backtest_days 0"))
            // What the alert rules read (compose/prometheus/alerts.yml), each from the service that knows it.
            for name in ["breakwater_risk_open_positions", "breakwater_risk_drawdown_lock_engaged", "breakwater_risk_daily_loss"] {
                #expect(metricValue(name, in: metrics) == 0, "\(name) in \(metrics.split(separator: "\n").filter { $0.contains(name) })")
            }
            #expect(metricValue("breakwater_risk_max_open_positions", in: metrics).map { $0 > 0 } == true)
            #expect(metricValue("breakwater_risk_daily_loss_limit", in: metrics).map { $0 > 0 } == true)
            #expect(metricValue("breakwater_risk_drawdown_lock", in: metrics).map { $0 > 0 && $0 < 1 } == true)
            let feed = try await system.adminGet("feed-handler", "/metrics")
            #expect(metricValue("breakwater_feed_symbol_stale{symbol=\"BTC\"}", in: feed) == 0, "\(feed.prefix(2_000))")
            let executorMetrics = try await system.adminGet("executor", "/metrics")
            #expect(metricValue("breakwater_exec_position_mismatches", in: executorMetrics) == 0)
            let deadManExpiry = try #require(metricValue("breakwater_exec_dead_man_expiry_timestamp_seconds", in: executorMetrics))
            let deadManSeconds = try #require(metricValue("breakwater_exec_dead_man_seconds", in: executorMetrics))
            #expect(deadManExpiry - Date().timeIntervalSince1970 > deadManSeconds / 2, "armed and refreshed: \(deadManExpiry)")
            let signalMetrics = try await system.adminGet("signal-generator", "/metrics")
            #expect(metricValue("breakwater_decision_cycle_seconds_count", in: signalMetrics).map { $0 > 0 } == true)
            // The same figures on the bus, as the trace recorder keeps them: flat, no day back-tested yet.
            try await system.waitUntil("a risk.portfolio report in the trace", timeout: .seconds(30)) {
                try !system.trace().messages(PortfolioRiskReport.self).isEmpty
            }
            let report = try #require(try system.trace().messages(PortfolioRiskReport.self).last).body
            #expect(report.valueAtRisk == 0 && report.exposures.isEmpty && report.grossExposure == 0, "\(report)")
            #expect(report.confidence == 0.99 && report.horizonBars == 1_440 && report.requiredScenarios == 20, "\(report)")
            #expect(report.backtestDays == 0 && report.backtestExceptions == 0 && report.backtestZone == nil, "\(report)")
            let status = try await system.adminGet("risk-gate", "/status")
            #expect(status.contains("varBacktest"), "\(status)")

            // Killed and restarted, the gate reads the bars the recorder kept back into its history.
            let recorded = try system.trace().messages(Bar.self).count
            let pid = try #require(await system.entry("risk-gate")?["pid"] as? Int)
            kill(Int32(pid), SIGKILL)
            try await system.waitUntil("the risk gate back with its history", timeout: .seconds(45)) {
                guard let entry = await system.entry("risk-gate"), entry["pid"] as? Int != pid,
                    entry["health"] as? String == "ok"
                else { return false }
                let status = try JSONSerialization.jsonObject(with: Data(try await system.adminGet("risk-gate", "/status").utf8))
                let risk = (status as? [String: Any])?["risk"] as? [String: Any]
                let bars = (risk?["historyBars"] as? [String: Int])?.values.reduce(0, +) ?? 0
                return bars > 0 && bars >= min(recorded, 1)
            }
            #expect(system.serviceLog("risk-gate").contains("portfolio history seeded"))
        }
    }
}

extension SystemTests {
    @Test("a leverage the exchange refuses stops the executor's start with the exchange's message")
    func refusedLeverageStopsTheStart() async throws {
        // BTC listed isolated-only on the paper venue; the config asks for cross.
        try await withSystem(["exchangeSim": ["onlyIsolated": "BTC"], "margin": ["mode": "cross"]]) { system in
            let refusal = "the exchange refused 20× on BTC: Cross margin is not allowed for this asset."
            try await system.waitUntil("the executor stopping on the refusal", timeout: .seconds(60)) {
                system.serviceLog("executor").contains("stopped on error: \(refusal)")
            }
            // It never reached the point of trading: no reconciliation, no order on the exchange.
            let log = system.serviceLog("executor")
            #expect(!log.contains("reconciled"), "\(log.suffix(800))")
            #expect(try await system.exchangePositions().isEmpty)
        }
    }
}

/// The value of one exported series, named with its labels as `/metrics` prints them.
func metricValue(_ series: String, in text: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
}
