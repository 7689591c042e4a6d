import Foundation
import Metrics
import Model
import Schema
import ServiceKit
import Strategy
import Synchronization

/// The signal generator's models: each symbol's newest version that loads is served; the model
/// directory is watched so a new version (trained by hand or by the schedule) is swapped in without
/// a restart; with `model.retrainHours`, `breakwater model train` runs on schedule. Every load,
/// refusal and retrain is published as an alert (info or warning) and counted; a refused or failed
/// version never replaces the model being served.
final class ModelKeeper: Sendable {
    struct SymbolState: Sendable {
        var version: String?
        var trainedAt: EpochNanos?
        /// Versions refused, with why: each is reported once.
        var refused: [String: String] = [:]
        var lastRetrainAt: EpochNanos
        var lastRetrainSuccessAt: EpochNanos
        var lastRetrainOutcome: String?
        var retrains = 0
        var retrainFailures = 0
        var overdueReported = false
    }

    let config: ModelConfig
    let runtime: ServiceRuntime
    let portfolio: Locked<StrategyPortfolio>
    let store: ModelStore
    let symbols: [String]
    private let state: Mutex<[String: SymbolState]>
    private let retraining = Mutex(false)

    init(config: ModelConfig, symbols: [String], portfolio: Locked<StrategyPortfolio>, runtime: ServiceRuntime) {
        self.config = config
        self.runtime = runtime
        self.portfolio = portfolio
        self.store = ModelStore(directory: config.directory)
        self.symbols = symbols
        let now = runtime.clock.now()
        state = Mutex(
            Dictionary(uniqueKeysWithValues: symbols.map {
                ($0, SymbolState(lastRetrainAt: now, lastRetrainSuccessAt: now))
            }))
    }

    /// Serves each symbol's newest loadable version when it is not the one served already. Only
    /// versions newer than the served one (or all, once the served one is gone) are read, and a
    /// refused version is not read again: the directory is looked at every two seconds.
    func refresh() {
        for symbol in symbols {
            let (served, refused) = state.withLock { ($0[symbol]?.version, $0[symbol]?.refused ?? [:]) }
            let versions: [String]
            do { versions = try store.versions(of: symbol) } catch {
                report(symbol, .warning, "model_refused", "cannot read \(store.directory(for: symbol)): \(error)")
                continue
            }
            let servedIsThere = served.map { versions.contains($0) } ?? false
            for version in versions.reversed() where refused[version] == nil {
                if servedIsThere, version == served { break }
                let model: ServedModel
                do {
                    model = try ServedModel.load(directory: "\(store.directory(for: symbol))/\(version)", version: version)
                } catch {
                    state.withLock { $0[symbol]!.refused[version] = "\(error)" }
                    Counter(label: "breakwater_model_refused_total", dimensions: [("symbol", symbol)], factory: runtime.metrics)
                        .increment()
                    let keeping = served.map { "; still serving \($0)" } ?? ""
                    report(symbol, .warning, "model_refused", "model \(version) refused: \(error)\(keeping)")
                    continue
                }
                if let served, !servedIsThere {
                    report(symbol, .warning, "model_refused", "served model \(served) is gone; serving \(model.version)")
                }
                install(model, for: symbol)
                break
            }
        }
        recordMetrics()
    }

    private func install(_ model: ServedModel, for symbol: String) {
        portfolio.withLock { $0.updateStrategies(of: ModelStrategy.self, symbol: symbol) { $0.install(model) } }
        state.withLock {
            $0[symbol]!.version = model.version
            $0[symbol]!.trainedAt = model.trainedAt
        }
        let accuracy = (model.metadata.holdoutAccuracy * 1000).rounded() / 10
        report(
            symbol, .info, "model_loaded",
            "serving model \(model.version) (trained \(ModelStore.timestamp(model.metadata.trainedAt)), holdout accuracy \(accuracy) %)"
        )
    }

    /// Watches the directory and runs the retraining schedule until cancelled; each look also
    /// records the figures (`refresh`), so no bar pays for them.
    func run(pollEvery interval: Duration) async {
        while !Task.isCancelled {
            refresh()
            if let hours = config.retrainHours { await retrainWhenDue(every: Int64(hours * 3.6e12)) }
            try? await Task.sleep(for: interval)
        }
    }

