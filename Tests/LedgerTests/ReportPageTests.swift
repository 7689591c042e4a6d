import Foundation
import Ledger
import Schema
import Testing

@Suite("Report page (HTML)")
struct ReportPageTests {
    static let second: EpochNanos = 1_000_000_000
    /// 2022-01-07 12:00:00 UTC.
    static let start: EpochNanos = 1_641_556_800 * second

    /// Two strategies on two symbols: `trend` wins on BTC, `hostile` (a name with markup in it) loses on ETH;
    /// one funding payment.
    static func records(hostile: String = "<script>alert('x')</script>") -> ([Fill], [FundingSettlement]) {
        let t = start
        let fills = [
            fill("f1", .buy, 1, at: 100, fee: 1, strategy: "trend", time: t + 10 * second),
            fill("f2", .sell, 1, at: 120, fee: 1, strategy: "trend", time: t + 70 * second),
            fill("f3", .buy, 2, at: 50, fee: 1, symbol: "ETH", strategy: hostile, time: t + 100 * second),
            fill("f4", .sell, 2, at: 40, fee: 1, symbol: "ETH", strategy: hostile, time: t + 200 * second),
        ]
        let funding = [
            FundingSettlement(fundingId: "p1", symbol: "ETH", amount: -2, rate: Amount("0.0001"), positionSize: 2, time: t + 150 * second)
        ]
        return (fills, funding)
    }

    static func pipeline(hostile: String = "<script>alert('x')</script>") -> PipelineReport {
        var inputs = PipelineReport.Inputs(since: start, until: start + 300 * second)
        inputs.cycles = 12
        inputs.stageLatencies = [
            ("bar → signal", (1...50).map { Int64($0) * 20_000 }),
            ("bar → order (tick to order)", (1...50).map { Int64($0) * 300_000 }),
        ]
        // 8 signals: trend 5 (3 approved), the hostile strategy 3 (1 approved); rejected ones give the hostile reason.
        inputs.signals = [
            PipelineReport.Tally(group: "trend", passed: true, reason: "approved", count: 3, sample: ""),
            PipelineReport.Tally(group: "trend", passed: false, reason: hostile, count: 2, sample: "because \(hostile)"),
            PipelineReport.Tally(group: hostile, passed: true, reason: "approved", count: 1, sample: ""),
            PipelineReport.Tally(group: hostile, passed: false, reason: hostile, count: 2, sample: "because \(hostile)"),
        ]
        inputs.rejects = [OrderReject(clientOrderId: "c1", symbol: "BTC", reason: Reason("insufficient_margin", hostile))]
        inputs.breakers = [
            BreakerTransition(
                service: "signal-generator", dependency: hostile, from: .closed, to: .open, reason: "5 timeouts",
                failureRate: 1, slowCallRate: nil)
        ]
        inputs.closedTrades = [("trend", 18), (hostile, -24)]
        return PipelineReport(inputs)
    }

    static func page(refresh: Int? = nil) throws -> ReportPage {
        let (fills, funding) = records()
        let errors = ErrorEvent.events(
            rejects: [(start + 30 * second, OrderReject(clientOrderId: "c1", symbol: "BTC", reason: Reason("insufficient_margin", "m")))],
            breakers: [
                (
                    start + 90 * second,
                    BreakerTransition(
                        service: "executor", dependency: "exchange-rest", from: .closed, to: .open, reason: "x",
                        failureRate: 1, slowCallRate: nil)
                )
            ])
        return ReportPage(
            generatedAt: start + 400 * second, since: start, until: start + 300 * second, pnlSource: "trace",
            performance: try PerformanceReport(fills: fills, funding: funding, startingCapital: 1_000),
            equity: try EquityHistory(fills: fills, funding: funding, startingCapital: 1_000),
            pipeline: pipeline(), errors: errors, traceSpan: start...(start + 290 * second), refreshSeconds: refresh)
    }

