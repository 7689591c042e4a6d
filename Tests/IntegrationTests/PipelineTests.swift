import Foundation
import GRDB
import Ledger
import Schema
import Storage
import Testing

/// Runs `body` against a fresh system and always stops it, pass or fail.
/// The stopped system is returned so its databases can be read afterwards.
@discardableResult
func withSystem(
    _ overrides: [String: Any], _ body: (RunningSystem) async throws -> Void
) async throws -> RunningSystem {
    let system = try RunningSystem(overrides: overrides)
    do {
        try await body(system)
    } catch {
        await system.stop()
        for service in RunningSystem.services {
            print("---- \(service) log (tail)\n" + system.serviceLog(service).split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
        throw error
    }
    await system.stop()
    return system
}

/// Limits loose enough that the risk gate approves every intent of these runs.
nonisolated(unsafe) let looseRisk: [String: Any] = [
    // Exits off: the expected counts are the strategy's alone.
    "exits": ["enabled": false],
    "maxOrderNotional": "1000000", "maxSymbolNotional": "1000000", "maxGrossExposure": "10000000",
    "maxOrdersPerMinute": 100_000, "dailyLossLimit": "1000000", "drawdownLock": 0.9, "reduceAtDrawdown": 0.8,
]

/// Every test that starts the whole system, one at a time: each runs five services on 2 cores.
@Suite(
    "Breakwater as separate processes",
    .serialized,
    .enabled(if: Repository.hasData, "needs ../shared/data/btc-perp-1m-ftx-2022-01.csv beside the repository"))
struct SystemTests {}

extension SystemTests {
    @Test("a replayed window produces exactly the bars, signals, orders and fills the strategy must")
    func replayMatchesIndependentComputation() async throws {
        let window = ExpectedTrading.Window(from: "2022-01-07 12:00:00", to: "2022-01-07 19:59:00")
        let csv = try String(contentsOf: Repository.candles, encoding: .utf8)
        let expected = ExpectedTrading.compute(csv: csv, window: window)
        #expect(expected.bars == 480)
        #expect(expected.approvals == 8, "the window must exercise trading")

        let system = try await withSystem([
            "feed": [
                "source": "replay", "speedup": 3_000,
                "replay": ["file": Repository.candles.path, "from": window.from, "to": window.to],
            ],
            "signal": ["tradeNotional": "1000"],
            "risk": looseRisk,
        ]) { system in
            try await system.waitHealthy()

            let (code, output) = try system.command(["status", "--json"])
            #expect(code == 0, "\(output)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let services = try #require(document["services"] as? [[String: Any]])
            #expect(Set(services.compactMap { $0["name"] as? String }) == Set(RunningSystem.services))
            for service in services {
                #expect(service["health"] as? String == "ok")
                #expect((service["pid"] as? Int ?? 0) > 0)
                #expect((service["instance"] as? String)?.count == 32)
                #expect((service["bus"] as? String)?.hasPrefix("tcp://127.0.0.1:") == true)
                #expect((service["admin"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
                #expect((service["heartbeatAgeMs"] as? Int ?? 99_999) < 3_000)
            }

            try await system.waitUntil("the replay to end", timeout: .seconds(120)) {
                try system.trace().messages(FeedStatus.self).contains { $0.body.state == .ended }
            }
            try await system.waitUntil("every fill", timeout: .seconds(30)) {
                try system.trace().count(type: .fill) >= expected.fills
            }
            try await Task.sleep(for: .seconds(1))  // anything unexpected after the last fill would show now
        }

        let trace = try TraceDatabase(path: system.traceDatabase)
        #expect(try trace.count(type: .bar) == expected.bars)
        #expect(try trace.count(type: .signal) == expected.signals)
        let signals = try trace.messages(Signal.self)
        #expect(signals.filter { $0.body.decision == .approved }.count == expected.approvals)
        #expect(try trace.count(type: .orderIntent) == expected.approvals)
        let decisions = try trace.messages(RiskDecision.self)
        #expect(decisions.count == expected.approvals)
        #expect(decisions.allSatisfy { $0.body.outcome == .approved }, "\(decisions.map(\.body.reasons))")
        #expect(try trace.count(type: .orderCommand) == expected.approvals)
        #expect(try trace.count(type: .fill) == expected.fills)

        // Every fill's trace is complete from bar to fill.
        let incomplete = try trace.scalar(
            """
            SELECT COUNT(*) FROM cycle WHERE fills > 0 AND (bar_at IS NULL OR signal_at IS NULL
            OR intent_at IS NULL OR decision_at IS NULL OR order_at IS NULL OR ack_at IS NULL OR fill_at IS NULL)
            """)
        #expect(incomplete == 0)
        #expect(try trace.scalar("SELECT COUNT(*) FROM cycle WHERE fills > 0") == expected.fills)
        #expect(try trace.scalar("SELECT COUNT(*) FROM gap") == 0)

        // The ledger holds exactly the fills that were published.
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        #expect(Set(try ledger.fills().map(\.fillId)) == Set(try trace.messages(Fill.self).map(\.body.fillId)))

        // `breakwater report` from the recorded fills equals the ledger's own computation.
        let (traceCode, fromTrace) = try system.command(["report", "--source", "trace", "--json"])
        let (ledgerCode, fromLedger) = try system.command(["report", "--source", "ledger", "--json"])
        #expect(traceCode == 0 && ledgerCode == 0, "\(fromTrace)\n\(fromLedger)")
        #expect(fromTrace == fromLedger)
        let offline = try PerformanceReport(fills: try ledger.fills(), startingCapital: 10_000)
        let printed = try JSONSerialization.jsonObject(with: Data(fromTrace.utf8)) as? [String: Any]
        let total = try #require(printed?["total"] as? [String: Any])
        #expect(total["trades"] as? Int == offline.total.trades)
        #expect(total["netPnl"] as? String == offline.total.netPnl.description)
        #expect(offline.total.trades == expected.fills - 1, "every fill but the first closes a round trip")
    }
}