    private func retrainWhenDue(every interval: Int64) async {
        let now = runtime.clock.now()
        for symbol in symbols {
            let (due, overdue) = state.withLock { states -> (Bool, Bool) in
                let entry = states[symbol]!
                let overdue = now - entry.lastRetrainSuccessAt > 2 * interval && !entry.overdueReported
                if overdue { states[symbol]!.overdueReported = true }
                return (now - entry.lastRetrainAt >= interval, overdue)
            }
            if overdue {
                report(
                    symbol, .warning, "model_retrain_overdue",
                    "no successful retrain for \(Double(now - state.withLock { $0[symbol]!.lastRetrainSuccessAt }) / 3.6e12) h; model.retrainHours is \(config.retrainHours ?? 0)"
                )
            }
            if due { await retrain(symbol) }
        }
    }

    /// One training run through the same command an operator uses; its outcome is reported either way.
    func retrain(_ symbol: String) async {
        guard retraining.withLock({ busy in defer { busy = true }; return !busy }) else { return }
        defer { retraining.withLock { $0 = false } }
        let started = runtime.clock.now()
        state.withLock { $0[symbol]!.lastRetrainAt = started }
        let outcome = await Self.runTrainer(symbol: symbol)
        let now = runtime.clock.now()
        let succeeded = outcome["status"] as? String == "trained"
        Counter(
            label: "breakwater_model_retrains_total",
            dimensions: [("symbol", symbol), ("outcome", succeeded ? "trained" : "failed")], factory: runtime.metrics
        ).increment()
        state.withLock {
            $0[symbol]!.retrains += 1
            if succeeded {
                $0[symbol]!.lastRetrainSuccessAt = now
                $0[symbol]!.overdueReported = false
                $0[symbol]!.lastRetrainOutcome = "trained \(outcome["version"] ?? "")"
            } else {
                $0[symbol]!.retrainFailures += 1
                $0[symbol]!.lastRetrainOutcome = "failed: \(outcome["reason"] ?? "")"
            }
        }
        if succeeded {
            let accuracy = ((outcome["holdoutAccuracy"] as? Double ?? 0) * 1000).rounded() / 10
            report(
                symbol, .info, "model_retrained",
                "retrained \(outcome["version"] ?? "") on \(outcome["rows"] ?? 0) rows: holdout accuracy \(accuracy) %, parity \(outcome["parityMaxDiff"] ?? "")"
            )
            refresh()
        } else {
            let kept = state.withLock { $0[symbol]!.version }.map { "; still serving \($0)" } ?? "; no model served"
            report(symbol, .warning, "model_retrain_failed", "retrain failed: \(outcome["reason"] ?? "?")\(kept)")
            recordMetrics()
        }
    }

    /// `breakwater model train --symbol S --json`, the executable beside this one, with this
    /// service's config file and run-data directory.
    static func runTrainer(symbol: String) async -> [String: Any] {
        let directory = (RepositoryPaths.executablePath as NSString).deletingLastPathComponent
        let executable = "\(directory)/breakwater"
        var arguments = ["model", "train", "--symbol", symbol, "--json"]
        if let config = (try? ServiceOptions.parse(Array(CommandLine.arguments.dropFirst())))?.config {
            arguments += ["--config", config]
        }
        arguments += ["--var-dir", ProcessInfo.processInfo.environment["BREAKWATER_VAR_DIR"] ?? "var"]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("retrain-\(UUID().uuidString).json")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        do {
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = FileHandle.standardError
            let exit = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").last,
                let answer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            {
                return answer
            }
            return ["status": "failed", "reason": "the trainer exited with \(exit) and printed no outcome"]
        } catch {
            return ["status": "failed", "reason": "cannot run \(executable): \(error)"]
        }
    }

    private func report(_ symbol: String, _ severity: Alert.Severity, _ code: String, _ message: String) {
        switch severity {
        case .info: runtime.logger.notice("\(message)", metadata: ["symbol": "\(symbol)", "code": "\(code)"])
        default: runtime.logger.warning("\(message)", metadata: ["symbol": "\(symbol)", "code": "\(code)"])
        }
        runtime.publish(
            Alert(severity: severity, code: code, message: "\(symbol): \(message)", service: runtime.name.rawValue, symbol: symbol),
            traceId: runtime.newIdentifier())
    }