    @Test("the page has every section and its chart, and the P&L tables as the text report prints them")
    func sections() throws {
        let page = try Self.page()
        let html = page.html()
        for section in ["summary", "alerts", "equity", "pnl", "funnel", "latency", "errors", "strategies", "pnl-table"] {
            #expect(html.contains("<section id=\"\(section)\""), "section \(section)")
        }
        for chart in ["equity", "drawdown", "pnl-strategy", "pnl-symbol", "funnel", "rejections", "latency", "errors"] {
            #expect(html.contains("data-chart=\"\(chart)\""), "chart \(chart)")
        }
        // Every cell of the text report's tables is on the page.
        for table in page.performance.tables() {
            for cell in table.header + table.rows.flatMap({ $0 }) {
                #expect(html.contains("<t" + (table.header.contains(cell) ? "h>" : "d>") + ReportPage.esc(cell) + "</t"), "cell \(cell)")
            }
        }
        #expect(html.contains(ReportPage.esc(page.performance.accountLine)))
        // The three report alerts, each with its state: nothing filled of 4 approved, 2 errors in 12 cycles.
        for code in ["execution_rate_low", "cycle_slow", "error_rate_high"] {
            #expect(html.contains("data-alert=\"\(code)\""))
        }
        #expect(page.pipeline.alerts.map(\.code) == ["execution_rate_low", "error_rate_high"])
        #expect(html.contains("FIRING"))
        // Latency stages and the funnel's steps are labelled.
        #expect(html.contains("bar → order (tick to order)") && html.contains("risk-approved"))
        #expect(!html.contains("http-equiv=\"refresh\""))
        #expect(html == (try Self.page()).html(), "the same inputs draw the same page")
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
    }

