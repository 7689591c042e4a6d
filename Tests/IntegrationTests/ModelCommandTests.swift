import Foundation
import Testing
import TestSupport

/// `breakwater model train` and `show` as an operator runs them, on the real candle file.
@Suite("Model commands")
struct ModelCommandTests {
    func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func config(_ directory: URL, _ model: [String: Any]) throws -> String {
        let path = directory.appendingPathComponent("config.json").path
        try JSONSerialization.data(withJSONObject: ["model": model]).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(
        "a training run on the shared candle file: one version, deterministic for its seed, shown with its figures",
        .enabled(if: ModelTraining.ready, "needs .venv with xgboost and ../shared/data: run `make test`"))
    func trainsDeterministically() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = try config(directory, ["rounds": 40, "keep": 2])
        let arguments = [
            "model", "train", "--symbol", "BTC", "--candles", Repository.candles.path, "--json", "--config", configPath,
            "--var-dir", "var",
        ]
        var outcomes: [[String: Any]] = []
        var models: [Data] = []
        for _ in 0..<3 {
            let (status, output) = try await run("breakwater", arguments, in: directory)
            try #require(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last)
            let outcome = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            outcomes.append(outcome)
            let folder = try #require(outcome["directory"] as? String)
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/model.json")))
        }
        #expect(outcomes.allSatisfy { $0["status"] as? String == "trained" && $0["rows"] as? Int == 44_967 })
        #expect(outcomes.allSatisfy { ($0["parityMaxDiff"] as? Double ?? 1) <= 1e-6 })
        // Same data, same seed: the same trees.
        let first = try #require(models.first)
        #expect(models.allSatisfy { $0 == first })
        // model.keep 2: the oldest of the three was pruned.
        #expect((outcomes[2]["pruned"] as? [String])?.count == 1)
        let versions = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("var/models/BTC").path)
        #expect(versions.count == 2)

        let (status, shown) = try await run("breakwater", ["model", "show", "--config", configPath, "--var-dir", "var"], in: directory)
        #expect(status == 0)
        #expect(shown.contains("serving \(outcomes[2]["version"] as! String)"))
        #expect(shown.contains("holdout accuracy"))
    }

    @Test(
        "a training run that fails its accuracy floor writes nothing and says why",
        .enabled(if: ModelTraining.ready, "needs .venv with xgboost and ../shared/data: run `make test`"))
    func refusedRunWritesNothing() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = try config(directory, ["rounds": 20, "minAccuracy": 0.99])
        let (status, output) = try await run(
            "breakwater",
            ["model", "train", "--symbol", "BTC", "--candles", Repository.candles.path, "--config", configPath, "--var-dir", "var"],
            in: directory)
        #expect(status != 0)
        #expect(output.contains("below model.minAccuracy"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("var/models/BTC").path)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("too few bars, an unreadable file, an unknown model key: non-zero with the reason")
    func badInput() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let short = directory.appendingPathComponent("short.csv")
        try "timestamp,open,high,low,close,volume\n2022-01-01 00:00:00,1,1,1,1,1\n2022-01-01 00:01:00,1,1,1,1,1\n"
            .write(to: short, atomically: true, encoding: .utf8)
        let configPath = try config(directory, [:])
        let (status, output) = try await run(
            "breakwater", ["model", "train", "--symbol", "BTC", "--candles", short.path, "--config", configPath], in: directory)
        #expect(status != 0)
        #expect(output.contains("model.minBars"))
        let (missing, missingOutput) = try await run(
            "breakwater", ["model", "train", "--symbol", "BTC", "--candles", "/nonexistent.csv", "--config", configPath],
            in: directory)
        #expect(missing != 0)
        #expect(missingOutput.contains("/nonexistent.csv"))
        let typo = try config(directory, ["maxAgeHour": 5])
        let (unknown, unknownOutput) = try await run("breakwater", ["model", "show", "--config", typo], in: directory)
        #expect(unknown != 0)
        #expect(unknownOutput.contains("model.maxAgeHour"))
    }
}
