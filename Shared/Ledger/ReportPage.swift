import Foundation
import Schema

/// The operator's report as one self-contained HTML page: the P&L tables of `breakwater report`, the
/// pipeline report's sections, and charts drawn here as inline SVG (equity with its drawdown, P&L per
/// strategy and per symbol, latency percentiles per stage, the funnel, rejections ranked, errors over
/// time). No script, no stylesheet, font or image from anywhere else: the page opens offline.
///
/// Pure: everything it shows comes in with it, the time it was made included. Every text that came
/// from the trace (strategy, reason, sample, dependency) is escaped.
public struct ReportPage: Sendable {
    public var generatedAt: EpochNanos
    /// The window asked for; nil ends are open.
    public var since: EpochNanos?
    public var until: EpochNanos?
    /// Where fills and funding came from ("trace" or "ledger"), as the page says.
    public var pnlSource: String
    public var performance: PerformanceReport
    public var equity: EquityHistory
    public var pipeline: PipelineReport
    /// The window's errors with their times, for the timeline.
    public var errors: [ErrorEvent]
    /// The first and last publish time traced in the window: the error timeline's axis when the window is open.
    public var traceSpan: ClosedRange<EpochNanos>?
    /// Set when a server serves the page: the browser reloads it this often.
    public var refreshSeconds: Int?
    /// Lines the page shows under its title (a database not there yet, a source that failed).
    public var notices: [String]

    public init(
        generatedAt: EpochNanos, since: EpochNanos? = nil, until: EpochNanos? = nil, pnlSource: String,
        performance: PerformanceReport, equity: EquityHistory, pipeline: PipelineReport, errors: [ErrorEvent] = [],
        traceSpan: ClosedRange<EpochNanos>? = nil, refreshSeconds: Int? = nil, notices: [String] = []
    ) {
        self.generatedAt = generatedAt
        self.since = since
        self.until = until
        self.pnlSource = pnlSource
        self.performance = performance
        self.equity = equity
        self.pipeline = pipeline
        self.errors = errors
        self.traceSpan = traceSpan
        self.refreshSeconds = refreshSeconds
        self.notices = notices
    }

    /// Nothing traced and nothing booked in the window: the page says so instead of drawing empty charts.
    public var isEmpty: Bool {
        pipeline.cycles == 0 && pipeline.funnel.signals == 0 && pipeline.errors.isEmpty && errors.isEmpty
            && performance.fills == 0 && performance.fundingPayments == 0 && equity.points.isEmpty
    }

    /// The rejections the page ranks; the rest are counted in one line.
    public static let rankedRejections = 15
    /// Buckets of the error timeline.
    public static let timelineBuckets = 60

    public func html() -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">

            """
        if let refreshSeconds { page += "<meta http-equiv=\"refresh\" content=\"\(max(refreshSeconds, 1))\">\n" }
        page += "<title>Breakwater report</title>\n<style>\n\(Self.style)</style>\n</head>\n"
        page += "<body data-empty=\"\(isEmpty)\">\n<main>\n"
        page += header()
        if isEmpty {
            page += """
                <section id="empty"><p class="empty">Nothing was traced or booked in this window (\(esc(windowText))):
                no cycles, no signals, no fills, no funding, no errors. Widen the window (<code>--since</code>,
                <code>--until</code>) or let the system run.</p></section>

                """
        } else {
            page += summary()
            page += alertsSection()
            page += equitySection()
            page += pnlSection()
            page += funnelSection()
            page += latencySection()
            page += errorsSection()
            page += strategiesSection()
            page += pnlTablesSection()
        }
        page += """
            <footer>Equity = starting capital + realised P&amp;L − fees + funding, booked FIFO from the \(esc(pnlSource))'s
            fills and funding; drawdown = fall from the running peak (the peak starts at the starting capital). Success
            rate = closed trades with P&amp;L &gt; 0 over closed trades. Latencies: nearest-rank percentiles of the
            traced cycles. Definitions: README, <code>breakwater report</code>.</footer>
            </main>
            </body>
            </html>

