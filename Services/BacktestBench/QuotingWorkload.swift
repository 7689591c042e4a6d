import Backtest
import Execution
import Market
import Risk
import Schema
import ServiceKit
import Strategy
import Venue

extension BenchWorkload {
    /// The config keys the product's market maker runs with besides the defaults: quotes narrow enough to
    /// be filled in the capture's six minutes (by default, 12 tiers from 4 bps out, none is).
    static let productMakerConfig = [
        "marketMaking.tiers": "2", "marketMaking.minSpreadBps": "0.5", "marketMaking.maxSpreadBps": "4",
        "marketMaking.refreshToleranceBps": "2", "marketMaking.filledOrderDelayMs": "1000",
    ]

    /// The config the product's market maker runs with, read as `breakwater backtest` reads its own (the
    /// keys as `BREAKWATER_…` variables, as its sweeps pass them).
    static func productMakerSettings() async -> Settings {
        await Settings.load(
            file: nil,
            environment: Dictionary(uniqueKeysWithValues: productMakerConfig.map { (Settings.environmentName($0.key), $0.value) }))
    }

    /// The capture as `breakwater backtest --market binance-l2` plays it with BTC quoted: the depth
    /// gathered onto the listing's grid and published every 100 ms of capture time, each print matched
    /// by the venue against the book and the resting quotes; the product's market maker (the signal
    /// generator's code), the risk gate's rules, the executor's quote keeping and the FIFO ledger,
    /// Decimal throughout, read by the services' own config readers. Its events are the venue's (books
    /// and prints), not the capture's diffs, so its rate is not comparable with the fixed-point workloads'.
    static func productMarketMaker(captureText: String, settings: inout Settings) throws -> BenchWorkload {
        let symbol = "BTC"
        let risk = RiskSettings.read(&settings, symbols: [symbol])
        let marketMaking = StrategySettings.read(&settings, symbols: [symbol]).marketMaking
        let routing = OrderRouting(marketSlippage: settings.marketSlippage())
        let snapshotNanos = Int64(settings.accountSnapshotIntervalMs()) * 1_000_000
        let graceNanos = Int64(settings.barGraceMs()) * 1_000_000
        let quoting = BacktestQuoting(
            symbols: [symbol], settings: marketMaking.settings, keeper: settings.quoteKeeping(), bookLevels: settings.bookLevels(),
            budgetPollNanos: Int64(settings.quoteBudgetPollMs()) * 1_000_000)
        guard settings.problems.isEmpty else {
            throw Helper.Failure(description: "the market maker's config: \(settings.problems.joined(separator: "; "))")
        }
        let spec = PaperListing.listing(symbol).spec
        let script = try MarketScripts.binanceL2(captureText, coin: symbol, spec: spec)
        // `breakwater backtest`'s clock for a capture (offsets from its first line) and its bar.
        let startMs = BacktestSetup.defaultStartMs
        let setup = BacktestSetup(
            markets: [BacktestMarket(symbol: symbol, spec: spec, script: script)], startMs: startMs,
            startingCapital: risk.startingCapital, routing: routing, barSeconds: BacktestSetup.defaultCandleSeconds,
            barGraceNanos: graceNanos,
            snapshotIntervalNanos: snapshotNanos, quoting: quoting)
        let start = EpochNanos(startMs) * 1_000_000
        let fresh = try Backtest(
            setup: setup, makeGate: { risk.makeCore(instruments: $0, now: start) },
            makeStrategies: { _ in StrategyPortfolio(desks: [], settleNanos: 10 * Nanos.second) })
        return BenchWorkload(
            name: "L2 replay, the product's market maker (venue, Decimal)", events: script.steps.count, baseline: nil
        ) {
            var backtest = fresh
            backtest.run()
            let record = backtest.record
            let quotes = record.marketMaking?.symbols.first { $0.symbol == symbol }
            let equity = record.finalSnapshot?.equity.rounded(scale: 2, .plain).description ?? "—"
            return WorkloadResult(
                checksum: Int64(record.fills.count) &* 1_000_003 &+ Int64(record.orders.count),
                summary: "\(quotes?.placed ?? 0) quotes placed and \(quotes?.modified ?? 0) modified, "
                    + "\(record.fills.count) fills, \(record.faults.count) faults, final equity \(equity)")
        }
    }
}
