import Foundation
import Testing
import TestSupport

/// `breakwater backtest` as an operator runs it: the shared candle file, its JSON, a sweep, bad data.
@Suite("Backtest command", .enabled(if: Repository.hasData, "needs ../shared/data beside the repository"))
struct BacktestCommandTests {
    func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("backtest-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("--json gives the report's summary, every trade with its exit reason and every fill; the text the same figures")
    func jsonAndText() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try await run("breakwater", ["backtest", "--candles", "1500", "--json", "--var-dir", "var"], in: directory)
        try #require(status == 0, "\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let trades = try #require(report["trades"] as? [[String: Any]])
        let fills = try #require(report["fills"] as? [[String: Any]])
        let funnel = try #require(report["funnel"] as? [String: Any])
        #expect(funnel["bars"] as? Int == 1_500)
        #expect(!trades.isEmpty && fills.count >= trades.count)
        for trade in trades {
            for key in ["symbol", "side", "size", "entryTime", "entryPrice", "exitTime", "exitPrice", "fees", "realizedPnl", "exitReason"] {
                #expect(trade[key] != nil, "\(key) missing")
            }
            #expect(trade["exitReason"] as? String != "unknown")
        }
        #expect((report["faults"] as? [Any])?.isEmpty == true)
        let total = try #require((report["performance"] as? [String: Any])?["total"] as? [String: Any])
        #expect(total["trades"] as? Int == trades.count)

        let (textStatus, text) = try await run("breakwater", ["backtest", "--candles", "1500", "--var-dir", "var"], in: directory)
        #expect(textStatus == 0)
        #expect(text.contains("1500 bars") && text.contains("STRATEGY"))
    }

    @Test("the market maker of compose's market-making config quotes the candle file at a candle per 2 s: quote fills, its table and its JSON")
    func marketMaking() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = Repository.root.appendingPathComponent("compose/market-making.json").path
        let arguments = ["backtest", "--config", config, "--candles", "200", "--candle-seconds", "2", "--var-dir", "var"]
        let (status, output) = try await run("breakwater", arguments + ["--json"], in: directory)
        try #require(status == 0, "\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let fills = try #require(report["fills"] as? [[String: Any]])
        #expect(!fills.isEmpty && fills.allSatisfy { $0["quoteTier"] != nil && $0["liquidity"] as? String == "maker" })
        let making = try #require(report["marketMaking"] as? [String: Any])
        let symbols = try #require(making["symbols"] as? [[String: Any]])
        let btc = try #require(symbols.first { $0["symbol"] as? String == "BTC" })
        #expect(btc["quoteFills"] as? Int == fills.count)
        #expect((btc["placed"] as? Int ?? 0) > 0)
        #expect((report["faults"] as? [Any])?.isEmpty == true)

        let (textStatus, text) = try await run("breakwater", arguments, in: directory)
        #expect(textStatus == 0)
        #expect(text.contains("market making: BTC") && text.contains("Market making (quoted: BTC;"), "\(text)")
    }

    @Test("a sweep runs every parameter set and says which set a bad value is in")
    func sweep() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sets = directory.appendingPathComponent("sweep.json")
        try Data(#"[{"signal.strategies": "rsi_standard"}, {"signal.strategies": "sma_fast"}]"#.utf8).write(to: sets)
        let (status, output) = try await run(
            "breakwater", ["backtest", "--candles", "600", "--sweep", sets.path, "--var-dir", "var"], in: directory)
        try #require(status == 0, "\(output)")
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("1 |") || $0.hasPrefix("2 |") }
        #expect(rows.count == 2)
        #expect(rows.last?.hasSuffix("signal.strategies=sma_fast") == true)
        try Data(#"[{"signal.strategies": "rsi_standard"}, {"signal.rsi.period": "x"}]"#.utf8).write(to: sets)
        let (badStatus, bad) = try await run(
            "breakwater", ["backtest", "--candles", "600", "--sweep", sets.path, "--var-dir", "var"], in: directory)
        #expect(badStatus == 2)
        #expect(bad.contains("sweep set 2") && bad.contains("signal.rsi.period"), "\(bad)")
    }

    @Test(
        "the model strategy plays the newest model, named with its training window and flagged in-sample; no model stops the run",
        .enabled(if: ModelTraining.ready, "needs .venv with xgboost: run `make test`"))
    func modelStrategy() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        let settings: [String: Any] = [
            "symbols": ["BTC"], "signal": ["strategies": "model"],
            "model": ["directory": directory.appendingPathComponent("models").path, "rounds": 30],
        ]
        try JSONSerialization.data(withJSONObject: settings).write(to: config)
        let (missing, refusal) = try await run(
            "breakwater", ["backtest", "--candles", "600", "--config", config.path, "--var-dir", "var"], in: directory)
        #expect(missing == 2)
        #expect(refusal.contains("no model of BTC loads") && refusal.contains("breakwater model train"), "\(refusal)")
        let (trained, training) = try await run(
            "breakwater",
            ["model", "train", "--symbol", "BTC", "--candles", Repository.candles.path, "--config", config.path, "--var-dir", "var"],
            in: directory)
        try #require(trained == 0, "\(training)")
        let (status, output) = try await run(
            "breakwater", ["backtest", "--candles", "3000", "--config", config.path, "--var-dir", "var"], in: directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("model BTC: ") && output.contains("IN-SAMPLE"), "\(output)")
        #expect(output.contains("3000 bars → 3000 signals"), "\(output)")
    }

    @Test("a candle twice stops the backtest at its line; --skip-bad-data leaves it out and says so")
    func badData() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        var lines = try String(contentsOf: Repository.candles, encoding: .utf8).split(separator: "\n").prefix(400).map(String.init)
        lines.insert(lines[200], at: 201)  // line 201 (the header is line 1) again as line 202
        let file = directory.appendingPathComponent("candles.csv")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        let (status, output) = try await run("breakwater", ["backtest", "--file", file.path, "--var-dir", "var"], in: directory)
        #expect(status == 1)
        #expect(output.contains("candles.csv line 202: duplicate time"), "\(output)")
        let (skipStatus, skipped) = try await run(
            "breakwater", ["backtest", "--file", file.path, "--skip-bad-data", "--var-dir", "var"], in: directory)
        #expect(skipStatus == 0, "\(skipped)")
        #expect(skipped.contains("skipped 1 data problem(s); first: \(file.path) line 202"), "\(skipped)")
        #expect(skipped.contains("399 bars"), "\(skipped)")
    }
}
