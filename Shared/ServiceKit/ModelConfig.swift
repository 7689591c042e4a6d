import Foundation

/// The `model.*` keys, read here once for the signal generator (serving, ageing, retraining) and
/// `breakwater model train` (what a training run does), so both mean the same by each key.
public struct ModelConfig: Sendable, Equatable {
    /// Model versions live in `<directory>/<SYMBOL>/<version>/`.
    public var directory: String
    /// A model older than this stops entries (`model_expired`).
    public var maxAgeHours: Double
    /// nil: no scheduled retraining.
    public var retrainHours: Double?
    /// Model versions kept per symbol; older ones are deleted after a successful retrain.
    public var keep: Int
    /// Below this probability of its chosen class the model has no view.
    public var minProbability: Double
    /// Predictions counted for the class shares (`breakwater_model_class_share`).
    public var sharesWindow: Int
    /// A class above this share of recent predictions is reported (and alerted on).
    public var maxClassShare: Double

    // Training
    public var horizonBars: Int
    public var neutralBandBps: Double
    public var holdoutFraction: Double
    public var rounds: Int
    public var maxDepth: Int
    public var learningRate: Double
    public var seed: UInt64
    /// A new model whose holdout accuracy is below this is refused.
    public var minAccuracy: Double
    /// Recorded bars a retrain needs at least.
    public var minBars: Int
    /// The Python with `xgboost`; default `<repository>/.venv/bin/python3`.
    public var python: String

    public static func read(_ settings: inout Settings) -> ModelConfig {
        let retrain = settings.double("model.retrainHours", default: 0, in: 0...24 * 365)
        let defaultPython = RepositoryPaths.repositoryRoot().map { "\($0)/.venv/bin/python3" } ?? "python3"
        return ModelConfig(
            directory: settings.dataPath("model.directory", file: "models"),
            maxAgeHours: settings.double("model.maxAgeHours", default: 72, in: 0.001...24 * 365),
            retrainHours: retrain > 0 ? retrain : nil,
            keep: settings.int("model.keep", default: 5, in: 1...1_000),
            minProbability: settings.double("model.minProbability", default: 0.45, in: 0...1),
            sharesWindow: settings.int("model.sharesWindow", default: 500, in: 10...1_000_000),
            maxClassShare: settings.double("model.maxClassShare", default: 0.8, in: 0.01...1),
            horizonBars: settings.int("model.horizonBars", default: 15, in: 1...10_000),
            neutralBandBps: settings.double("model.neutralBandBps", default: 10, in: 0...10_000),
            holdoutFraction: settings.double("model.holdoutFraction", default: 0.2, in: 0.01...0.9),
            rounds: settings.int("model.rounds", default: 200, in: 1...10_000),
            maxDepth: settings.int("model.maxDepth", default: 4, in: 1...16),
            learningRate: settings.double("model.learningRate", default: 0.1, in: 0.0001...1),
            seed: UInt64(settings.int("model.seed", default: 7, in: 0...Int(Int32.max))),
            minAccuracy: settings.double("model.minAccuracy", default: 0, in: 0...1),
            minBars: settings.int("model.minBars", default: 500, in: 60...100_000_000),
            python: settings.string("model.python", default: defaultPython))
    }
}
