import ArgumentParser
import Foundation
import Market
import Model
import Schema
import ServiceKit
import Storage

/// `breakwater model train`: bars → `BarFeatures` rows labelled by `LabelRule` → xgboost (Python, in
/// `.venv`) → parity and accuracy checks → a new version directory, or nothing and a non-zero exit.
/// The signal generator's scheduled retraining runs this same command.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model for one symbol from a candle file or the trace database, check it, and add it as a new version.")

    @OptionGroup var common: Common

    @Option(help: "The symbol the model is for (its directory under model.directory).")
    var symbol: String

    @Option(help: "A candle CSV (timestamp,open,high,low,close,volume). Without it: the bars in the trace database.")
    var candles: String?

    @Option(help: "First bar used, UTC (YYYY-MM-DD HH:MM:SS).")
    var from: String?

    @Option(help: "Last bar used, UTC (YYYY-MM-DD HH:MM:SS).")
    var to: String?

    @Option(help: "Write the version here instead of model.directory/<symbol>.")
    var out: String?

    @Flag(help: "Print the outcome as one JSON object (what the signal generator reads).")
    var json = false

    func run() async throws {
        var (_, _, settings) = try await common.load()
        let config = ModelConfig.read(&settings)
        let tracePath = settings.traceDatabasePath()
        let started = Date()
        do {
            let outcome = try train(config: config, tracePath: tracePath, now: started)
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: outcome, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(Self.describe(outcome))
            }
        } catch {
            if json {
                let failure: [String: Any] = ["status": "failed", "symbol": symbol, "reason": "\(error)"]
                print(String(decoding: try JSONSerialization.data(withJSONObject: failure, options: [.sortedKeys]), as: UTF8.self))
            } else {
                printError("training failed: \(error)")
            }
            throw ExitCode(1)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    func train(config: ModelConfig, tracePath: String, now: Date) throws -> [String: Any] {
        let bars = try loadBars(tracePath: tracePath)
        guard bars.count >= config.minBars else {
            throw Failure("\(bars.count) bars of \(symbol); model.minBars is \(config.minBars)")
        }
        let rule = LabelRule(horizonBars: config.horizonBars, neutralBandBps: config.neutralBandBps)
        let set = try TrainingSet.build(bars: bars, rule: rule)
        let store = ModelStore(directory: out.map { ($0 as NSString).deletingLastPathComponent } ?? config.directory)
        let symbolDirectory = out ?? store.directory(for: symbol)
        try FileManager.default.createDirectory(atPath: symbolDirectory, withIntermediateDirectories: true)
        let version = ModelStore.versionName(for: now)
        let staging = "\(symbolDirectory)/.staging-\(version)-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }

        let dataPath = "\(staging)/training.csv"
        try Data(set.csv().utf8).write(to: URL(fileURLWithPath: dataPath))
        let modelPath = "\(staging)/model.json"
        let result = try runPython(config: config, dataPath: dataPath, modelPath: modelPath)

        // Parity: the Swift evaluator must give the package's own probabilities before anything trades on it.
        let model = try XGBoostModel(contentsOf: URL(fileURLWithPath: modelPath))
        let parityRows = result["parityRows"] as? [Int] ?? []
        let parityExpected = result["parityProbabilities"] as? [[Double]] ?? []
        guard !parityRows.isEmpty, parityRows.count == parityExpected.count else {
            throw Failure("the trainer returned no parity sample")
        }
        var parityMaxDiff = 0.0
        for (row, expected) in zip(parityRows, parityExpected) {
            let actual = try model.probabilities(set.rows[row])
            for (a, e) in zip(actual, expected) { parityMaxDiff = max(parityMaxDiff, abs(a - e)) }
        }
        guard parityMaxDiff <= 1e-6 else {
            throw Failure("parity check failed: Swift and xgboost differ by \(parityMaxDiff) on the holdout sample")
        }
        let accuracy = result["holdoutAccuracy"] as? Double ?? 0
        guard accuracy >= config.minAccuracy else {
            throw Failure(
                "holdout accuracy \(Self.percent(accuracy)) is below model.minAccuracy \(Self.percent(config.minAccuracy))")
        }

        let shares = set.classShares
        let predicted = result["predictedShares"] as? [Double] ?? []
        let metadata = ModelMetadata(
            symbol: symbol, trainedAt: now, dataFrom: Date(nanos: set.times.first!), dataTo: Date(nanos: set.times.last!),
            rows: set.rows.count, trainRows: result["trainRows"] as? Int ?? 0,
            holdoutRows: result["holdoutRows"] as? Int ?? 0, features: set.featureNames,
            featureSetVersion: BarFeatures.version, classes: TradeClass.names, classShares: shares,
            horizonBars: rule.horizonBars, neutralBandBps: rule.neutralBandBps, holdoutAccuracy: accuracy,
            holdoutLogLoss: result["holdoutLogLoss"] as? Double ?? .nan,
            xgboostVersion: result["xgboostVersion"] as? String ?? "?", seed: config.seed,
            source: candles.map { "candles:\(($0 as NSString).lastPathComponent)" } ?? "trace:\(tracePath)",
            params: result["params"] as? [String: String] ?? [:])
        try metadata.encoded().write(to: URL(fileURLWithPath: "\(staging)/metadata.json"))
        try FileManager.default.removeItem(atPath: dataPath)
        // The same loader the signal generator uses: a version that would be refused is never published.
        _ = try ServedModel.load(directory: staging, version: version)
        let final = "\(symbolDirectory)/\(version)"
        guard !FileManager.default.fileExists(atPath: final) else { throw Failure("version \(final) already exists") }
        try FileManager.default.moveItem(atPath: staging, toPath: final)
        let pruned = try ModelStore.prune(symbolDirectory: symbolDirectory, keep: config.keep)
        return [
            "status": "trained", "symbol": symbol, "version": version, "directory": URL(fileURLWithPath: final).path, "bars": bars.count,
            "rows": set.rows.count, "rowsSkippedForGaps": set.rowsSkippedForGaps, "holdoutAccuracy": accuracy,
            "holdoutLogLoss": result["holdoutLogLoss"] as? Double ?? .nan, "classShares": shares,
            "predictedShares": Dictionary(uniqueKeysWithValues: zip(TradeClass.names, predicted)),
            "parityMaxDiff": parityMaxDiff, "parityRows": parityRows.count, "pruned": pruned,
            "seconds": Date().timeIntervalSince(now),
        ]
    }

    func loadBars(tracePath: String) throws -> [Bar] {
        let first = try from.map { text throws -> EpochNanos in
            guard let time = CandleFile.parseTimestamp(text) else { throw Failure("--from \(text) is not YYYY-MM-DD HH:MM:SS") }
            return time
        }
        let last = try to.map { text throws -> EpochNanos in
            guard let time = CandleFile.parseTimestamp(text) else { throw Failure("--to \(text) is not YYYY-MM-DD HH:MM:SS") }
            return time
        }
        var bars: [Bar]
        if let candles {
            let text: String
            do { text = try String(contentsOfFile: candles, encoding: .utf8) } catch {
                throw Failure("cannot read \(candles): \(error.localizedDescription)")
            }
            do { bars = try CandleFile.bars(text, symbol: symbol) } catch { throw Failure("\(candles): \(error)") }
        } else {
            guard FileManager.default.fileExists(atPath: tracePath) else { throw Failure("no trace database at \(tracePath)") }
            let trace = try TraceDatabase(path: tracePath)
            bars = try trace.messages(Bar.self).map(\.body).filter { $0.symbol == symbol }
            // A bar seen twice (a feed restart) counts once.
            var seen = Set<EpochNanos>()
            bars = bars.filter { seen.insert($0.openTime).inserted }
        }
        return bars.filter { bar in
            (first.map { bar.openTime >= $0 } ?? true) && (last.map { bar.openTime <= $0 } ?? true)
        }
    }

    func runPython(config: ModelConfig, dataPath: String, modelPath: String) throws -> [String: Any] {
        guard FileManager.default.isExecutableFile(atPath: config.python) else {
            throw Failure("no Python at \(config.python) (model.python): `make run` installs .venv with xgboost")
        }
        let job: [String: Any] = [
            "data": dataPath, "model": modelPath, "features": BarFeatures.names, "seed": config.seed,
            "holdoutFraction": config.holdoutFraction, "rounds": config.rounds, "maxDepth": config.maxDepth,
            "learningRate": config.learningRate, "paritySample": 200,
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: config.python)
        process.arguments = [
            "-c", modelTrainingScript, String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self),
        ]
        // The trainer's warnings go to a file in the staging folder: a pipe nobody reads could fill and stall it.
        let errorPath = (dataPath as NSString).deletingLastPathComponent + "/trainer.stderr"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: errorPath)  // not part of the version
        let stdout = String(decoding: data, as: UTF8.self)
        let answer = stdout.split(separator: "\n").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        if let message = answer?["error"] as? String { throw Failure(message) }
        guard process.terminationStatus == 0, let answer else {
            let tail = stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw Failure("the trainer exited with \(process.terminationStatus): \(tail)")
        }
        return answer
    }

    static func percent(_ value: Double) -> String { "\((value * 1000).rounded() / 10) %" }

    static func describe(_ outcome: [String: Any]) -> String {
        let shares = (outcome["classShares"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key) \(percent($0.value))" }.joined(separator: ", ")
        return """
            trained \(outcome["symbol"] ?? "") version \(outcome["version"] ?? "") in \(outcome["directory"] ?? "")
              rows \(outcome["rows"] ?? 0) (from \(outcome["bars"] ?? 0) bars; \(outcome["rowsSkippedForGaps"] ?? 0) skipped at gaps)
              labels: \(shares)
              holdout accuracy \(percent(outcome["holdoutAccuracy"] as? Double ?? 0)), log-loss \(outcome["holdoutLogLoss"] ?? "")
              parity with xgboost: max |diff| \(outcome["parityMaxDiff"] ?? "") over \(outcome["parityRows"] ?? 0) rows
              pruned: \((outcome["pruned"] as? [String] ?? []).joined(separator: ", ").isEmpty ? "none" : (outcome["pruned"] as? [String] ?? []).joined(separator: ", "))
            """
    }
}

