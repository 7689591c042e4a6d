import Backtest
import Dispatch
import Execution
import Foundation
import Ledger
import Market
import Model
import Schema
import Strategy
import ServiceKit
import Synchronization

/// Wiring for `breakwater backtest`: the configured rules and the loaded markets into a `Backtest`.
enum BacktestRun {
    /// What the config says, read by the same readers as the services.
    struct Rules: Sendable {
        var settings: Settings
        var symbols: [String]
        var risk: RiskSettings
        var strategies: StrategySettings
        var routing: OrderRouting
        var snapshotIntervalNanos: Int64
        var barGraceNanos: Int64
        var quoteKeeping: QuoteKeeper.Settings
        var quoteBudgetPollNanos: Int64
        var bookLevels: Int
    }

    struct Markets: Sendable {
        var markets: [BacktestMarket]
        var startMs: UInt64
        var barSeconds: Int
        var notes: [String]
        var skipped: [DataProblem]
    }

    struct Outcome: Sendable {
        var report: BacktestReport
        var notes: [String]

        func text(markets: Markets, elapsed: Duration) -> String {
            var notes = self.notes
            if !markets.skipped.isEmpty {
                notes.append("skipped \(markets.skipped.count) data problem(s); first: \(markets.skipped[0])")
            }
            notes.append(String(format: "ran in %.2f s", Double(elapsed.wholeNanoseconds) / 1e9))
            return report.text(notes: notes)
        }

        func json() throws -> String { try report.json() }
    }

    static func run(_ rules: Rules, markets: Markets) throws -> Outcome {
        // The configured symbols that have a market here.
        let played = Set(markets.markets.map(\.symbol))
        let marketMaking = rules.strategies.marketMaking
        let quoted = marketMaking.symbols.filter(played.contains)
        let setup = BacktestSetup(
            markets: markets.markets, startMs: markets.startMs, startingCapital: rules.risk.startingCapital,
            routing: rules.routing, barSeconds: markets.barSeconds, barGraceNanos: rules.barGraceNanos,
            snapshotIntervalNanos: rules.snapshotIntervalNanos,
            quoting: quoted.isEmpty
                ? nil
                : BacktestQuoting(
                    symbols: quoted, settings: marketMaking.settings, keeper: rules.quoteKeeping, bookLevels: rules.bookLevels,
                    budgetPollNanos: rules.quoteBudgetPollNanos))
        let start = EpochNanos(markets.startMs) * 1_000_000
        var strategies = rules.strategies
        strategies.symbols = strategies.symbols.filter(played.contains)
        // The model strategy serves each symbol's newest version that loads, as the signal generator does at start.
        var models: [String: ServedModel] = [:]
        var modelNotes: [String] = []
        if strategies.usesModel {
            for symbol in strategies.directionalSymbols {
                let model = try newestModel(symbol, store: ModelStore(directory: strategies.model.directory))
                models[symbol] = model
                modelNotes.append(modelNote(symbol, model, backtestStart: start, markets: markets))
            }
        }
        var backtest = try Backtest(
            setup: setup, makeGate: { rules.risk.makeCore(instruments: $0, now: start) },
            makeStrategies: { instruments in
                var portfolio = strategies.makePortfolio(instruments)
                for (symbol, model) in models {
                    portfolio.updateStrategies(of: ModelStrategy.self, symbol: symbol) { $0.install(model) }
                }
                return portfolio
            })
        backtest.run()
        let unplayed = rules.symbols.filter { !played.contains($0) }
        // Recall's memory is the live system's; it can change a decision only through the confidence floor.
        let recall =
            rules.strategies.minConfidence > 0
            ? ["recall not consulted: with signal.minConfidence \(rules.strategies.minConfidence) live decisions may differ"] : []
        return Outcome(
            report: try BacktestReport(backtest),
            notes: markets.notes + ["symbols: \(strategies.symbols.joined(separator: ", "))"]
                + (quoted.isEmpty ? [] : ["market making: \(quoted.joined(separator: ", ")) (no latency between the services and the venue)"])
                + (unplayed.isEmpty ? [] : ["not played (no data; --with-synthetic plays them): \(unplayed.joined(separator: ", "))"])
                + recall + modelNotes)
    }

    struct ModelMissing: Error, CustomStringConvertible {
        var description: String
    }

    /// The symbol's newest version that loads (a refused one is skipped, as live).
    static func newestModel(_ symbol: String, store: ModelStore) throws -> ServedModel {
        var refused: [String] = []
        for version in try store.versions(of: symbol).reversed() {
            do { return try ServedModel.load(directory: "\(store.directory(for: symbol))/\(version)", version: version) } catch {
                refused.append("\(version): \(error)")
            }
        }
        throw ModelMissing(
            description: "no model of \(symbol) loads under \(store.directory(for: symbol))"
                + (refused.isEmpty ? " (train one: breakwater model train --symbol \(symbol))" : ": " + refused.joined(separator: "; ")))
    }

    /// Which model plays, and whether it learned from the very bars it now trades on (in-sample).
    static func modelNote(_ symbol: String, _ model: ServedModel, backtestStart: EpochNanos, markets: Markets) -> String {
        let from = EpochNanos(model.metadata.dataFrom.timeIntervalSince1970 * 1e9)
        let to = EpochNanos(model.metadata.dataTo.timeIntervalSince1970 * 1e9)
        let end = backtestStart + Int64(markets.markets.map(\.script.durationMs).max() ?? 0) * 1_000_000
        let overlap = from < end && to > backtestStart
        return "model \(symbol): \(model.version), trained on \(ReportPage.utc(from)) to \(ReportPage.utc(to))"
            + (overlap ? " — IN-SAMPLE: the backtest's bars overlap its training data" : "")
    }

    /// Every parameter set on every core; each outcome in the order of the sets.
    static func sweep(_ sets: [Rules], markets: Markets) -> [Result<Outcome, any Error>] {
        let results = Mutex([Result<Outcome, any Error>?](repeating: nil, count: sets.count))
        DispatchQueue.concurrentPerform(iterations: sets.count) { index in
            let outcome = Result { try run(sets[index], markets: markets) }
            results.withLock { $0[index] = outcome }
        }
        return results.withLock { $0.map { $0! } }
    }

    static func sweepTable(_ labels: [String], _ outcomes: [Result<Outcome, any Error>]) -> String {
        var lines = ["set | trades | win rate | net P&L | max drawdown | Sharpe | parameters"]
        for (index, (label, outcome)) in zip(labels, outcomes).enumerated() {
            switch outcome {
            case .success(let outcome):
                let total = outcome.report.performance.total
                let sharpe = total.sharpe.map { String(format: "%.2f", $0) } ?? "—"
                lines.append(
                    "\(index + 1) | \(total.trades) | \(String(format: "%.1f %%", total.winRate * 100)) | \(total.netPnl.rounded(scale: 2, .plain)) | \(String(format: "%.2f %%", total.maxDrawdown * 100)) | \(sharpe) | \(label)")
            case .failure(let error):
                lines.append("\(index + 1) | failed: \(error) | \(label)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
