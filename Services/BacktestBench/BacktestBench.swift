import ArgumentParser
import BenchKit
import Backtest
import Foundation
import L2Replay
import Schema
import ServiceKit

/// Backtest throughput: the Binance USD-M L2 capture loaded once into fixed-point events, each
/// workload run `--runs` times on one core, events per second at the median and the slowest runs,
/// and hftbacktest on the same capture (converted by its own converter) in the same run as the baseline.
@main
struct BacktestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest-bench",
        abstract: "Time the backtester on candles, and L2 replay workloads over the Binance capture against hftbacktest on the same data.")

    static let captureFile = "btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz"
    static let candleFile = "btc-perp-1m-ftx-2022-01.csv"

    @Option(help: "Timed runs per workload (after one untimed warm-up run).")
    var runs = 7

    @Option(help: "The recorded-data folder; default: $BREAKWATER_DATA_DIR, else ../shared/data beside the repository.")
    var dataDir: String?

    @Flag(help: "Leave bad lines out and count them, instead of stopping at the first.")
    var skipFaults = false

    @Flag(help: "Skip the hftbacktest baseline.")
    var noHftbacktest = false

    @Option(help: "The Python with hftbacktest; default: .venv-bench/bin/python3 in the repository (.ci/deps.sh bench).")
    var python: String?

    @Option(help: "Candles of the shared file the candle workload plays (from its start).")
    var candles = 10_000

    @Option(help: "Market maker: ticks between the mid and each quote.")
    var halfSpread: Int64 = 1

    @Option(help: "Market maker: lots per quote (0.001 BTC each).")
    var orderLots: Int64 = 1

    @Option(help: "Market maker: the largest position either way, in lots.")
    var maxPositionLots: Int64 = 10

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        guard candles >= 2 else { throw ValidationError("--candles must be at least 2") }
        guard halfSpread >= 0, orderLots > 0, maxPositionLots >= orderLots else {
            throw ValidationError("need --half-spread ≥ 0, --order-lots > 0, --max-position-lots ≥ --order-lots")
        }
    }

    func run() async throws {
        guard let root = RepositoryPaths.repositoryRoot() else { throw ValidationError("not inside a checkout: cannot find the repository") }
        guard let data = RepositoryPaths.sharedDataDirectory(configured: dataDir) else {
            throw ValidationError(RepositoryPaths.missingDataDirectory)
        }
        let capturePath = data + "/" + Self.captureFile
        let workDirectory = root + "/var/backtest-bench"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)

        let loadStart = monotonicNanos()
        let text = try DataFiles.text(capturePath)
        let capture: L2Capture
        do {
            capture = try BinanceL2Loader.load(text, policy: skipFaults ? .skip : .stop)
        } catch {
            throw Helper.Failure(description: "\(capturePath): \(error) (--skip-faults leaves bad lines out and counts them)")
        }
        let loadSeconds = Double(monotonicNanos() - loadStart) / 1e9
        let report = capture.report
        print(
            "backtest-bench: \(capturePath)\n  loaded once in " + String(format: "%.2f s", loadSeconds)
                + ": \(report.lines) lines → \(capture.events.count) events (\(report.snapshots) snapshot, "
                + "\(report.diffsApplied) diffs applied, \(report.staleDiffs) stale before the snapshot, \(report.trades) trades; "
                + "\(report.bookTickers) bookTicker lines checked, not replayed)")
        print("  data faults: " + (report.faultCount == 0 ? "none" : Helper.describe(report)))

        let quoting = QuotingParameters(
            halfSpreadTicks: halfSpread, orderLots: orderLots, maxPositionLots: maxPositionLots, makerFeeMicros: 200)
        let candlePath = data + "/" + Self.candleFile
        let series: CandleSeries
        do {
            series = try CandleSeries(
                text: try DataFiles.text(candlePath), file: candlePath, policy: skipFaults ? .skip : .stop, limit: candles)
        } catch {
            throw Helper.Failure(description: "\(error) (--skip-faults leaves bad lines out and counts them)")
        }
        // The capture as `breakwater backtest` checks it (with --skip-faults its bad lines left out).
        let checked = CaptureCheck.binanceL2(text, loaded: capture, file: capturePath)
        var makerSettings = await BenchWorkload.productMakerSettings()
        let productMaker = try BenchWorkload.productMarketMaker(captureText: checked.text, settings: &makerSettings)
        var measured: [(BenchWorkload, Percentiles, WorkloadResult)] = []
        for workload in try [BenchWorkload.candles(series)] + BenchWorkload.all(capture: capture, quoting: quoting) + [productMaker] {
            let (percentiles, result) = Helper.time(workload, runs: runs)
            measured.append((workload, percentiles, result))
        }

        var baseline: HftbacktestReport?
        var baselineProblem: String?
        if noHftbacktest {
            baselineProblem = "skipped (--no-hftbacktest)"
        } else {
            do {
                baseline = try HftbacktestReport.run(
                    python: python ?? root + "/.venv-bench/bin/python3", script: root + "/Services/BacktestBench/hftbacktest_bench.py",
                    capture: capturePath, workDirectory: workDirectory, runs: runs, quoting: quoting)
            } catch {
                baselineProblem = "\(error)"
            }
        }
        Helper.printTable(measured, baseline: baseline, runs: runs)
        if let baselineProblem { print("hftbacktest: \(baselineProblem)") }
        Helper.printVerdict(measured, baseline: baseline, capture: capture)
        try Helper.printJSON(measured, baseline: baseline)
        if baselineProblem != nil, !noHftbacktest { throw ExitCode.failure }
    }
}
