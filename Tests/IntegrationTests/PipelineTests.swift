import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Ledger
import Schema
import Storage
import Testing
import TestSupport


/// Limits loose enough that the risk gate approves every intent of these runs.
nonisolated(unsafe) let looseRisk: [String: Any] = [
    // Exits off: the trades are the strategy's alone.
    "exits": ["enabled": false],
    "maxOrderNotional": "1000000", "maxSymbolNotional": "1000000", "maxGrossExposure": "10000000",
    "maxOrdersPerMinute": 100_000, "dailyLossLimit": "1000000", "drawdownLock": 0.9, "reduceAtDrawdown": 0.8,
]

/// exchange-sim playing ten hours of real candles from `from`, one a second.
func realCandles(from: String) -> [String: Any] {
    ["market": "ftx-candles", "from": from, "candles": 600, "candleSeconds": 1]
}

/// RSI(2) with narrow bands: an order every few bars, so that a test waits seconds, not minutes, for its fills.
nonisolated(unsafe) let busySignals: [String: Any] = [
    "tradeNotional": "1000", "rsi": ["period": 2, "oversold": 45, "overbought": 55],
]

/// Every test that starts the whole system, one at a time: each runs five services on 2 cores.
@Suite(
    "Breakwater as separate processes",
    .serialized,
    .enabled(if: Repository.hasData, "needs ../shared/data/btc-perp-1m-ftx-2022-01.csv beside the repository"))
struct SystemTests {}

extension SystemTests {
    @Test("paper trading against exchange-sim: bars from its market, every fill traced, ledger = exchange = reports")
    func paperTradingEndToEnd() async throws {
        let from = "2022-01-07 12:00:00"
        let system = try await withSystem([
            "exchangeSim": realCandles(from: from), "signal": busySignals, "risk": looseRisk,
        ]) { system in
            try await system.waitHealthy()

            let (code, output) = try await system.command(["status", "--json"])
            #expect(code == 0, "\(output)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let entries = try #require(document["services"] as? [[String: Any]])
            #expect(Set(entries.compactMap { $0["name"] as? String }) == Set(RunningSystem.services + ["exchange-sim"]))
            for service in entries where RunningSystem.services.contains(service["name"] as? String ?? "") {
                #expect(service["health"] as? String == "ok")
                #expect((service["pid"] as? Int ?? 0) > 0)
                #expect((service["instance"] as? String)?.count == 32)
                #expect((service["bus"] as? String)?.hasPrefix("tcp://127.0.0.1:") == true)
                #expect((service["admin"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
                #expect((service["heartbeatAgeMs"] as? Int ?? 99_999) < 3_000)
            }

            try await system.waitUntil("six fills", timeout: .seconds(150)) {
                try system.trace().count(type: .fill) >= 6
            }
            // Halt, let what is in flight land, then the ledger must be the exchange's.
            let (accepted, answer) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: #"{"engaged": true, "reason": "end of test"}"#,
                token: RunningSystem.adminToken)
            #expect(accepted == 200, "\(answer)")
            try await Task.sleep(for: .seconds(3))
            try await system.expectLedgerMatchesExchange()
            for service in RunningSystem.services {
                let admin = try #require(await system.entry(service)?["admin"] as? String)
                let (status, _) = try await URLSession.shared.data(from: URL(string: admin + "/status")!)
                #expect(!String(decoding: status, as: UTF8.self).contains(try system.paperKeyDigits()), "\(service) /status")
            }
        }

