import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Grafana dashboard (compose/grafana/dashboards/breakwater.json) against a real Prometheus
/// (Debian's) scraping a running system: every panel's query is valid and returns data.
enum Dashboard {
    static let prometheus = "/usr/bin/prometheus"
    static let file = Repository.root.appendingPathComponent("compose/grafana/dashboards/breakwater.json")
    /// Series that exist only after their event: a reject has its reason as a label.
    static let eventSeries = ["breakwater_order_rejects_total"]

    struct Target { var panel: String; var expr: String }

    static func targets() throws -> [Target] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let panels = try #require(document["panels"] as? [[String: Any]])
        return panels.flatMap { panel in
            ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { target in
                (target["expr"] as? String).map { Target(panel: panel["title"] as? String ?? "?", expr: $0) }
            }
        }
    }

    /// Prometheus's answer to an instant query: whether it succeeded and how many series it gave.
    static func query(_ expr: String, port: Int) async throws -> (ok: Bool, series: Int, body: String) {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: expr)]
        let (data, _) = try await URLSession.shared.data(from: components.url!)
        let body = String(decoding: data, as: UTF8.self)
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let result = (document?["data"] as? [String: Any])?["result"] as? [Any]
        return (document?["status"] as? String == "success", result?.count ?? 0, body)
    }
}

extension SystemTests {
    @Test(
        "a real Prometheus scraping the running system answers every dashboard panel's query with data",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: Dashboard.prometheus) && ModelTraining.ready,
            "needs Debian's prometheus, .venv with xgboost and ../shared/data: run `make test`"))
    func dashboardQueriesReturnData() async throws {
        try await withSystem([
            // RSI plus a model (trained below), so that trading and the model's age both show.
            "signal": ["strategies": "rsi_standard,model", "rsi": ["oversold": 45, "overbought": 55], "tradeNotional": "100"],
            "model": ["rounds": 10, "minBars": 60],
            "risk": looseRisk,
        ]) { system in
            try await system.waitHealthy()
            let (status, output) = try await system.command(["model", "train", "--symbol", "BTC", "--candles", Repository.candles.path])
            try #require(status == 0, "model train: \(output)")

            var targets: [String] = ["127.0.0.1:\(system.supervisorPort)"]
            for service in RunningSystem.services {
                let admin = try #require(await system.entry(service)?["admin"] as? String)
                targets.append(String(admin.replacingOccurrences(of: "http://", with: "")))
            }
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let config = try folder.write(
                "prometheus.yml",
                """
                global: { scrape_interval: 1s, evaluation_interval: 1s }
                scrape_configs:
                  - job_name: breakwater
                    static_configs: [{ targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))] }]
                """)
            let port = freePorts(1)[0]
            let prometheus = Process()
            prometheus.executableURL = URL(fileURLWithPath: Dashboard.prometheus)
            prometheus.arguments = [
                "--config.file=\(config)", "--storage.tsdb.path=\(folder.path("data"))",
                "--web.listen-address=127.0.0.1:\(port)",
            ]
            prometheus.standardOutput = FileHandle.nullDevice
            prometheus.standardError = FileHandle.nullDevice
            try prometheus.run()
            defer {
                prometheus.terminate()
                prometheus.waitUntilExit()
            }
            try await system.waitUntil("every target scraped and an order sent", timeout: .seconds(120)) {
                let up = try await Dashboard.query("sum(up{job=\"breakwater\"})", port: port)
                let sent = try await Dashboard.query("breakwater_orders_sent_total > 0", port: port)
                let model = try await Dashboard.query("breakwater_model_age_seconds", port: port)
                return up.body.contains("\"\(targets.count)\"") && sent.series > 0 && model.series > 0
            }
            // Rates over 5 minutes need two samples in the window; a few more seconds of scrapes.
            try await Task.sleep(for: .seconds(5))

            let all = try Dashboard.targets()
            #expect(all.count >= 30)
            var panelsWithData: [String: Bool] = [:]
            for target in all {
                let answer = try await Dashboard.query(target.expr, port: port)
                #expect(answer.ok, "\(target.panel): \(target.expr) is not a valid query: \(answer.body.prefix(300))")
                panelsWithData[target.panel, default: false] = panelsWithData[target.panel, default: false] || answer.series > 0
                let eventDriven = Dashboard.eventSeries.contains { target.expr.contains($0) }
                #expect(
                    answer.series > 0 || eventDriven, "\(target.panel): \(target.expr) returned nothing: \(answer.body.prefix(300))")
            }
            for (panel, hasData) in panelsWithData.sorted(by: { $0.key < $1.key }) {
                #expect(hasData, "panel \(panel) shows nothing")
            }
        }
    }
}
