import Foundation
import Ledger
import Schema
import Storage
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Headless Chromium (Debian's `chromium`) laying out and photographing a report page.
enum Chromium {
    static let executable = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let width = 1280

    struct Chart: Decodable {
        var name: String
        var x: Double
        var y: Double
        var width: Double
        var height: Double
        /// Shapes in the chart (rect, path, circle, line) as the browser parsed them.
        var marks: Int
    }

    struct Layout: Decodable {
        var height: Double
        var charts: [Chart]
        var sections: [String]
    }

    /// Chromium with a deadline, a profile of its own (others may run one) and a device scale of 1, so
    /// that screenshot pixels are CSS pixels. No sandbox: the tests run as root in a container.
    static func run(_ arguments: [String], profile: String) async throws -> ProcessResult {
        try await runProcess(
            URL(fileURLWithPath: "/usr/bin/timeout"),
            [
                "120", try #require(executable), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--force-device-scale-factor=1", "--no-first-run", "--user-data-dir=\(profile)",
            ] + arguments)
    }

    /// Where each chart landed once Chromium laid the page out: a copy of the page with a measuring script
    /// (the page itself has none) is dumped after the script ran, the layout in an attribute.
    static func layout(of page: String, folder: TemporaryDirectory, name: String) async throws -> Layout {
        let script = """
            <script>
            (() => {
              const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
                const box = svg.getBoundingClientRect();
                return { name: svg.dataset.chart, x: box.left + window.scrollX, y: box.top + window.scrollY,
                         width: box.width, height: box.height, marks: svg.querySelectorAll('rect, path, circle, line').length };
              });
              const sections = [...document.querySelectorAll('section')].map(section => section.id);
              document.body.setAttribute('data-layout',
                JSON.stringify({ height: document.documentElement.scrollHeight, charts, sections }));
            })();
            </script>
            """
        let file = try folder.write("\(name)-measured.html", page.replacingOccurrences(of: "</body>", with: script + "</body>"))
        let result = try await run(
            ["--window-size=\(width),2400", "--dump-dom", "file://\(file)"], profile: folder.path("\(name)-profile-dom"))
        try #require(result.status == 0, "chromium --dump-dom: \(result.errorText.suffix(2_000))")
        let dom = result.outputText
        let marker = "data-layout=\""
        let start = try #require(dom.range(of: marker), "the measuring script did not run: \(dom.prefix(500))").upperBound
        let end = try #require(dom[start...].firstIndex(of: "\""))
        let json = dom[start..<end].replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        return try JSONDecoder().decode(Layout.self, from: Data(json.utf8))
    }

    /// A screenshot of the whole page (the window as tall as the page), PNG.
    static func screenshot(_ file: String, height: Int, into png: String, profile: String) async throws {
        let result = try await run(
            ["--window-size=\(width),\(height)", "--screenshot=\(png)", "file://\(file)"], profile: profile)
        try #require(result.status == 0 && FileManager.default.fileExists(atPath: png), "chromium --screenshot: \(result.errorText.suffix(2_000))")
    }

    /// The colours each chart draws its marks in (ReportPage's palette).
    static let chartColours: [String: [String]] = [
        "equity": ["#1f77b4"], "drawdown": ["#d62728"], "pnl-strategy": ["#2ca02c", "#d62728"],
        "pnl-symbol": ["#2ca02c", "#d62728"], "funnel": ["#4e79a7", "#59a14f"],
        "rejections": ["#f28e2b", "#9467bd", "#d62728"], "latency": ["#76b7b2", "#e15759"],
        "errors": ["#e15759", "#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9ca3af"],
    ]

    /// Renders `page` and proves its charts drew: each laid out with a size, inside the screenshot, with
    /// pixels of its own colours there. Returns the screenshot's path.
    @discardableResult
    static func expectChartsDrew(
        _ page: String, name: String, expected: Set<String>, folder: TemporaryDirectory,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let drawn = Set(page.components(separatedBy: "data-chart=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) })
        #expect(drawn.isSuperset(of: expected), "\(name): charts \(drawn.sorted()), expected \(expected.sorted())", sourceLocation: sourceLocation)
        let layout = try await layout(of: page, folder: folder, name: name)
        #expect(Set(layout.charts.map(\.name)) == drawn, sourceLocation: sourceLocation)
        #expect(
            Set(layout.sections).isSuperset(of: ["summary", "alerts", "equity", "pnl", "funnel", "latency", "errors", "strategies", "pnl-table"]),
            "\(layout.sections)", sourceLocation: sourceLocation)
        let height = Int(layout.height.rounded(.up)) + 8
        let file = try folder.write("\(name).html", page)
        let png = folder.path("\(name).png")
        try await screenshot(file, height: max(height, 2_400), into: png, profile: folder.path("\(name)-profile-shot"))
        // Not a BREAKWATER_ variable: those are settings, and the system refuses one it does not know.
        if let keep = ProcessInfo.processInfo.environment["REPORT_PAGE_SCREENSHOTS"] {
            try? FileManager.default.removeItem(atPath: "\(keep)/\(name).png")
            try? FileManager.default.copyItem(atPath: png, toPath: "\(keep)/\(name).png")
        }

        var boxes: [String: Any] = [:]
        for chart in layout.charts {
            #expect(chart.width > 100 && chart.height > 30 && chart.marks > 0, "\(name) \(chart.name): \(chart)", sourceLocation: sourceLocation)
            #expect(chart.x >= 0 && chart.x + chart.width <= Double(width) && chart.y + chart.height <= Double(max(height, 2_400)),
                "\(name) \(chart.name) lies outside the screenshot: \(chart)", sourceLocation: sourceLocation)
            boxes[chart.name] = ["box": [chart.x, chart.y, chart.width, chart.height], "colours": chartColours[chart.name] ?? []]
        }
        let boxFile = try folder.write("\(name)-boxes.json", String(decoding: try JSONSerialization.data(withJSONObject: boxes), as: UTF8.self))
        let python = FileManager.default.isExecutableFile(atPath: Repository.python.path) ? Repository.python : URL(fileURLWithPath: "/usr/bin/python3")
        let script = Repository.root.appendingPathComponent("Tests/IntegrationTests/page_pixels.py").path
        let result = try await runProcess(python, [script, png, boxFile])
        try #require(result.status == 0, "page_pixels.py: \(result.errorText)")
        let counts = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
        #expect(counts["width"] as? Int == width, sourceLocation: sourceLocation)
        let measured = try #require(counts["boxes"] as? [String: [String: Int]])
        for chart in layout.charts {
            let pixels = measured[chart.name] ?? [:]
            // Marks are drawn in saturated colours; text, axes and grid lines are grey.
            #expect((pixels["coloured"] ?? 0) >= 40, "\(name) \(chart.name) drew nothing coloured: \(pixels)", sourceLocation: sourceLocation)
            #expect((pixels["matching"] ?? 0) >= 20, "\(name) \(chart.name) has none of its colours: \(pixels)", sourceLocation: sourceLocation)
        }
        return png
    }
}

extension SystemTests {
    @Test(
        "report --html and the supervisor's / draw every chart in headless Chromium: equity, drawdown, P&L, funnel, latency, errors",
        .enabled(if: Chromium.executable != nil, "needs Debian's chromium (apt-get install chromium); `make test` installs it"))
    func reportPageRendersInChromium() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let reportFile = folder.path("report-file.html")
        var served = ""
        try await withSystem([
            "exchangeSim": realCandles(from: "2022-01-07 12:00:00"), "signal": busySignals, "risk": looseRisk,
            "executor": ["pollMs": 300], "exchange": ["deadlineMs": 800, "breaker": ["openMs": 1_500]],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("two closed trades", timeout: .seconds(180)) {
                let fills = try system.trace().messages(Fill.self).map(\.body)
                return try FifoLedger.replaying(fills: fills, funding: [], startingCapital: 10_000).closedTrades.count >= 2
            }
            // An exchange outage, so that the error timeline has something to draw.
            let before = wallNanos()
            try await system.simFaults(#"{"error5xx": {"rate": 1, "seconds": 20}}"#)
            try await system.waitUntil("the executor's breaker to open", timeout: .seconds(30)) {
                try breakerTransitions(system, after: before).contains { $0.to == .open }
            }
            try await system.simFaults(nil)

            let (code, output) = try await system.command(["report", "--html", reportFile])
            #expect(code == 0 && output.contains("wrote \(reportFile)"), "\(output)")

            // An empty window says so, and still writes a page.
            let empty = folder.path("empty.html")
            let (emptyCode, emptyOutput) = try await system.command(
                ["report", "--html", empty, "--since", "2001-01-01", "--until", "2001-01-02"])
            #expect(emptyCode == 0 && emptyOutput.contains("nothing was traced or booked in this window"), "\(emptyOutput)")
            #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("Nothing was traced or booked in this window"))
            // --html takes the whole report; with --json it is refused, and nothing is written.
            let (mixedCode, mixedOutput) = try await system.command(["report", "--html", folder.path("mixed.html"), "--json"])
            #expect(mixedCode == 2 && mixedOutput.contains("does not combine"), "\(mixedOutput)")
            #expect(!FileManager.default.fileExists(atPath: folder.path("mixed.html")))

            // The supervisor's `/`, while `/status` keeps answering.
            let started = ContinuousClock.now
            async let page = Self.get("http://127.0.0.1:\(system.supervisorPort)/")
            async let status = system.status()
            let statusAnswered = await status != nil
            let statusTook = ContinuousClock.now - started
            let (pageStatus, contentType, body) = try await page
            #expect(statusAnswered && statusTook < .seconds(2), "/status took \(statusTook) beside /")
            #expect(pageStatus == 200 && contentType.hasPrefix("text/html"), "\(pageStatus) \(contentType): \(body.prefix(500))")
            #expect(body.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
            #expect(body.contains("P&amp;L from the ledger"))
            served = body
        }

        let core: Set<String> = ["equity", "drawdown", "pnl-strategy", "pnl-symbol", "funnel", "latency", "errors"]
        let file = try String(contentsOfFile: reportFile, encoding: .utf8)
        #expect(!file.contains("http-equiv=\"refresh\""))
        try await Chromium.expectChartsDrew(file, name: "report-file", expected: core, folder: folder)
        try await Chromium.expectChartsDrew(served, name: "report-served", expected: core, folder: folder)
    }

    /// GET: status, content type and body.
    static func get(_ url: String) async throws -> (Int, String, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
    }
}
