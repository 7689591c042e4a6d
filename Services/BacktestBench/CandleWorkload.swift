import Backtest
import Execution
import Market
import Risk
import Schema
import Strategy
import Venue

extension BenchWorkload {
    /// The shared candle file played through `Backtest`: the venue's matching, the feed's bars, the
    /// RSI strategy, the risk gate's rules with the standard exits and exchange-side stops, the
    /// executor's routing and the FIFO ledger — `breakwater backtest`'s path, Decimal throughout.
    static func candles(_ series: CandleSeries) throws -> BenchWorkload {
        let spec = PaperListing.listing("BTC").spec
        let script = try MarketScripts.candles(series.candles, coin: "BTC", spec: spec, candleMs: 60_000)
        let startMs = UInt64(series.candles[0].openTime / 1_000_000)
        let setup = BacktestSetup(
            markets: [BacktestMarket(symbol: "BTC", spec: spec, script: script)], startMs: startMs, startingCapital: 10_000,
            routing: OrderRouting(marketSlippage: "0.005"), barSeconds: 60)
        let start = EpochNanos(startMs) * 1_000_000
        // Built once (the rules from the venue's meta); each run plays a fresh copy.
        let fresh = try Backtest(
            setup: setup,
            makeGate: { instruments in
                RiskGateCore(
                    book: RiskBook(limits: RiskLimits(), instruments: instruments, startingCapital: 10_000, now: start),
                    exits: ExitDesk(engine: ExitEngine(policy: .standard), instruments: instruments),
                    protection: PositionProtection(instruments: instruments))
            },
            makeStrategies: { instruments in
                StrategyPortfolio(
                    desks: [StrategyDesk(presets: [.rsiStandard], settings: .init(instrument: instruments["BTC"]!, tradeNotional: 1_000))],
                    settleNanos: 10 * Nanos.second)
            })
        return BenchWorkload(name: "candles, RSI + exits (the services' rules)", events: script.steps.count, baseline: nil) {
            var backtest = fresh
            backtest.run()
            let record = backtest.record
            let equity = record.finalSnapshot?.equity.rounded(scale: 2, .plain).description ?? "—"
            return WorkloadResult(
                checksum: Int64(record.fills.count) &* 1_000_003 &+ Int64(record.orders.count),
                summary: "\(series.candles.count) candles → \(record.bars) bars, \(record.intents) intents, "
                    + "\(record.orders.count) orders, \(record.fills.count) fills, final equity \(equity)")
        }
    }
}