extension Date {
    init(nanos: EpochNanos) { self.init(timeIntervalSince1970: Double(nanos) / 1e9) }
}

/// `breakwater model show`: what is on disk for each symbol, what the signal generator would serve,
/// and why any version would be refused.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the model versions per symbol: age, data, holdout figures, and which one is served.")

    @OptionGroup var common: Common

    @Option(help: "Only this symbol.")
    var symbol: String?

    func run() async throws {
        var (_, _, settings) = try await common.load()
        let config = ModelConfig.read(&settings)
        let store = ModelStore(directory: config.directory)
        let symbols: [String]
        if let symbol {
            symbols = [symbol]
        } else {
            // No directory is no models; an unreadable one is an error, not an empty list.
            let listed = FileManager.default.fileExists(atPath: config.directory)
                ? try FileManager.default.contentsOfDirectory(atPath: config.directory) : []
            symbols = listed.filter { !$0.hasPrefix(".") }.sorted()
        }
        guard !symbols.isEmpty else {
            print("no models under \(config.directory)")
            return
        }
        let now = Date()
        for symbol in symbols {
            let served = try store.newestServable(symbol: symbol)
            print("\(symbol) (\(store.directory(for: symbol))): serving \(served.model?.version ?? "nothing")")
            for version in try store.versions(of: symbol).reversed() {
                do {
                    let model = try ServedModel.load(directory: "\(store.directory(for: symbol))/\(version)", version: version)
                    let meta = model.metadata
                    let age = now.timeIntervalSince(meta.trainedAt) / 3600
                    let expired = age > config.maxAgeHours ? " EXPIRED" : ""
                    let shares = meta.classes.map { "\($0) \(Train.percent(meta.classShares[$0] ?? 0))" }.joined(separator: ", ")
                    print("""
                          \(version): trained \(ModelStore.timestamp(meta.trainedAt)) (\((age * 10).rounded() / 10) h ago\(expired)), xgboost \(meta.xgboostVersion)
                            data \(ModelStore.timestamp(meta.dataFrom)) … \(ModelStore.timestamp(meta.dataTo)), \(meta.rows) rows (\(meta.trainRows) train, \(meta.holdoutRows) holdout), horizon \(meta.horizonBars) bars, band \(meta.neutralBandBps) bps
                            labels \(shares); holdout accuracy \(Train.percent(meta.holdoutAccuracy)), log-loss \((meta.holdoutLogLoss * 1000).rounded() / 1000)
                        """)
                } catch {
                    print("  \(version): REFUSED: \(error)")
                }
            }
        }
    }
}
