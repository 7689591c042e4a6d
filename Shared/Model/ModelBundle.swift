import Foundation

/// A model ready to serve: the XGBoost model and, from a model directory, the trainer's metadata, checked
/// against each other.
public struct ModelBundle: Sendable {
    public static let modelFile = "model.json"
    public static let metadataFile = "metadata.json"

    public let model: XGBoostModel
    public let metadata: ModelMetadata?
    /// Class names in probability order: the metadata's, or "0", "1", … for a bare model file.
    public let classNames: [String]
    /// Feature names in input order: the metadata's, else the model's.
    public let featureNames: [String]

    /// A directory holds `model.json` and `metadata.json` (both required); any other path is a model file
    /// on its own.
    public static func load(path: String) throws(ModelError) -> ModelBundle {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else {
            let model = try XGBoostModel(contentsOf: URL(fileURLWithPath: path))
            return try ModelBundle(model: model, metadata: nil, source: path)
        }
        let directory = URL(fileURLWithPath: path, isDirectory: true)
        let modelURL = directory.appendingPathComponent(modelFile)
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw .unreadable(path: modelURL.path, reason: "\(modelFile) missing in \(path)")
        }
        let metadataURL = directory.appendingPathComponent(metadataFile)
        guard FileManager.default.fileExists(atPath: metadataURL.path) else { throw .metadataMissing(directory: path) }
        let model = try XGBoostModel(contentsOf: modelURL)
        let data: Data
        do {
            data = try Data(contentsOf: metadataURL)
        } catch {
            throw .unreadable(path: metadataURL.path, reason: XGBoostModel.reason(error))
        }
        let metadata = try ModelMetadata.decode(data, source: metadataURL.path)
        return try ModelBundle(model: model, metadata: metadata, source: path)
    }

    /// Checks that the metadata describes this model: same features (by name when the model has names),
    /// same number of classes.
    public init(model: XGBoostModel, metadata: ModelMetadata?, source: String = "model") throws(ModelError) {
        self.model = model
        self.metadata = metadata
        guard let metadata else {
            classNames = (0..<model.classCount).map(String.init)
            featureNames = model.featureNames
            return
        }
        guard metadata.features.count == model.featureCount else {
            throw .mismatch(
                source: source,
                reason: "metadata lists \(metadata.features.count) features, the model has \(model.featureCount)")
        }
        if model.hasFeatureNames, metadata.features != model.featureNames {
            let index = metadata.features.indices.first { metadata.features[$0] != model.featureNames[$0] } ?? 0
            throw .mismatch(
                source: source,
                reason: "feature \(index) is \(metadata.features[index]) in the metadata, "
                    + "\(model.featureNames[index]) in the model")
        }
        guard metadata.classes.count == model.classCount else {
            throw .mismatch(
                source: source,
                reason: "metadata names \(metadata.classes.count) classes, the model has \(model.classCount)")
        }
        classNames = metadata.classes
        featureNames = metadata.features
    }

    /// Class probabilities for one row in `featureNames` order; NaN is a missing value.
    public func probabilities(_ features: [Double]) throws(ModelError) -> [Double] {
        try model.probabilities(features)
    }
}