    @Test("text from the trace is escaped: a strategy, reason, sample or dependency named <script> stays text")
    func escapesTraceText() throws {
        let html = try Self.page().html()
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(ReportPage.esc(#"<a href="x">&'"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }

    @Test("self-contained: no reference to anything outside the page")
    func selfContained() throws {
        let html = try Self.page(refresh: 10).html().lowercased()
        for outside in ["http://", "https://", "<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href="] {
            #expect(!html.contains(outside), "\(outside)")
        }
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
    }

    @Test("an empty window says so plainly and draws no chart")
    func emptyWindow() throws {
        let page = ReportPage(
            generatedAt: Self.start, since: Self.start, until: Self.start + Self.second, pnlSource: "trace",
            performance: try PerformanceReport(fills: [], startingCapital: 1_000),
            equity: EquityHistory(startingCapital: 1_000, points: []),
            pipeline: PipelineReport(PipelineReport.Inputs(since: Self.start, until: Self.start + Self.second)),
            notices: ["No ledger yet at var/ledger.db"])
        #expect(page.isEmpty)
        let html = page.html()
        #expect(html.contains("Nothing was traced or booked in this window (2022-01-07 12:00:00 UTC – 2022-01-07 12:00:01 UTC)"))
        #expect(html.contains("data-empty=\"true\""))
        #expect(!html.contains("<svg"))
        #expect(html.contains("No ledger yet at var/ledger.db"))
        #expect(try !Self.page().isEmpty)
    }

    @Test("equity steps at every fill and funding payment by the FIFO ledger's rules; drawdown from the running peak")
    func equityHistory() throws {
        let (fills, funding) = Self.records()
        let history = try EquityHistory(fills: fills, funding: funding, startingCapital: 1_000)
        // 1000 − 1 (fee); + 20 − 1; − 1; funding − 2; − 20 − 1.
        #expect(history.points.map(\.equity) == [999, 1_018, 1_017, 1_015, 994])
        #expect(history.points.map(\.time) == [10, 70, 100, 150, 200].map { Self.start + $0 * Self.second })
        let ledger = try FifoLedger.replaying(fills: fills, funding: funding, startingCapital: 1_000)
        #expect(history.finalEquity == ledger.account.realizedEquity)
        let drawdowns = history.drawdowns
        #expect(abs(drawdowns[0] - 0.001) < 1e-12 && drawdowns[1] == 0)
        #expect(abs(drawdowns[4] - 24.0 / 1_018) < 1e-12)
        #expect(history.maxDrawdown == drawdowns.max())
        let ruined = EquityHistory(startingCapital: 100, points: [.init(time: 1, equity: 120), .init(time: 2, equity: -5), .init(time: 3, equity: 50)])
        #expect(ruined.drawdowns == [0, 1, 1] && ruined.maxDrawdown == 1)
    }

    @Test("a drawdown of a few fees reads as such, and axis labels carry the decimals their step needs")
    func smallFigures() throws {
        let history = EquityHistory(
            startingCapital: 10_000,
            points: [.init(time: Self.start, equity: Amount("9999.3")), .init(time: Self.start + 9 * Self.second, equity: Amount("10000.35"))])
        let page = ReportPage(
            generatedAt: Self.start, pnlSource: "ledger", performance: try PerformanceReport(fills: [], startingCapital: 10_000),
            equity: history, pipeline: PipelineReport(PipelineReport.Inputs()))
        let html = page.html()
        #expect(html.contains("max drawdown 0.007 %"))
        for chart in ["equity", "drawdown"] {
            let svg = try #require(html.components(separatedBy: "data-chart=\"\(chart)\"").dropFirst().first?.components(separatedBy: "</svg>").first)
            let labels = svg.components(separatedBy: "dy=\"4\" text-anchor=\"end\">").dropFirst().map { $0.components(separatedBy: "<").first ?? "" }
            #expect(labels.count >= 3 && Set(labels).count == labels.count, "\(chart): \(labels)")
        }
    }

    @Test("errors are classified as the pipeline report groups them and counted per bucket of the window")
    func errorTimeline() {
        let events = ErrorEvent.events(
            rejects: [(30, OrderReject(clientOrderId: "c", symbol: "BTC", reason: Reason("tick_size", "bad tick")))],
            breakers: [
                (10, BreakerTransition(service: "s", dependency: "chroma", from: .closed, to: .open, reason: "", failureRate: nil, slowCallRate: nil)),
                (12, BreakerTransition(service: "s", dependency: "chroma", from: .open, to: .halfOpen, reason: "", failureRate: nil, slowCallRate: nil)),
                (95, BreakerTransition(service: "s", dependency: "chroma", from: .halfOpen, to: .open, reason: "", failureRate: nil, slowCallRate: nil)),
            ],
            alerts: [
                (20, Alert(severity: .info, code: "model_loaded", message: "", service: "signal-generator")),
                (5, Alert(severity: .critical, code: "feed_stale", message: "", service: "feed-handler")),
            ])
        #expect(events.map(\.time) == [5, 10, 30, 95])
        #expect(events.map(\.dependency) == ["feed-handler", "chroma", "exchange", "chroma"])
        #expect(events.map(\.type) == ["feed_stale", "breaker_open", "tick_size", "breaker_open"])
        let timeline = ErrorTimeline(events: events + [ErrorEvent(time: 500, dependency: "late", type: "x")], start: 0, end: 99, buckets: 4)
        #expect(timeline.bucketNanos == 25)
        #expect(timeline.series == ["chroma", "exchange", "feed-handler"])
        #expect(timeline.counts == [[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]])
        #expect(timeline.total == 4)
    }

    @Test("times are UTC calendar times, before 1970 too")
    func utcText() {
        #expect(ReportPage.utc(Self.start) == "2022-01-07 12:00:00 UTC")
        #expect(ReportPage.utc(Self.start + 86_399 * Self.second + 999) == "2022-01-08 11:59:59 UTC")
        #expect(ReportPage.utc(-1) == "1969-12-31 23:59:59 UTC")
        #expect(ReportPage.utc(951_782_400 * Self.second) == "2000-02-29 00:00:00 UTC")
    }
}
