import ArgumentParser
import Backtest
import Execution
import Foundation
import Ledger
import Market
import Risk
import Schema
import ServiceKit
import Strategy
import Venue

/// `breakwater backtest`: the strategies, the risk gate's rules, the executor's routing and the
/// ledger of `breakwater up`, in one process on simulated time, against the venue exchange-sim
/// serves, over recorded or synthetic markets; symbols, strategies and limits from the same config.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Replay a market through the same strategy, risk, exit and ledger code as the services, and report.")

    enum MarketKind: String, ExpressibleByArgument, CaseIterable {
        case candles, synthetic, trades
        case binanceL2 = "binance-l2"
        case hyperliquid
    }

    @OptionGroup var common: Common

    @Option(help: "What plays the recorded symbol's market: \(MarketKind.allCases.map(\.rawValue).joined(separator: ", ")). The other configured symbols play the seeded synthetic market.")
    var market: MarketKind = .candles

    @Option(help: "The data file (default: the shared data file of that kind).")
    var file: String?

    @Option(help: "The symbol the file plays (default: BTC if configured, else the first symbol).")
    var symbol: String?

    @Option(help: "Candles only: the first candle's UTC time (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).")
    var from: String?

    @Option(help: "Candles only: candles before this UTC time.")
    var to: String?

    @Option(help: "At most this many candles (for candle files and each synthetic symbol).")
    var candles: Int?

    @Flag(help: "Also play every other configured symbol on the seeded synthetic market (as exchange-sim does); by default a data file plays its symbol alone.")
    var withSynthetic = false

    @Option(help: "The synthetic market's seed (as exchange-sim's --seed).")
    var seed: UInt64 = 42

    @Option(help: "Simulated seconds per candle (default: the file's interval; synthetic: 60). The feed's bars follow it.")
    var candleSeconds: Double?

    @Option(help: "Seconds per bar (default: one bar a candle; 60 for trades and captures).")
    var barSeconds: Int?

    @Flag(help: "Leave bad lines out and count them (out of order, duplicate, unreadable, crossed book, broken diff chain), and keep gaps as gaps, instead of stopping at the first.")
    var skipBadData = false

    @Flag(help: "Print the report as JSON with every trade and every fill.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Run once per parameter set in FILE (a JSON array of objects of config keys and values, e.g. [{\"signal.rsi.period\": 10}]) on every core, and print one row per set.",
            valueName: "file"))
    var sweep: String?

    func validate() throws {
        if let candles, candles < 2 { throw ValidationError("--candles must be at least 2") }
        if let barSeconds, !(1...86_400).contains(barSeconds) { throw ValidationError("--bar-seconds must be between 1 and 86400") }
        if let candleSeconds, !(candleSeconds >= 0.05 && candleSeconds <= 86_400) {
            throw ValidationError("--candle-seconds must be between 0.05 and 86400")
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let base = try await loadSettings(overrides: [:])
        let markets = try loadMarkets(base.settings, symbols: base.symbols)
        if let sweep {
            try await runSweep(file: sweep, markets: markets)
            return
        }
        let outcome: BacktestRun.Outcome
        do { outcome = try BacktestRun.run(base, markets: markets) } catch let missing as BacktestRun.ModelMissing {
            printError("backtest: \(missing)")
            throw ExitCode(2)
        }
        let elapsed = started.duration(to: .now)
        if json {
            print(try outcome.json())
        } else {
            print(outcome.text(markets: markets, elapsed: elapsed))
        }
    }

    // MARK: Config

    /// The config as `breakwater up` reads it, with `overrides` (dotted keys) applied as
    /// `BREAKWATER_…` variables, so a bad sweep value is refused as a bad config value would be.
    func loadSettings(overrides: [String: String], context: String = "") async throws -> BacktestRun.Rules {
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_VAR_DIR"] = common.varDir
        for (key, value) in overrides { environment[Settings.environmentName(key)] = value }
        var settings = await Settings.load(file: common.config, environment: environment)
        let symbols = Symbols.read(&settings)
        let risk = RiskSettings.read(&settings, symbols: symbols)
        let strategies = StrategySettings.read(&settings, symbols: symbols)
        let slippage = settings.marketSlippage()
        let snapshotMs = settings.accountSnapshotIntervalMs()
        let graceMs = settings.barGraceMs()
        let keeping = settings.quoteKeeping()
        let budgetPollMs = settings.quoteBudgetPollMs()
        let bookLevels = settings.bookLevels()
        if !settings.problems.isEmpty {
            for problem in settings.problems { printError("config problem\(context): \(problem)") }
            throw ExitCode(2)
        }
        return BacktestRun.Rules(
            settings: settings, symbols: symbols, risk: risk, strategies: strategies,
            routing: OrderRouting(marketSlippage: slippage), snapshotIntervalNanos: Int64(snapshotMs) * 1_000_000,
            barGraceNanos: Int64(graceMs) * 1_000_000, quoteKeeping: keeping, quoteBudgetPollNanos: Int64(budgetPollMs) * 1_000_000,
            bookLevels: bookLevels)
    }

    // MARK: Markets

    func loadMarkets(_ settings: Settings, symbols: [String]) throws -> BacktestRun.Markets {
        let recorded = market == .synthetic ? nil : (symbol ?? (symbols.contains("BTC") ? "BTC" : symbols[0]))
        if let recorded, !symbols.contains(recorded) {
            printError("--symbol \(recorded) is not among the configured symbols (\(symbols.joined(separator: ", ")))")
            throw ExitCode(2)
        }
        let policy: DataProblemPolicy = skipBadData ? .skip : .stop
        var list: [BacktestMarket] = []
        var notes: [String] = []
        var skipped: [DataProblem] = []
        var startMs = BacktestSetup.defaultStartMs
        var candleMs = UInt64((candleSeconds ?? Double(BacktestSetup.defaultCandleSeconds)) * 1_000)
        if let recorded {
            let spec = PaperListing.listing(recorded).spec
            let path = file ?? settings.sharedDataFile(Self.defaultFile(market))
            let text = try readText(path)
            do {
                switch market {
                case .candles:
                    let series = try CandleSeries(
                        text: text, file: path, policy: policy, from: try time(from, "--from"), to: try time(to, "--to"),
                        limit: candles)
                    skipped += series.skipped
                    candleMs = UInt64((candleSeconds ?? Double(series.intervalSeconds)) * 1_000)
                    startMs = UInt64(series.candles[0].openTime / 1_000_000)
                    list.append(
                        BacktestMarket(
                            symbol: recorded, spec: spec,
                            script: try MarketScripts.candles(series.candles, coin: recorded, spec: spec, candleMs: candleMs)))
                    notes.append(
                        "\(recorded): \(series.candles.count) candles of \(series.intervalSeconds) s from \(path), \(ReportPage.utc(series.candles[0].openTime)) to \(ReportPage.utc(series.candles.last!.openTime))")
                case .trades:
                    let checked = try CaptureCheck.binanceTrades(text, file: path, policy: policy)
                    skipped += checked.skipped
                    let script = try MarketScripts.binanceTrades(checked.text, coin: recorded, spec: spec)
                    list.append(BacktestMarket(symbol: recorded, spec: spec, script: script))
                    notes.append("\(recorded): \(script.steps.count) market events from \(path)")
                case .binanceL2:
                    let checked = try CaptureCheck.binanceL2(text, file: path, policy: policy)
                    skipped += checked.skipped
                    let script = try MarketScripts.binanceL2(checked.text, coin: recorded, spec: spec)
                    list.append(BacktestMarket(symbol: recorded, spec: spec, script: script))
                    notes.append("\(recorded): \(script.steps.count) market events from \(path)")
                case .hyperliquid:
                    let checked = try CaptureCheck.hyperliquid(text, file: path, policy: policy)
                    skipped += checked.skipped
                    let script = try MarketScripts.hyperliquidCapture(checked.text, coin: recorded)
                    list.append(BacktestMarket(symbol: recorded, spec: spec, script: script))
                    notes.append("\(recorded): \(script.steps.count) market events from \(path)")
                case .synthetic:
                    break
                }
            } catch {
                printError("backtest: \(error)")
                throw ExitCode(1)
            }
        }
        // The other symbols as exchange-sim plays them: one seeded synthetic market each.
        let syntheticCount = candles ?? max(2, Int((list.first?.script.durationMs ?? 7 * 86_400_000) / max(candleMs, 1)))
        for (i, name) in symbols.enumerated() where name != recorded && (recorded == nil || withSynthetic) {
            let listing = PaperListing.listing(name)
            var synthetic = listing.market(marketSeed: seed, ownSeed: seed &+ UInt64(i) &+ 1, startPrice: nil)
            var series: [Candle] = []
            for _ in 0..<syntheticCount { series.append(synthetic.nextCandle()) }
            list.append(
                BacktestMarket(
                    symbol: name, spec: listing.spec,
                    script: try MarketScripts.candles(series, coin: name, spec: listing.spec, candleMs: candleMs)))
        }
        if list.count > (recorded == nil ? 0 : 1) {
            notes.append("\(list.count - (recorded == nil ? 0 : 1)) symbol(s) synthetic, seed \(seed), \(syntheticCount) candles each")
        }
        return BacktestRun.Markets(
            markets: list, startMs: startMs, barSeconds: barSeconds ?? max(1, Int((Double(candleMs) / 1_000).rounded())), notes: notes,
            skipped: skipped)
    }

    static func defaultFile(_ kind: MarketKind) -> String {
        switch kind {
        case .candles, .synthetic: "btc-perp-1m-ftx-2022-01.csv"
        case .trades: "btcusdt-trades-binance-futures-2020-02-22.csv"
        case .binanceL2: "btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz"
        case .hyperliquid: "btc-hyperliquid-ws-2025-01-26.ndjson"
        }
    }

    func readText(_ path: String) throws -> String {
        do { return try DataFiles.text(path) } catch {
            printError("backtest: \(error)")
            throw ExitCode(1)
        }
    }

    func time(_ text: String?, _ flag: String) throws -> EpochNanos? {
        guard let text else { return nil }
        guard let time = CandleFile.parseTimestamp(text.count == 10 ? text + " 00:00:00" : text) else {
            printError("\(flag) \(text) is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)")
            throw ExitCode(2)
        }
        return time
    }

    // MARK: Sweep

    func runSweep(file: String, markets: BacktestRun.Markets) async throws {
        guard let data = FileManager.default.contents(atPath: file),
            let sets = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], !sets.isEmpty
        else {
            printError("--sweep \(file): expected a non-empty JSON array of objects of config keys and values")
            throw ExitCode(2)
        }
        let overrides: [[String: String]] = sets.map { set in
            set.mapValues { value in
                if let text = value as? String { return text }
                if let list = value as? [Any] { return list.map { "\($0)" }.joined(separator: ",") }
                if let number = value as? NSNumber, String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
                return "\(value)"
            }
        }
        var rules: [BacktestRun.Rules] = []
        for (index, set) in overrides.enumerated() {
            rules.append(try await loadSettings(overrides: set, context: " (sweep set \(index + 1))"))
        }
        let outcomes = BacktestRun.sweep(rules, markets: markets)
        print(BacktestRun.sweepTable(overrides.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }, outcomes))
    }
}
