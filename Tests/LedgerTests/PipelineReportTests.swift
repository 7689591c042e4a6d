import Ledger
import Schema
import Testing

@Suite("Pipeline report")
struct PipelineReportTests {
    func tally(_ group: String, _ passed: Bool, _ reason: String, _ count: Int, sample: String = "") -> PipelineReport.Tally {
        PipelineReport.Tally(group: group, passed: passed, reason: reason, count: count, sample: sample)
    }

    /// 10 signals (rsi 6, sma 4), 4 approved; 3 entry intents, 2 risk-approved (one an exit too); 2 sent,
    /// 1 filled; 3 closed trades, 2 winners; errors: 2 exchange rejects, 1 breaker opening, 1 warning.
    func inputs() -> PipelineReport.Inputs {
        var inputs = PipelineReport.Inputs(since: 1_000, until: 2_000)
        inputs.cycles = 10
        inputs.stageLatencies = [("bar → order (tick to order)", (1...100).map { Int64($0) * 1_000_000 })]
        inputs.signals = [
            tally("rsi", true, "approved", 3), tally("rsi", false, "rsi_neutral", 3, sample: "rsi_neutral on r3"),
            tally("sma", true, "approved", 1), tally("sma", false, "no_crossover", 3, sample: "no_crossover on s1"),
        ]
        // Entry intents i1, i2 (rsi), i3 (sma): i1 approved, i2 resized, i3 rejected; exits are not counted.
        inputs.entryDecisions = [
            tally("", true, "within_limits", 2), tally("", false, "max_open_positions", 1, sample: "max_open_positions for i3"),
        ]
        inputs.entryOrders = ["rsi": (sent: 2, filled: 1)]
        inputs.rejects = [
            OrderReject(clientOrderId: "c-i2", symbol: "BTC", reason: Reason("insufficient_margin", "Insufficient margin")),
            OrderReject(clientOrderId: "c-q", symbol: "BTC", reason: Reason("insufficient_margin", "Insufficient margin again")),
        ]
        inputs.breakers = [
            BreakerTransition(
                service: "signal-generator", dependency: "chroma", from: .closed, to: .open, reason: "5 timeouts",
                failureRate: 1, slowCallRate: nil),
            BreakerTransition(
                service: "signal-generator", dependency: "chroma", from: .open, to: .halfOpen, reason: "probe",
                failureRate: nil, slowCallRate: nil),
        ]
        inputs.alerts = [
            Alert(severity: .warning, code: "feed_stale", message: "BTC stale 12 s", service: "feed-handler"),
            Alert(severity: .info, code: "model_loaded", message: "loaded", service: "signal-generator"),
        ]
        inputs.closedTrades = [("rsi", 12), ("rsi", -3), ("sma", 1)]
        return inputs
    }

    @Test("the funnel counts entries only, step by step; rejections are ranked by count with a sample")
    func funnelAndRejections() {
        let report = PipelineReport(inputs())
        #expect(
            report.funnel
                == PipelineReport.Funnel(signals: 10, approved: 4, riskApproved: 2, sent: 2, filled: 1, closed: 3, winners: 2))
        #expect(report.rejections.map(\.code) == ["no_crossover", "rsi_neutral", "insufficient_margin", "max_open_positions"])
        #expect(report.rejections.map(\.count) == [3, 3, 2, 1])
        #expect(report.rejections[3].stage == "risk" && report.rejections[3].sample == "max_open_positions for i3")
        #expect(report.executionRate == 0.25)
    }

    @Test("strategy usage: uses, approvals, orders sent, closed trades and the share with P&L > 0")
    func strategyUsage() {
        let usage = PipelineReport(inputs()).strategies
        #expect(usage.map(\.strategy) == ["rsi", "sma"])
        #expect(usage[0] == PipelineReport.StrategyUsage(strategy: "rsi", uses: 6, approved: 3, sent: 2, trades: 2, winners: 1, successRate: 0.5))
        #expect(usage[1].uses == 4 && usage[1].trades == 1 && usage[1].successRate == 1)
    }

    @Test("latency percentiles by nearest rank, min, max and mean in microseconds")
    func latencies() throws {
        let latency = try #require(PipelineReport(inputs()).latencies.first)
        #expect(latency.count == 100 && latency.min == 1_000 && latency.max == 100_000)
        #expect(latency.p50 == 50_000 && latency.p75 == 75_000 && latency.p90 == 90_000)
        #expect(latency.p95 == 95_000 && latency.p99 == 99_000 && latency.mean == 50_500)
    }

    @Test("errors by dependency and type with samples; the three report alerts fire on their figures")
    func errorsAndAlerts() {
        let report = PipelineReport(inputs())
        #expect(report.errors.map { "\($0.dependency)/\($0.type)/\($0.count)" }
            == ["exchange/insufficient_margin/2", "chroma/breaker_open/1", "feed-handler/feed_stale/1"])
        #expect(report.errors[0].samples == ["BTC: Insufficient margin", "BTC: Insufficient margin again"])
        #expect(report.errorRate == 0.4)
        // 4 errors in 10 cycles: over 10 %; 1 of 4 approved filled: 25 %, not under 1 %; p95 95 ms.
        #expect(report.alerts.map(\.code) == ["error_rate_high"])
        var slow = inputs()
        slow.stageLatencies = [("bar → order (tick to order)", [6_000_000_000])]
        slow.entryOrders = ["rsi": (sent: 2, filled: 0)]
        slow.rejects = []
        slow.breakers = []
        slow.alerts = []
        #expect(PipelineReport(slow).alerts.map(\.code) == ["execution_rate_low", "cycle_slow"])
    }

    @Test("an empty window says so")
    func emptyWindow() {
        let text = PipelineReport(PipelineReport.Inputs(since: 0, until: 1)).text()
        #expect(text.contains("nothing was traced in this window"))
        #expect(PipelineReport(inputs()).text().contains("FUNNEL (entries)"))
    }
}