            """
        return page
    }

    // MARK: Sections

    var windowText: String {
        "\(since.map { Self.utc($0) } ?? "start of the trace") – \(until.map { Self.utc($0) } ?? "end of the trace")"
    }

    func header() -> String {
        var meta = "Window <b>\(esc(windowText))</b>"
        if let traceSpan { meta += " · traced \(esc(Self.utc(traceSpan.lowerBound))) – \(esc(Self.utc(traceSpan.upperBound)))" }
        meta += " · P&amp;L from the \(esc(pnlSource)) · generated \(esc(Self.utc(generatedAt)))"
        if let refreshSeconds { meta += " · refreshes every \(max(refreshSeconds, 1)) s" }
        var text = "<header><h1>Breakwater report</h1><p class=\"meta\">\(meta)</p>\n"
        for notice in notices { text += "<p class=\"notice\">\(esc(notice))</p>\n" }
        return text + "</header>\n"
    }

    func summary() -> String {
        let total = performance.total
        func tile(_ label: String, _ value: String, _ detail: String = "", tone: String = "") -> String {
            "<div class=\"tile\"><div class=\"label\">\(esc(label))</div><div class=\"value \(tone)\">\(esc(value))</div>"
                + "<div class=\"detail\">\(esc(detail))</div></div>"
        }
        let net = total.netPnl
        let tiles = [
            tile("Realised equity", Self.money(performance.realizedEquity), "starting capital \(Self.money(performance.startingCapital))"),
            tile("Net P&L, closed trades", Self.signedMoney(net), "fees \(Self.money(total.fees)), funding \(Self.money(total.funding))",
                tone: net.isPositive ? "pos" : net.isNegative ? "neg" : ""),
            tile("Max drawdown", Self.finePercent(equity.maxDrawdown), "of realised equity", tone: equity.maxDrawdown > 0 ? "neg" : ""),
            tile("Closed trades", "\(total.trades)", total.trades > 0 ? "win rate \(Self.percent(total.winRate))" : "none yet"),
            tile("Fills", "\(performance.fills)", "\(performance.fundingPayments) funding payments"),
            tile("Cycles", "\(pipeline.cycles)", "\(pipeline.funnel.signals) signals"),
            tile("Execution rate", pipeline.executionRate.map(Self.percent) ?? "—", "filled of approved signals"),
            tile("Error rate", pipeline.errorRate.map(Self.percent) ?? "—",
                Self.count(pipeline.errors.reduce(0) { $0 + $1.count }, "error") + " over " + Self.count(pipeline.cycles, "cycle")),
        ]
        return "<section id=\"summary\" class=\"tiles\">\(tiles.joined())</section>\n"
    }

    func alertsSection() -> String {
        let cycle = pipeline.latencies.first { $0.stage.hasPrefix("bar → order") }
        let rows: [(code: String, name: String, rule: String, value: String?)] = [
            ("execution_rate_low", "Execution rate", "filled / approved signals < 1 %", pipeline.executionRate.map(Self.percent)),
            ("cycle_slow", "Cycle p95 (bar → order)", "> 5 s", cycle.map { Self.micros($0.p95) }),
            ("error_rate_high", "Error rate", "errors / cycles > 10 %", pipeline.errorRate.map(Self.percent)),
        ]
        var text = "<section id=\"alerts\"><h2>Report alerts</h2><table><tr><th>alert</th><th>fires when</th><th>now</th>"
            + "<th>state</th><th class=\"l\">detail</th></tr>\n"
        for row in rows {
            let finding = pipeline.alerts.first { $0.code == row.code }
            let state =
                finding != nil
                ? "<span class=\"firing\">FIRING</span>"
                : row.value == nil ? "<span class=\"nodata\">no data</span>" : "<span class=\"ok\">ok</span>"
            text += "<tr data-alert=\"\(row.code)\"><td>\(esc(row.name)) <code>\(row.code)</code></td><td>\(esc(row.rule))</td>"
                + "<td>\(esc(row.value ?? "—"))</td><td>\(state)</td><td class=\"l\">\(esc(finding?.detail ?? ""))</td></tr>\n"
        }
        // A finding this page does not know by code still shows.
        for finding in pipeline.alerts where !rows.contains(where: { $0.code == finding.code }) {
            text += "<tr><td><code>\(esc(finding.code))</code></td><td></td><td></td><td><span class=\"firing\">FIRING</span></td>"
                + "<td class=\"l\">\(esc(finding.detail))</td></tr>\n"
        }
        return text + "</table></section>\n"
    }

    func equitySection() -> String {
        var text = "<section id=\"equity\"><h2>Equity and drawdown</h2>\n"
        guard !equity.points.isEmpty else {
            return text + "<p class=\"none\">No fills or funding in this window: no equity curve.</p></section>\n"
        }
        text += "<p class=\"caption\">Realised equity after each of \(equity.points.count) fills and funding payments; "
            + "final \(esc(Self.money(equity.finalEquity))), max drawdown \(esc(Self.finePercent(equity.maxDrawdown))).</p>\n"
        text += equityChart() + drawdownChart()
        return text + "</section>\n"
    }

    func pnlSection() -> String {
        var text = "<section id=\"pnl\"><h2>Net P&amp;L of closed trades, per strategy and per symbol</h2>\n"
        guard performance.total.trades > 0 else {
            return text + "<p class=\"none\">No closed trades in this window.</p></section>\n"
        }
        text += "<div class=\"pair\"><div><h3>per strategy</h3>\(pnlBars("pnl-strategy", performance.rows))</div>"
        text += "<div><h3>per symbol</h3>\(pnlBars("pnl-symbol", performance.symbols))</div></div>\n"
        return text + "</section>\n"
    }

    func funnelSection() -> String {
        var text = "<section id=\"funnel\"><h2>Funnel (entries) and rejections</h2>\n"
        text += funnelChart()
        guard !pipeline.rejections.isEmpty else {
            return text + "<p class=\"none\">Nothing was rejected in this window.</p></section>\n"
        }
        text += "<h3>Rejection reasons, most frequent first</h3>\n" + rejectionChart()
        let rest = pipeline.rejections.dropFirst(Self.rankedRejections)
        if !rest.isEmpty {
            text += "<p class=\"caption\">and \(rest.count) more reasons (\(rest.reduce(0) { $0 + $1.count }) rejections).</p>\n"
        }
        return text + "</section>\n"
    }

    func latencySection() -> String {
        var text = "<section id=\"latency\"><h2>Latency per stage</h2>\n"
        guard !pipeline.latencies.isEmpty else {
            return text + "<p class=\"none\">No traced cycle in this window has two stages to time.</p></section>\n"
        }
        text += latencyChart()
        text += "<table><tr><th>stage</th><th>cycles</th>"
            + ["min", "p50", "p75", "p90", "p95", "p99", "max", "mean"].map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for l in pipeline.latencies {
            text += "<tr><td>\(esc(l.stage))</td><td>\(l.count)</td>"
                + [l.min, l.p50, l.p75, l.p90, l.p95, l.p99, l.max, l.mean].map { "<td>\(esc(Self.micros($0)))</td>" }.joined()
                + "</tr>\n"
        }
        return text + "</table></section>\n"
    }

    func errorsSection() -> String {
        let count = pipeline.errors.reduce(0) { $0 + $1.count }
        var text = "<section id=\"errors\"><h2>Errors over time, by dependency and type</h2>\n"
        if errors.isEmpty {
            text += "<p class=\"none\">No errors in this window.</p>\n"
        } else {
            text += errorTimelineChart()
        }
        guard !pipeline.errors.isEmpty else { return text + "</section>\n" }
        text += "<p class=\"caption\">\(Self.count(count, "error")), \(esc(pipeline.errorRate.map(Self.percent) ?? "—")) of cycles.</p>\n"
        text += "<table><tr><th>dependency</th><th class=\"l\">type</th><th>count</th><th class=\"l\">samples</th></tr>\n"
        for group in pipeline.errors {
            text += "<tr><td>\(esc(group.dependency))</td><td class=\"l\">\(esc(group.type))</td><td>\(group.count)</td>"
                + "<td class=\"samples\">\(group.samples.map(esc).joined(separator: "<br>"))</td></tr>\n"
        }
        return text + "</table></section>\n"
    }

    func strategiesSection() -> String {
        var text = "<section id=\"strategies\"><h2>Strategy usage</h2>\n"
        guard !pipeline.strategies.isEmpty else {
            return text + "<p class=\"none\">No strategy was evaluated in this window.</p></section>\n"
        }
        text += "<table><tr><th>strategy</th><th>uses</th><th>approved</th><th>sent</th><th>trades</th><th>winners</th>"
            + "<th class=\"l\">success rate (closed trades with P&amp;L &gt; 0)</th></tr>\n"
        for s in pipeline.strategies {
            let rate = s.successRate.map { share in
                "<span class=\"meter\"><span style=\"width:\(Self.f(min(max(share, 0), 1) * 100))%\"></span></span> "
                    + esc(Self.percent(share))
            } ?? "—"
            text += "<tr><td>\(esc(s.strategy))</td><td>\(s.uses)</td><td>\(s.approved)</td><td>\(s.sent)</td>"
                + "<td>\(s.trades)</td><td>\(s.winners)</td><td class=\"l\">\(rate)</td></tr>\n"
        }
        return text + "</table></section>\n"
    }

    func pnlTablesSection() -> String {
        var text = "<section id=\"pnl-table\"><h2>P&amp;L figures (as <code>breakwater report</code> prints them)</h2>\n"
        for table in performance.tables() {
            text += "<table class=\"figures\"><tr>" + table.header.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
            for (index, row) in table.rows.enumerated() {
                let total = index == table.rows.count - 1 ? " class=\"total\"" : ""
                text += "<tr\(total)>" + row.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
            }
            text += "</table>\n"
        }
        text += "<p class=\"caption\">\(esc(performance.accountLine)). Sharpe and Sortino: daily (UTC) equity returns × √365, "
            + "risk-free 0; funding received is positive.</p>\n"
        return text + "</section>\n"
    }
}

// MARK: Charts

extension ReportPage {
    static let blue = "#1f77b4"
    static let red = "#d62728"
    static let green = "#2ca02c"
    static let palette = ["#e15759", "#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]
    static let stageColours = ["signal": "#f28e2b", "risk": "#9467bd", "exchange": "#d62728"]

    static func svg(_ name: String, _ label: String, width: Int, height: Int, _ body: String) -> String {
        "<svg class=\"chart\" data-chart=\"\(name)\" role=\"img\" aria-label=\"\(esc(label))\" width=\"\(width)\" "
            + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n\(body)</svg>\n"
    }

    /// The equity points in time order, the starting capital first, thinned to a few per pixel column
    /// (first, lowest, highest, last) so a long history stays a small path.
    func equitySeries(columns: Int) -> [(time: Double, value: Double)] {
        let ordered = equity.points.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        var series = [(time: Double(ordered.first?.element.time ?? 0), value: equity.startingCapital.doubleValue)]
        series += ordered.map { (time: Double($0.element.time), value: $0.element.equity.doubleValue) }
        return Self.thin(series, columns: columns)
    }

    static func thin(_ series: [(time: Double, value: Double)], columns: Int) -> [(time: Double, value: Double)] {
        guard series.count > columns * 4, let first = series.first?.time, let last = series.last?.time, last > first else {
            return series
        }
        var result: [(time: Double, value: Double)] = []
        var column: [(time: Double, value: Double)] = []
        var current = -1
        func flush() {
            guard let head = column.first, let tail = column.last else { return }
            let low = column.min { $0.value < $1.value }!, high = column.max { $0.value < $1.value }!
            let picked = [head, low, high, tail].sorted { $0.time < $1.time }
            for point in picked where result.last.map({ $0.time != point.time || $0.value != point.value }) ?? true {
                result.append(point)
            }
            column = []
        }
        for point in series {
            let index = Int((point.time - first) / (last - first) * Double(columns - 1))
            if index != current {
                flush()
                current = index
            }
            column.append(point)
        }
        flush()
        return result
    }

    func equityChart() -> String {
        let (width, height, left, right, top, bottom) = (1160, 260, 90, 20, 12, 28)
        let plotWidth = Double(width - left - right), plotHeight = Double(height - top - bottom)
        let series = equitySeries(columns: Int(plotWidth))
        let (t0, t1) = Self.timeDomain(series.map(\.time))
        let values = series.map(\.value) + [equity.startingCapital.doubleValue]
        var (low, high) = (values.min() ?? 0, values.max() ?? 1)
        if high - low < 1e-9 { (low, high) = (low - 1, high + 1) }
        let pad = (high - low) * 0.06
        (low, high) = (low - pad, high + pad)
        func x(_ t: Double) -> Double { Double(left) + (t - t0) / (t1 - t0) * plotWidth }
        func y(_ v: Double) -> Double { Double(top) + (high - v) / (high - low) * plotHeight }
        var body = Self.valueAxis(low: low, high: high, y: y, left: left, right: width - right) { value, decimals in
            String(format: "%.\(decimals)f", value)
        }
        body += Self.timeAxis(t0, t1, x: x, top: top, bottom: height - bottom)
        var line = "M\(Self.f(x(series[0].time))),\(Self.f(y(series[0].value)))"
        for point in series.dropFirst() { line += " H\(Self.f(x(point.time))) V\(Self.f(y(point.value)))" }
        line += " H\(Self.f(x(t1)))"
        let baseline = Self.f(Double(height - bottom))
        body += "<path d=\"\(line) V\(baseline) H\(Self.f(x(series[0].time))) Z\" fill=\"\(Self.blue)\" fill-opacity=\"0.12\"/>\n"
        let capital = y(equity.startingCapital.doubleValue)
        body += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(Self.f(capital))\" y2=\"\(Self.f(capital))\" "
            + "stroke=\"#6b7280\" stroke-dasharray=\"4 4\"><title>starting capital \(Self.esc(Self.money(equity.startingCapital)))</title></line>\n"
        body += "<path d=\"\(line)\" fill=\"none\" stroke=\"\(Self.blue)\" stroke-width=\"2\"/>\n"
        if let last = series.last {
            body += "<circle cx=\"\(Self.f(x(last.time)))\" cy=\"\(Self.f(y(last.value)))\" r=\"4\" fill=\"\(Self.blue)\">"
                + "<title>\(Self.esc(Self.money(equity.finalEquity))) at \(Self.esc(Self.utc(Int64(last.time))))</title></circle>\n"
        }
        return Self.svg("equity", "realised equity over time", width: width, height: height, body)
    }

    func drawdownChart() -> String {
        let (width, height, left, right, top, bottom) = (1160, 150, 90, 20, 10, 28)
        let plotWidth = Double(width - left - right), plotHeight = Double(height - top - bottom)
        let ordered = equity.points.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        let drawdowns = equity.drawdowns
        var series = [(time: Double(ordered.first?.element.time ?? 0), value: 0.0)]
        series += ordered.map { (time: Double($0.element.time), value: -drawdowns[$0.offset] * 100) }
        series = Self.thin(series, columns: Int(plotWidth))
        let (t0, t1) = Self.timeDomain(series.map(\.time))
        // In percent, with room below the deepest point; a curve that never fell gets a scale of 0.1 %.
        let deepest = equity.maxDrawdown > 0 ? equity.maxDrawdown * 100 * 1.15 : 0.1
        func x(_ t: Double) -> Double { Double(left) + (t - t0) / (t1 - t0) * plotWidth }
        func y(_ v: Double) -> Double { Double(top) + (0 - v) / deepest * plotHeight }
        var body = Self.valueAxis(low: -deepest, high: 0, y: y, left: left, right: width - right) { value, decimals in
            String(format: "%.\(decimals)f %%", value)
        }
        body += Self.timeAxis(t0, t1, x: x, top: top, bottom: height - bottom)
        var line = "M\(Self.f(x(series[0].time))),\(Self.f(y(series[0].value)))"
        for point in series.dropFirst() { line += " H\(Self.f(x(point.time))) V\(Self.f(y(point.value)))" }
        line += " H\(Self.f(x(t1)))"
        body += "<path d=\"\(line) V\(Self.f(y(0))) H\(Self.f(x(series[0].time))) Z\" fill=\"\(Self.red)\" fill-opacity=\"0.25\"/>\n"
        body += "<path d=\"\(line)\" fill=\"none\" stroke=\"\(Self.red)\" stroke-width=\"1.5\"/>\n"
        if let worst = series.min(by: { $0.value < $1.value }), worst.value < 0 {
            // The label beside the deepest point, on the side with room.
            let (px, py) = (x(worst.time), y(worst.value))
            let onLeft = px > Double(left) + plotWidth / 2
            body += "<circle cx=\"\(Self.f(px))\" cy=\"\(Self.f(py))\" r=\"3.5\" fill=\"\(Self.red)\"/>"
                + "<text x=\"\(Self.f(onLeft ? px - 8 : px + 8))\" y=\"\(Self.f(max(py - 6, Double(top + 12))))\" "
                + "text-anchor=\"\(onLeft ? "end" : "start")\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">max drawdown \(Self.esc(Self.finePercent(equity.maxDrawdown)))</text>\n"
        }
        return Self.svg("drawdown", "drawdown from the running peak", width: width, height: height, body)
    }

    func pnlBars(_ name: String, _ rows: [PerformanceReport.Row]) -> String {
        let (width, rowHeight, left, right, top) = (560, 28, 170, 90, 8)
        let height = top * 2 + rowHeight * max(rows.count, 1)
        let values = rows.map(\.netPnl.doubleValue)
        var (low, high) = (min(values.min() ?? 0, 0), max(values.max() ?? 0, 0))
        if high - low < 1e-12 { (low, high) = (-1, 1) }
        let plotWidth = Double(width - left - right)
        func x(_ v: Double) -> Double { Double(left) + (v - low) / (high - low) * plotWidth }
        var body = ""
        for (index, row) in rows.enumerated() {
            let value = values[index]
            let y = Double(top + index * rowHeight)
            let (start, end) = (min(x(0), x(value)), max(x(0), x(value)))
            let barWidth = max(end - start, 2)
            let colour = row.netPnl.isPositive ? Self.green : row.netPnl.isNegative ? Self.red : "#9ca3af"
            body += "<text x=\"\(left - 8)\" y=\"\(Self.f(y + 18))\" text-anchor=\"end\">\(Self.esc(Self.clip(row.name, 24)))</text>"
            body += "<rect x=\"\(Self.f(value < 0 ? end - barWidth : start))\" y=\"\(Self.f(y + 5))\" width=\"\(Self.f(barWidth))\" "
                + "height=\"\(rowHeight - 10)\" fill=\"\(colour)\"><title>\(Self.esc(row.name)): \(Self.esc(Self.signedMoney(row.netPnl))) "
                + "over \(row.trades) trades, win rate \(Self.esc(Self.percent(row.winRate)))</title></rect>"
            body += "<text x=\"\(width - right + 6)\" y=\"\(Self.f(y + 18))\">\(Self.esc(Self.signedMoney(row.netPnl)))</text>\n"
        }
        body += "<line x1=\"\(Self.f(x(0)))\" x2=\"\(Self.f(x(0)))\" y1=\"\(top)\" y2=\"\(height - top)\" stroke=\"#374151\"/>\n"
        return Self.svg(name, "net P&L per group", width: width, height: height, body)
    }

    func funnelChart() -> String {
        let funnel = pipeline.funnel
        let steps: [(String, Int)] = [
            ("signals", funnel.signals), ("approved", funnel.approved), ("risk-approved", funnel.riskApproved),
            ("sent", funnel.sent), ("filled", funnel.filled), ("closed", funnel.closed), ("winners", funnel.winners),
        ]
        let (width, rowHeight, left, plot, top) = (1160, 30, 140, 640, 6)
        let height = top * 2 + rowHeight * steps.count
        let largest = Double(max(steps.map(\.1).max() ?? 0, 1))
        var body = ""
        var previous: Int?
        for (index, (name, value)) in steps.enumerated() {
            let y = Double(top + index * rowHeight)
            let barWidth = max(Double(value) / largest * Double(plot), value > 0 ? 2 : 0)
            let x = Double(left) + (Double(plot) - barWidth) / 2
            let share = previous.map { $0 > 0 ? "\(Self.percent(Double(value) / Double($0))) of the step before" : "" } ?? ""
            body += "<text x=\"\(left - 10)\" y=\"\(Self.f(y + 20))\" text-anchor=\"end\">\(name)</text>"
            body += "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y + 4))\" width=\"\(Self.f(barWidth))\" height=\"\(rowHeight - 8)\" "
                + "fill=\"\(name == "winners" ? "#59a14f" : "#4e79a7")\"><title>\(name): \(value)</title></rect>"
            body += "<text x=\"\(left + plot + 12)\" y=\"\(Self.f(y + 20))\"><tspan font-weight=\"600\">\(value)</tspan>"
                + (share.isEmpty ? "" : "  <tspan fill=\"#6b7280\">\(share)</tspan>") + "</text>\n"
            previous = value
        }
        return Self.svg("funnel", "funnel from signals to winners", width: width, height: height, body)
    }

    func rejectionChart() -> String {
        let ranked = Array(pipeline.rejections.prefix(Self.rankedRejections))
        let (width, rowHeight, left, plot, top) = (1160, 26, 290, 300, 4)
        let height = top * 2 + rowHeight * ranked.count
        let largest = Double(max(ranked.map(\.count).max() ?? 1, 1))
        var body = ""
        for (index, rejection) in ranked.enumerated() {
            let y = Double(top + index * rowHeight)
            let barWidth = max(Double(rejection.count) / largest * Double(plot), 2)
            let colour = Self.stageColours[rejection.stage] ?? "#6b7280"
            body += "<text x=\"\(left - 10)\" y=\"\(Self.f(y + 17))\" text-anchor=\"end\">"
                + "\(Self.esc(Self.clip(rejection.stage, 10))) · \(Self.esc(Self.clip(rejection.code, 30)))</text>"
            body += "<rect x=\"\(left)\" y=\"\(Self.f(y + 4))\" width=\"\(Self.f(barWidth))\" height=\"\(rowHeight - 8)\" fill=\"\(colour)\">"
                + "<title>\(Self.esc(rejection.stage)) \(Self.esc(rejection.code)): \(rejection.count), e.g. \(Self.esc(rejection.sample))</title></rect>"
            body += "<text x=\"\(Self.f(Double(left) + barWidth + 8))\" y=\"\(Self.f(y + 17))\" font-weight=\"600\">\(rejection.count)</text>"
            body += "<text x=\"\(left + plot + 60)\" y=\"\(Self.f(y + 17))\" fill=\"#6b7280\">"
                + "\(Self.esc(Self.clip(rejection.sample, 80)))</text>\n"
        }
        return Self.svg("rejections", "rejection reasons ranked", width: width, height: height, body)
    }

    func latencyChart() -> String {
        let stages = pipeline.latencies
        let (width, rowHeight, left, right, top, bottom) = (1160, 36, 230, 190, 26, 26)
        let height = top + bottom + rowHeight * stages.count
        let plotWidth = Double(width - left - right)
        let smallest = max(stages.map(\.min).min() ?? 1, 1), largest = max(stages.map(\.max).max() ?? 10, 1)
        let lo = log10(smallest).rounded(.down), hi = max(log10(largest).rounded(.up), lo + 1)
        func x(_ micros: Double) -> Double {
            Double(left) + (log10(min(max(micros, pow(10, lo)), pow(10, hi))) - lo) / (hi - lo) * plotWidth
        }
        var body = ""
        // Decades: 1 µs, 10 µs, … 10 s.
        for decade in stride(from: lo, through: hi, by: 1) {
            let position = Self.f(x(pow(10, decade)))
            body += "<line x1=\"\(position)\" x2=\"\(position)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#e5e7eb\"/>"
                + "<text x=\"\(position)\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(Self.micros(pow(10, decade)))</text>\n"
        }
        let limit = PipelineReport.maximumCycleP95Micros
        if pow(10, lo) <= limit && limit <= pow(10, hi) {
            let position = Self.f(x(limit))
            body += "<line x1=\"\(position)\" x2=\"\(position)\" y1=\"\(top - 4)\" y2=\"\(height - bottom)\" stroke=\"\(Self.red)\" "
                + "stroke-dasharray=\"5 3\"><title>cycle_slow fires when the bar → order p95 is over 5 s</title></line>"
                + "<text x=\"\(position)\" y=\"\(top - 8)\" text-anchor=\"middle\" fill=\"\(Self.red)\">5 s</text>\n"
        }
        // Legend.
        body += "<rect x=\"\(left)\" y=\"4\" width=\"14\" height=\"10\" fill=\"#76b7b2\"/><text x=\"\(left + 18)\" y=\"13\">p50–p90</text>"
            + "<rect x=\"\(left + 90)\" y=\"4\" width=\"14\" height=\"10\" fill=\"#e15759\"/><text x=\"\(left + 108)\" y=\"13\">p90–p99</text>"
            + "<line x1=\"\(left + 180)\" x2=\"\(left + 200)\" y1=\"9\" y2=\"9\" stroke=\"#6b7280\" stroke-width=\"1.5\"/>"
            + "<text x=\"\(left + 206)\" y=\"13\">min–max</text>"
            + "<circle cx=\"\(left + 280)\" cy=\"9\" r=\"4\" fill=\"#f28e2b\"/><text x=\"\(left + 288)\" y=\"13\">mean</text>"
            + "<text x=\"\(left + 340)\" y=\"13\">(log scale)</text>\n"
        for (index, stage) in stages.enumerated() {
            let centre = Double(top + index * rowHeight) + Double(rowHeight) / 2
            let summary = [("min", stage.min), ("p50", stage.p50), ("p75", stage.p75), ("p90", stage.p90), ("p95", stage.p95),
                ("p99", stage.p99), ("max", stage.max), ("mean", stage.mean)].map { "\($0.0) \(Self.micros($0.1))" }
                .joined(separator: ", ")
            body += "<g><title>\(Self.esc(stage.stage)), \(stage.count) cycles: \(summary)</title>"
            body += "<text x=\"\(left - 10)\" y=\"\(Self.f(centre + 4))\" text-anchor=\"end\">\(Self.esc(Self.clip(stage.stage, 32)))</text>"
            body += "<line x1=\"\(Self.f(x(stage.min)))\" x2=\"\(Self.f(x(stage.max)))\" y1=\"\(Self.f(centre))\" y2=\"\(Self.f(centre))\" "
                + "stroke=\"#6b7280\" stroke-width=\"1.5\"/>"
            let (p50, p90, p99) = (x(stage.p50), x(stage.p90), x(stage.p99))
            body += "<rect x=\"\(Self.f(p50))\" y=\"\(Self.f(centre - 8))\" width=\"\(Self.f(max(p90 - p50, 2)))\" height=\"16\" fill=\"#76b7b2\"/>"
            body += "<rect x=\"\(Self.f(p90))\" y=\"\(Self.f(centre - 8))\" width=\"\(Self.f(max(p99 - p90, 2)))\" height=\"16\" fill=\"#e15759\"/>"
            for tick in [stage.p75, stage.p95] {
                body += "<line x1=\"\(Self.f(x(tick)))\" x2=\"\(Self.f(x(tick)))\" y1=\"\(Self.f(centre - 8))\" y2=\"\(Self.f(centre + 8))\" stroke=\"#374151\"/>"
            }
            body += "<line x1=\"\(Self.f(p50))\" x2=\"\(Self.f(p50))\" y1=\"\(Self.f(centre - 11))\" y2=\"\(Self.f(centre + 11))\" "
                + "stroke=\"#111827\" stroke-width=\"2.5\"/>"
            body += "<circle cx=\"\(Self.f(x(stage.mean)))\" cy=\"\(Self.f(centre))\" r=\"4\" fill=\"#f28e2b\"/>"
            body += "<text x=\"\(width - right + 12)\" y=\"\(Self.f(centre + 4))\">p50 \(Self.micros(stage.p50, digits: 3)) · p99 "
                + "\(Self.micros(stage.p99, digits: 3))</text></g>\n"
        }
        return Self.svg("latency", "latency percentiles per stage", width: width, height: height, body)
    }

    /// The timeline's axis: the window asked for, else what was traced, else the errors' own span.
    var timelineSpan: (start: EpochNanos, end: EpochNanos) {
        let start = since ?? traceSpan?.lowerBound ?? errors.map(\.time).min() ?? generatedAt
        let end = until ?? traceSpan?.upperBound ?? errors.map(\.time).max() ?? generatedAt
        return (min(start, end), max(start, end))
    }

    func errorTimelineChart() -> String {
        let span = timelineSpan
        let timeline = ErrorTimeline(events: errors, start: span.start, end: span.end, buckets: Self.timelineBuckets)
        let (width, height, left, right, top, bottom) = (1160, 220, 60, 20, 12, 28)
        let plotWidth = Double(width - left - right), plotHeight = Double(height - top - bottom)
        let t0 = Double(timeline.start), t1 = Double(timeline.start) + Double(timeline.bucketNanos) * Double(timeline.counts.count)
        let highest = Double(max(timeline.counts.map { $0.reduce(0, +) }.max() ?? 1, 1))
        let top5 = Array(timeline.series.prefix(Self.palette.count - 1))
        func colour(_ index: Int) -> String { index < top5.count ? Self.palette[index] : "#9ca3af" }
        func x(_ t: Double) -> Double { Double(left) + (t - t0) / (t1 - t0) * plotWidth }
        func y(_ v: Double) -> Double { Double(top) + (highest - v) / highest * plotHeight }
        // Counts: whole steps only.
        var body = Self.valueAxis(low: 0, high: highest, y: y, left: left, right: width - right, minimumStep: 1) { value, _ in
            String(Int(value.rounded()))
        }
        body += Self.timeAxis(t0, t1, x: x, top: top, bottom: height - bottom)
        let bucketWidth = plotWidth / Double(timeline.counts.count)
        for (bucket, counts) in timeline.counts.enumerated() where counts.contains(where: { $0 > 0 }) {
            var stacked = 0.0
            let start = t0 + Double(bucket) * Double(timeline.bucketNanos)
            for (index, count) in counts.enumerated() where count > 0 {
                let (upper, lower) = (y(stacked + Double(count)), y(stacked))
                body += "<rect x=\"\(Self.f(x(start) + 1))\" y=\"\(Self.f(upper))\" width=\"\(Self.f(max(bucketWidth - 2, 1)))\" "
                    + "height=\"\(Self.f(max(lower - upper, 1)))\" fill=\"\(colour(index))\"><title>\(Self.esc(timeline.series[index])): "
                    + "\(count) from \(Self.esc(Self.utc(Int64(start))))</title></rect>"
                stacked += Double(count)
            }
            body += "\n"
        }
        let legend = timeline.series.enumerated().map { index, name in
            let total = timeline.counts.reduce(0) { $0 + $1[index] }
            return "<span class=\"key\"><span class=\"swatch\" style=\"background:\(colour(index))\"></span>"
                + "\(Self.esc(name)) \(total)</span>"
        }.joined(separator: " ")
        return Self.svg("errors", "errors over time by dependency", width: width, height: height, body)
            + "<p class=\"legend\">\(legend) <span class=\"caption\">(\(Self.esc(Self.span(timeline.bucketNanos))) per bar)</span></p>\n"
    }

    // MARK: Axes

    static func timeDomain(_ times: [Double]) -> (Double, Double) {
        let t0 = times.min() ?? 0, t1 = times.max() ?? 0
        return t1 > t0 ? (t0, t1) : (t0 - 5e8, t0 + 5e8)
    }

    /// Gridlines and labels at round values between low and high; `format` gets each value and the decimals
    /// its step needs (0 for a step of 1 or more, 2 for 0.05).
    static func valueAxis(
        low: Double, high: Double, y: (Double) -> Double, left: Int, right: Int, minimumStep: Double = 0,
        format: (Double, Int) -> String
    ) -> String {
        let ticks = niceTicks(low, high, minimumStep: minimumStep)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = step >= 1 ? 0 : min(Int((-log10(step)).rounded(.up)), 8)
        var body = ""
        for value in ticks {
            let position = f(y(value))
            body += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(position)\" y2=\"\(position)\" stroke=\"#e5e7eb\"/>"
                + "<text x=\"\(left - 6)\" y=\"\(position)\" dy=\"4\" text-anchor=\"end\">\(esc(format(value, decimals)))</text>\n"
        }
        return body
    }

    /// Round steps (1, 2 or 5 × 10ⁿ), about `count` of them, covering low…high.
    static func niceTicks(_ low: Double, _ high: Double, count: Int = 5, minimumStep: Double = 0) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let rough = (high - low) / Double(count)
        let magnitude = pow(10, log10(rough).rounded(.down))
        let residual = rough / magnitude
        let step = max((residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude, minimumStep)
        var ticks: [Double] = []
        var value = (low / step).rounded(.up) * step
        while value <= high + step * 1e-9, ticks.count < 50 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }

    /// Time ticks at round UTC steps, labelled by time of day (with the date when the span is over a day).
    static func timeAxis(_ t0: Double, _ t1: Double, x: (Double) -> Double, top: Int, bottom: Int) -> String {
        let second = 1e9
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
            86_400, 172_800, 604_800, 2_592_000, 31_536_000].map { $0 * second }
        let step = steps.first { (t1 - t0) / $0 <= 7 } ?? (t1 - t0) / 6
        let daily = t1 - t0 > 86_400 * second
        var body = "<line x1=\"\(f(x(t0)))\" x2=\"\(f(x(t1)))\" y1=\"\(bottom)\" y2=\"\(bottom)\" stroke=\"#9ca3af\"/>\n"
        var tick = (t0 / step).rounded(.up) * step
        var count = 0
        while tick <= t1, count < 12 {
            let position = f(x(tick))
            // A label at the right end would be cut by the chart's edge: it ends there instead.
            let anchor = x(tick) > x(t1) - 28 ? "end" : "middle"
            let label = utc(Int64(tick))
            let text = daily ? String(label.dropFirst(5).prefix(11)) : String(label.dropFirst(11).prefix(step < 60 * second ? 8 : 5))
            body += "<line x1=\"\(position)\" x2=\"\(position)\" y1=\"\(top)\" y2=\"\(bottom)\" stroke=\"#f0f1f3\"/>"
                + "<text x=\"\(position)\" y=\"\(bottom + 16)\" text-anchor=\"\(anchor)\">\(text)</text>\n"
            tick += step
            count += 1
        }
        return body
    }
}

// MARK: Text

extension ReportPage {
    /// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in attribute values.
    public static func esc(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    func esc(_ text: String) -> String { Self.esc(text) }

    /// "1 error", "3 errors".
    static func count(_ value: Int, _ noun: String) -> String { "\(value) \(noun)\(value == 1 ? "" : "s")" }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    /// One decimal, for coordinates.
    static func f(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : "0"
    }

    static func trim(_ value: Double) -> String {
        let text = String(format: "%.2f", value)
        var trimmed = text
        while trimmed.contains("."), trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed == "-0" ? "0" : trimmed
    }

    static func percent(_ share: Double) -> String { PerformanceReport.percent(share) }
    static func money(_ amount: Amount) -> String { PerformanceReport.money(amount) }
    static func signedMoney(_ amount: Amount) -> String { (amount.isPositive ? "+" : "") + money(amount) }
    /// A share as a percentage to two decimals, or to two significant digits when smaller than 1 %
    /// (a drawdown of a few fees is not "0.00 %").
    static func finePercent(_ share: Double) -> String {
        let value = share * 100
        guard value != 0, value.isFinite, abs(value) < 1 else { return percent(share) }
        let decimals = min(max(1 - Int(log10(abs(value)).rounded(.down)), 2), 8)
        var text = String(format: "%.\(decimals)f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " %"
    }

    /// Microseconds as µs, ms or s, to two decimals or (`digits`) to that many significant digits.
    static func micros(_ value: Double, digits: Int? = nil) -> String {
        func number(_ value: Double) -> String {
            guard let digits, value.isFinite, abs(value) >= 1 else { return trim(value) }
            let decimals = max(digits - 1 - Int(log10(abs(value)).rounded(.down)), 0)
            return trim((value * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals)))
        }
        if value < 1_000 { return number(value) + " µs" }
        if value < 1_000_000 { return number(value / 1_000) + " ms" }
        return number(value / 1_000_000) + " s"
    }

    /// A length of time, for the timeline's bucket: "2s", "1m 30s", "2h 5m".
    static func span(_ nanos: Int64) -> String {
        let seconds = Double(nanos) / 1e9
        return seconds < 10 ? trim(seconds) + "s" : PerformanceReport.duration(seconds)
    }

    /// "YYYY-MM-DD HH:MM:SS UTC", from the proleptic Gregorian calendar (no formatter, no time zone database).
    public static func utc(_ time: EpochNanos) -> String {
        let (seconds, _) = time.quotientAndRemainder(dividingBy: 1_000_000_000)
        let whole = time < 0 && time % 1_000_000_000 != 0 ? seconds - 1 : seconds
        var days = whole / 86_400
        var rest = whole % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        // Days to civil date (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3_600)):\(two(rest % 3_600 / 60)):\(two(rest % 60)) UTC"
    }

    static let style = """
        :root { color-scheme: light; }
        body { margin: 0; background: #f3f4f6; color: #111827;
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
        main { max-width: 1200px; margin: 0 auto; padding: 12px 20px 32px; }
        h1 { font-size: 22px; margin: 6px 0 2px; }
        h2 { font-size: 16px; margin: 0 0 8px; }
        h3 { font-size: 13px; margin: 10px 0 4px; color: #374151; font-weight: 600; }
        .meta { color: #4b5563; margin: 0 0 10px; }
        .notice { background: #fff7ed; border: 1px solid #fdba74; border-radius: 4px; padding: 6px 10px; margin: 4px 0 10px; }
        section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px 20px; margin: 0 0 12px; }
        .tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; background: none; border: 0; padding: 0; }
        .tile { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 14px; }
        .tile .label { color: #4b5563; font-size: 12px; }
        .tile .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .tile .detail { color: #6b7280; font-size: 12px; }
        .pos { color: #15803d; } .neg { color: #b91c1c; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin: 4px 0 10px; }
        th, td { padding: 3px 8px; border-bottom: 1px solid #f0f1f3; text-align: right; white-space: nowrap; }
        th { color: #4b5563; font-weight: 600; font-size: 12px; border-bottom: 1px solid #d1d5db; }
        th:first-child, td:first-child, .l { text-align: left; }
        tr.total td { font-weight: 600; border-top: 1px solid #d1d5db; }
        table.figures { font-size: 12.5px; }
        .samples { white-space: normal; text-align: left; color: #4b5563; font-size: 12px; }
        .firing { color: #fff; background: #b91c1c; border-radius: 3px; padding: 1px 6px; font-weight: 600; }
        .ok { color: #15803d; font-weight: 600; } .nodata { color: #6b7280; }
        .empty { font-size: 16px; margin: 6px 0; } .none { color: #6b7280; margin: 4px 0; }
        .caption { color: #6b7280; font-size: 12px; margin: 2px 0 6px; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
        .meter { display: inline-block; width: 120px; height: 9px; background: #e5e7eb; border-radius: 2px; vertical-align: middle; }
        .meter span { display: block; height: 9px; background: #59a14f; border-radius: 2px; }
        .legend { margin: 2px 0 8px; font-size: 12px; }
        .key { margin-right: 12px; white-space: nowrap; }
        .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
        svg.chart { display: block; max-width: 100%; height: auto; fill: #374151;
          font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
        code { font-size: 12px; color: #4b5563; }
        footer { color: #6b7280; font-size: 12px; margin-top: 8px; }

        """
}