    /// Age, shares and retrain figures per symbol, for /metrics and the heartbeat.
    func recordMetrics() {
        let now = runtime.clock.now()
        let strategies = portfolio.withLock { portfolio in
            Dictionary(uniqueKeysWithValues: symbols.map { ($0, portfolio.desks[$0]?.strategies(of: ModelStrategy.self).first) })
        }
        let states = state.withLock { $0 }
        let factory = runtime.metrics
        for symbol in symbols {
            let dimensions = [("symbol", symbol)]
            let strategy = strategies[symbol] ?? nil
            let model = strategy?.model
            Gauge(label: "breakwater_model_loaded", dimensions: dimensions, factory: factory).record(model == nil ? 0 : 1)
            Gauge(label: "breakwater_model_max_age_seconds", dimensions: dimensions, factory: factory)
                .record(config.maxAgeHours * 3600)
            if let model {
                let age = Double(model.ageNanos(at: now)) / 1e9
                Gauge(label: "breakwater_model_age_seconds", dimensions: dimensions, factory: factory).record(age)
                Gauge(label: "breakwater_model_trained_timestamp_seconds", dimensions: dimensions, factory: factory)
                    .record(Double(model.trainedAt) / 1e9)
                runtime.status.setFact(
                    "model.\(symbol)",
                    "\(model.version) age \((age / 360).rounded() / 10) h\(strategy!.isExpired(at: now) ? " EXPIRED" : "")"
                        + Self.sharesText(strategy!.shares))
            } else {
                runtime.status.setFact("model.\(symbol)", "none")
            }
            if let shares = strategy?.shares {
                Gauge(label: "breakwater_model_predictions", dimensions: dimensions, factory: factory).record(shares.count)
                for kind in TradeClass.allCases {
                    Gauge(
                        label: "breakwater_model_class_share", dimensions: dimensions + [("class", kind.name)],
                        factory: factory
                    ).record(shares.share(of: kind))
                }
            }
            Gauge(label: "breakwater_model_max_class_share", dimensions: dimensions, factory: factory)
                .record(config.maxClassShare)
            if let hours = config.retrainHours, let entry = states[symbol] {
                Gauge(label: "breakwater_model_retrain_interval_seconds", dimensions: dimensions, factory: factory)
                    .record(hours * 3600)
                Gauge(
                    label: "breakwater_model_retrain_last_success_timestamp_seconds", dimensions: dimensions,
                    factory: factory
                ).record(Double(entry.lastRetrainSuccessAt) / 1e9)
            }
        }
    }

    static func sharesText(_ shares: PredictionShares) -> String {
        guard shares.count > 0 else { return "" }
        return "; " + TradeClass.allCases.map { "\($0.name) \(Int((shares.share(of: $0) * 100).rounded())) %" }
            .joined(separator: " ")
    }

    /// For /status: what each symbol serves, how old it is, what it said lately, and the retrains.
    func status() -> [String: Any] {
        let now = runtime.clock.now()
        let states = state.withLock { $0 }
        return portfolio.withLock { portfolio in
            var out: [String: Any] = [:]
            for symbol in symbols {
                guard let strategy = portfolio.desks[symbol]?.strategies(of: ModelStrategy.self).first,
                    let entry = states[symbol]
                else { continue }
                var item: [String: Any] = [
                    "version": strategy.model?.version ?? NSNull(),
                    "expired": strategy.isExpired(at: now),
                    "maxAgeHours": config.maxAgeHours,
                    "predictions": strategy.shares.count,
                    "classShares": Dictionary(uniqueKeysWithValues: TradeClass.allCases.map {
                        ($0.name, strategy.shares.share(of: $0))
                    }),
                    "refused": entry.refused,
                    "retrains": entry.retrains, "retrainFailures": entry.retrainFailures,
                    "lastRetrain": entry.lastRetrainOutcome ?? NSNull(),
                ]
                if let model = strategy.model {
                    item["trainedAt"] = ModelStore.timestamp(model.metadata.trainedAt)
                    item["ageHours"] = Double(model.ageNanos(at: now)) / 3.6e12
                    item["holdoutAccuracy"] = model.metadata.holdoutAccuracy
                }
                if let dominant = strategy.shares.dominant(above: config.maxClassShare) {
                    item["dominantClass"] = "\(dominant.0.name) \(Int((dominant.1 * 100).rounded())) % > model.maxClassShare"
                }
                if let probabilities = strategy.lastProbabilities { item["lastProbabilities"] = probabilities }
                out[symbol] = item
            }
            return out
        }
    }
}