        // The key is on disk for the executor and nowhere else: no log, no message.
        let key = try system.paperKeyDigits()
        for service in RunningSystem.services + ["exchange-sim"] { #expect(!system.serviceLog(service).contains(key)) }
        #expect(!system.supervisorLog.contains(key))

        let trace = try TraceDatabase(path: system.traceDatabase)
        #expect(try trace.scalar("SELECT COUNT(*) FROM envelope WHERE instr(CAST(json AS TEXT), ?) > 0", arguments: [key]) == 0)
        // The bars are the real candles the simulator played (open and close; its own prints, ours
        // among them, may stretch a bar's high or low).
        let bars = try trace.messages(Bar.self).map(\.body).sorted { $0.openTime < $1.openTime }
        #expect(bars.count >= 20)
        #expect(bars.allSatisfy { $0.intervalSeconds == 1 })
        let candles = try candlePrices(from: from, count: 600)
        let whole = Array(bars.dropFirst())  // the feed may have joined mid-candle
        let start = try #require(candles.firstIndex { $0.open == whole[0].open && $0.close == whole[0].close })
        let matching = whole.enumerated().filter { index, bar in
            start + index < candles.count && candles[start + index].open == bar.open && candles[start + index].close == bar.close
        }
        #expect(Double(matching.count) >= 0.9 * Double(whole.count), "\(matching.count) of \(whole.count) bars match")

        // Every fill's trace is complete from bar to fill, and each order was placed once.
        let fills = try trace.count(type: .fill)
        let incomplete = try trace.scalar(
            """
            SELECT COUNT(*) FROM cycle WHERE fills > 0 AND (bar_at IS NULL OR signal_at IS NULL
            OR intent_at IS NULL OR decision_at IS NULL OR order_at IS NULL OR ack_at IS NULL OR fill_at IS NULL)
            """)
        #expect(incomplete == 0)
        #expect(try trace.scalar("SELECT COUNT(*) FROM gap") == 0)
        let orders = try trace.messages(OrderCommand.self).map(\.body.clientOrderId)
        #expect(Set(orders).count == orders.count)
        #expect(try trace.count(type: .orderAck) + trace.count(type: .orderReject) == orders.count)
        let decisions = try trace.messages(RiskDecision.self)
        #expect(decisions.filter { $0.body.outcome == .approved }.count == orders.count)

        // The ledger holds exactly the fills that were published.
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        #expect(Set(try ledger.fills().map(\.fillId)) == Set(try trace.messages(Fill.self).map(\.body.fillId)))
        #expect(fills >= 6)

        // `breakwater report` from the recorded fills equals the ledger's own computation.
        let (traceCode, fromTrace) = try await system.command(["report", "--source", "trace", "--json"])
        let (ledgerCode, fromLedger) = try await system.command(["report", "--source", "ledger", "--json"])
        #expect(traceCode == 0 && ledgerCode == 0, "\(fromTrace)\n\(fromLedger)")
        #expect(fromTrace == fromLedger)
        let offline = try PerformanceReport(
            fills: try ledger.fills(), funding: try ledger.fundingPayments(), startingCapital: 10_000)
        let printed = try JSONSerialization.jsonObject(with: Data(fromTrace.utf8)) as? [String: Any]
        let total = try #require(printed?["total"] as? [String: Any])
        #expect(total["trades"] as? Int == offline.total.trades)
        #expect(total["netPnl"] as? String == offline.total.netPnl.description)
        #expect(offline.total.trades > 0)

        // The pipeline report: the funnel from the same trace, each step no larger than the one before.
        let (pipelineCode, pipeline) = try await system.command(["report", "--pipeline", "--json"])
        #expect(pipelineCode == 0, "\(pipeline)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(pipeline.utf8)) as? [String: Any])
        let funnel = try #require(document["funnel"] as? [String: Int])
        let steps = ["signals", "approved", "riskApproved", "sent", "filled"].map { funnel[$0] ?? -1 }
        #expect(steps.allSatisfy { $0 >= 0 } && zip(steps, steps.dropFirst()).allSatisfy { $0 >= $1 }, "\(funnel)")
        #expect(funnel["closed"] == offline.total.trades && funnel["winners"] == offline.total.wins, "\(funnel)")
        let latencies = try #require(document["latencies"] as? [[String: Any]])
        #expect(latencies.contains { ($0["stage"] as? String)?.hasPrefix("bar → order") == true && ($0["p95"] as? Double ?? 0) > 0 })
        // A window after everything holds nothing, and says so.
        let (emptyCode, empty) = try await system.command(["report", "--pipeline", "--since", "2099-01-01"])
        #expect(emptyCode == 0 && empty.contains("nothing was traced in this window"), "\(empty)")
        let (badCode, bad) = try await system.command(["report", "--pipeline", "--since", "yesterday"])
        #expect(badCode == 2 && bad.contains("--since yesterday is not"), "\(bad)")
    }
}
