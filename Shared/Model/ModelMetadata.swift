import Foundation

/// What the trainer knew when it wrote a model: `metadata.json` next to `model.json` in a model directory.
///
/// Format 1. Every field except `symbol` is required and a missing one is refused by name. Keys this version
/// does not know are ignored, so a newer trainer may add fields without breaking older readers; a change
/// in meaning takes a new `format` number, which older readers refuse. Dates are ISO 8601 (`2025-01-26T00:00:00Z`,
/// fractional seconds and offsets accepted).
public struct ModelMetadata: Codable, Sendable, Equatable {
    public static let currentFormat = 1

    public var format: Int
    /// The market the model was trained on; nil for a model over several.
    public var symbol: String?
    public var trainedAt: Date
    /// The first and last bar of the training data.
    public var dataFrom: Date
    public var dataTo: Date
    public var rows: Int
    public var trainRows: Int
    public var holdoutRows: Int
    /// Feature names in model input order (the market library's feature set).
    public var features: [String]
    public var featureSetVersion: Int
    /// Class names in the model's class order, e.g. `["sell", "hold", "buy"]`.
    public var classes: [String]
    /// Share of each class in the training labels.
    public var classShares: [String: Double]
    /// Bars ahead the label looks.
    public var horizonBars: Int
    /// Returns within ± this many basis points are labelled neutral.
    public var neutralBandBps: Double
    public var holdoutAccuracy: Double
    public var holdoutLogLoss: Double
    public var xgboostVersion: String
    public var seed: UInt64
    /// Where the training data came from (file, capture, synthetic market).
    public var source: String
    /// The XGBoost parameters, as given to `xgboost.train`.
    public var params: [String: String]

    public init(
        format: Int = ModelMetadata.currentFormat, symbol: String?, trainedAt: Date, dataFrom: Date, dataTo: Date,
        rows: Int, trainRows: Int, holdoutRows: Int, features: [String], featureSetVersion: Int, classes: [String],
        classShares: [String: Double], horizonBars: Int, neutralBandBps: Double, holdoutAccuracy: Double,
        holdoutLogLoss: Double, xgboostVersion: String, seed: UInt64, source: String, params: [String: String]
    ) {
        self.format = format
        self.symbol = symbol
        self.trainedAt = trainedAt
        self.dataFrom = dataFrom
        self.dataTo = dataTo
        self.rows = rows
        self.trainRows = trainRows
        self.holdoutRows = holdoutRows
        self.features = features
        self.featureSetVersion = featureSetVersion
        self.classes = classes
        self.classShares = classShares
        self.horizonBars = horizonBars
        self.neutralBandBps = neutralBandBps
        self.holdoutAccuracy = holdoutAccuracy
        self.holdoutLogLoss = holdoutLogLoss
        self.xgboostVersion = xgboostVersion
        self.seed = seed
        self.source = source
        self.params = params
    }

    /// Decodes and checks `metadata.json`; `source` names it in errors.
    public static func decode(_ data: Data, source: String = "metadata.json") throws(ModelError) -> ModelMetadata {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\(text) is not an ISO 8601 date")
            }
            return date
        }
        let metadata: ModelMetadata
        do {
            metadata = try decoder.decode(ModelMetadata.self, from: data)
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let context) where context.codingPath.isEmpty:
                throw .badMetadata(path: source, reason: "missing field \(key.stringValue)")
            case .valueNotFound(_, let context) where context.codingPath.count == 1:
                throw .badMetadata(path: source, reason: "missing field \(context.codingPath[0].stringValue) (null)")
            default:
                throw .badMetadata(path: source, reason: error.modelReason)
            }
        } catch {
            throw .badMetadata(path: source, reason: "\(error)")
        }
        try metadata.validate(source: source)
        return metadata
    }

    /// Throws for a value JSON cannot carry (a NaN figure).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.formatDate(date))
        }
        return try encoder.encode(self)
    }

    func validate(source: String) throws(ModelError) {
        func bad(_ reason: String) -> ModelError { .badMetadata(path: source, reason: reason) }
        guard format == Self.currentFormat else {
            throw bad("format \(format), this Breakwater reads format \(Self.currentFormat)")
        }
        guard !features.isEmpty, Set(features).count == features.count, !features.contains("") else {
            throw bad("features must be non-empty, distinct names")
        }
        guard classes.count >= 2, Set(classes).count == classes.count, !classes.contains("") else {
            throw bad("classes must be at least two distinct names")
        }
        guard rows >= 0, trainRows >= 0, holdoutRows >= 0, horizonBars >= 0 else { throw bad("negative count") }
        guard dataFrom <= dataTo else { throw bad("dataFrom is after dataTo") }
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func formatDate(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
        formatter.formatOptions = whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
