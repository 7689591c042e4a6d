import Foundation
import Risk
import Schema
import Testing
import TestSupport

/// Where the real candles and the Python reference live.
enum RiskReference {
    static let candlesFile = Repository.candles
    static let python = Repository.python
    static let script = Repository.root.appendingPathComponent("Tests/RiskTests/reference/portfolio_risk.py")
    static var hasData: Bool { FileManager.default.fileExists(atPath: candlesFile.path) }

    /// "2021-12-31 23:01:00.000000" (UTC) → ns since the epoch.
    static func epochNanos(_ text: Substring) -> EpochNanos? {
        let parts = text.split(whereSeparator: { "-: .".contains($0) }).prefix(6).compactMap { Int64($0) }
        guard parts.count == 6 else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let (y0, m, d) = (parts[0], parts[1], parts[2])
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + parts[3]) * 60 + parts[4]) * 60 * Nanos.second + parts[5] * Nanos.second
    }

    /// The four symbols `portfolio_risk.py` builds from the candles, recorded the same way.
    static func history() throws -> ReturnHistory {
        let text = try String(contentsOf: candlesFile, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline)
        let header = lines.removeFirst().split(separator: ",")
        let timeIndex = try #require(header.firstIndex(of: "timestamp"))
        let closeIndex = try #require(header.firstIndex(of: "close"))
        var times: [EpochNanos] = []
        var closes: [Double] = []
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            times.append(try #require(epochNanos(fields[timeIndex])))
            closes.append(try #require(Double(fields[closeIndex])))
        }
        var h = ReturnHistory(intervalSeconds: 60, capacity: 100_000)
        for (i, (t, c)) in zip(times, closes).enumerated() {
            try h.record(symbol: "BTC", openTime: t, close: c)
            if !(20_000..<20_100).contains(i) { try h.record(symbol: "POW", openTime: t, close: c * c / 40_000) }
            if i >= 30 { try h.record(symbol: "LAG", openTime: t, close: closes[i - 30]) }
            try h.record(symbol: "INV", openTime: t, close: 1e9 / c)
        }
        return h
    }

    struct Output: Decodable {
        struct VaR: Decodable {
            var config: String
            var horizon, step, window: Int
            var confidence: Double
            var portfolio: String
            var notional: [String: Double]
            var scenarios: Int
            var value_at_risk, expected_shortfall: Double
            var worst_end: Int64
        }
        struct Joint: Decodable {
            var config: String
            var horizon, step, window, scenarios: Int
            var first_end, last_end: Int64
            var first, last: [Double]
        }
        struct WorstDays: Decodable {
            var config: String
            var horizon, step, window: Int
            var min, max: [Double]
        }
        struct Correlation: Decodable {
            var name: String
            var horizon, step, window, samples: Int
            var symbols: [String]
            var matrix: [[Double]]
        }
        var cases: [VaR]
        var joint: [Joint]
        var worst_days: [WorstDays]
        var correlation: [Correlation]
    }

    static func run() async throws -> Output {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("risk-reference-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try await runProcess(python, [script.path, candlesFile.path, out.path])
        try #require(result.status == 0, "portfolio_risk.py failed: \(result.errorText)")
        return try JSONDecoder().decode(Output.self, from: Data(contentsOf: out))
    }
}

/// Equal to `relative`, or `relative × scale` absolute near zero.
private func close(_ a: Double, _ b: Double, relative: Double = 1e-9, scale: Double) -> Bool {
    a == b || abs(a - b) <= relative * max(abs(a), abs(b), scale)
}

/// VaR, ES, worst days and correlations over the real 1-minute BTC candles (and three series derived
/// from them: squared, 30-minute lag, inverse) against numpy/pandas (`reference/portfolio_risk.py`).
@Suite(
    .enabled(
        if: RiskReference.hasData,
        "shared/data is absent (expected beside the package root): the real-data risk reference is skipped"))
struct PortfolioRiskReferenceTests {
    static let symbols = ["BTC", "POW", "LAG", "INV"]

    @Test("VaR, ES, joint returns, worst days and correlations match numpy/pandas to 1e-9")
    func matchesNumpyAndPandas() async throws {
        guard FileManager.default.fileExists(atPath: RiskReference.python.path) else {
            Issue.record("No Python reference environment at \(RiskReference.python.path): run `make test`, which creates .venv")
            return
        }
        let reference = try await RiskReference.run()
        let history = try RiskReference.history()
        try #require(reference.cases.count == 18 && reference.correlation.count == 3 && reference.joint.count == 3)

        var worstVaRError = 0.0
        for expected in reference.cases {
            let symbols = Self.symbols.filter { expected.notional[$0] != nil }
            let joint = history.jointReturns(
                symbols: symbols, horizonBars: expected.horizon, stepBars: expected.step, window: expected.window)
            let figures = ValueAtRisk.figures(
                exposure: ExposureVector(expected.notional), returns: joint, confidence: expected.confidence,
                minimumScenarios: 1, fallbackLossFraction: 0.3)
            let label = "\(expected.config) \(expected.portfolio) \(expected.confidence)"
            #expect(figures.basis == .historical, "\(label)")
            #expect(figures.scenarios == expected.scenarios, "\(label): scenarios")
            #expect(
                close(figures.valueAtRisk, expected.value_at_risk, scale: 1),
                "\(label): VaR \(figures.valueAtRisk) ≠ \(expected.value_at_risk)")
            #expect(
                close(figures.expectedShortfall, expected.expected_shortfall, scale: 1),
                "\(label): ES \(figures.expectedShortfall) ≠ \(expected.expected_shortfall)")
            #expect(figures.worstScenarioEnd == expected.worst_end, "\(label): worst scenario")
            worstVaRError = max(worstVaRError, abs(figures.valueAtRisk - expected.value_at_risk) / abs(expected.value_at_risk))
        }

        for expected in reference.joint {
            let joint = history.jointReturns(
                symbols: Self.symbols, horizonBars: expected.horizon, stepBars: expected.step, window: expected.window)
            #expect(joint.count == expected.scenarios, "\(expected.config): scenarios")
            #expect(joint.endTimes.first == expected.first_end && joint.endTimes.last == expected.last_end)
            for (a, b) in Array(zip(joint.returns.first ?? [], expected.first)) + Array(zip(joint.returns.last ?? [], expected.last)) {
                #expect(close(a, b, scale: 1e-3), "\(expected.config): return \(a) ≠ \(b)")
            }
        }

        // Each symbol's largest fall and rise (what the historical stress day replays).
        for expected in reference.worst_days {
            let joint = history.jointReturns(
                symbols: Self.symbols, horizonBars: expected.horizon, stepBars: expected.step, window: expected.window)
            for (i, symbol) in Self.symbols.enumerated() {
                let long = StressScenarios.run(exposure: ExposureVector([symbol: 1_000]), history: joint)
                let short = StressScenarios.run(exposure: ExposureVector([symbol: -1_000]), history: joint)
                let fall = try #require(long.results.first { $0.kind == .historicalDay })
                let rise = try #require(short.results.first { $0.kind == .historicalDay })
                #expect(close(fall.loss, -1_000 * expected.min[i], scale: 1), "\(expected.config) \(symbol) worst fall")
                #expect(close(rise.loss, 1_000 * expected.max[i], scale: 1), "\(expected.config) \(symbol) worst rise")
            }
        }

        var worstCorrelationError = 0.0
        for expected in reference.correlation {
            let joint = history.jointReturns(
                symbols: Self.symbols, horizonBars: expected.horizon, stepBars: expected.step, window: expected.window)
            let matrix = CorrelationMatrix(returns: joint, minimumSamples: 2)
            #expect(matrix.samples == expected.samples, "\(expected.name): samples")
            #expect(matrix.symbols == expected.symbols)
            for i in 0..<4 {
                for j in 0..<4 {
                    let (a, b) = (matrix.values[i][j], expected.matrix[i][j])
                    worstCorrelationError = max(worstCorrelationError, abs(a - b))
                    #expect(close(a, b, scale: 1), "\(expected.name) ρ(\(expected.symbols[i]),\(expected.symbols[j])) \(a) ≠ \(b)")
                }
            }
            // What the clustering makes of it: BTC and its square move as one, the inverse is a hedge;
            // the 30-minute lag is unrelated bar by bar but joins over whole days.
            let clusters = matrix.clusters(threshold: 0.7)
            if expected.horizon == 1 {
                #expect(clusters == [["BTC", "POW"], ["INV"], ["LAG"]], "\(expected.name)")
            } else {
                #expect(clusters == [["BTC", "LAG", "POW"], ["INV"]], "\(expected.name)")
            }
        }
        print(
            "portfolio risk reference: \(reference.cases.count) VaR/ES cases, worst VaR error "
                + "\(String(format: "%.1e", worstVaRError)); correlation worst abs error "
                + "\(String(format: "%.1e", worstCorrelationError))")
    }

    @Test("The rolling window really rolls: a later window gives a different matrix")
    func rollingWindowMoves() throws {
        let history = try RiskReference.history()
        let recent = history.jointReturns(symbols: ["BTC", "LAG"], horizonBars: 60, stepBars: 60, window: 100)
        #expect(recent.count == 100)
        let daily = history.jointReturns(symbols: ["BTC", "LAG"], horizonBars: 1_440, stepBars: 1_440, window: 250)
        #expect(daily.count == 31)
        let a = CorrelationMatrix(returns: recent, minimumSamples: 50)
        let b = CorrelationMatrix(returns: daily, minimumSamples: 50)
        #expect(a.basis == .historical)
        // 31 days are fewer than 50: stated, with the fallback.
        #expect(b.basis == .insufficientHistory)
        #expect(b.correlation("BTC", "LAG") == 1)
    }
}
