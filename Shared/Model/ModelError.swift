/// Why a model, its metadata or an input row was refused: the source (a path, or "model JSON" for bytes) and
/// what is wrong with it, in words an operator can act on.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or directory could not be read.
    case unreadable(path: String, reason: String)
    /// The bytes are not JSON at all.
    case notJSON(source: String, reason: String)
    /// Valid JSON, but not an XGBoost model (a required key is missing or has the wrong type).
    case notAModel(source: String, reason: String)
    /// An XGBoost model this evaluator deliberately does not run (objective, booster, categorical splits, …).
    case unsupported(source: String, reason: String)
    /// An XGBoost model whose trees or parameters contradict one another.
    case malformed(source: String, reason: String)
    /// A model directory without its `metadata.json`.
    case metadataMissing(directory: String)
    /// `metadata.json` that cannot be decoded or has a value out of range.
    case badMetadata(path: String, reason: String)
    /// Model and metadata disagree (features, classes).
    case mismatch(source: String, reason: String)
    /// A feature row whose length is not the model's feature count.
    case featureCount(expected: Int, got: Int)
    /// An input table whose header lacks some of the model's features.
    case missingFeatures(source: String, names: [String])
    /// An input cell that is neither a number nor empty/NaN (line counts from 1, the header included).
    case badCell(source: String, line: Int, column: String, value: String)
    /// An input line whose number of cells is not the header's.
    case badRow(source: String, line: Int, reason: String)
    /// An input table without a header line.
    case emptyInput(source: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .notJSON(let source, let reason): "\(source) is not valid JSON: \(reason)"
        case .notAModel(let source, let reason): "\(source) is not an XGBoost JSON model: \(reason)"
        case .unsupported(let source, let reason): "\(source): unsupported XGBoost model: \(reason)"
        case .malformed(let source, let reason): "\(source): malformed XGBoost model: \(reason)"
        case .metadataMissing(let directory): "metadata.json missing in \(directory)"
        case .badMetadata(let path, let reason): "\(path): bad model metadata: \(reason)"
        case .mismatch(let source, let reason): "\(source): model and metadata disagree: \(reason)"
        case .featureCount(let expected, let got): "the model takes \(expected) features, the row has \(got)"
        case .missingFeatures(let source, let names):
            "\(source): header lacks model feature\(names.count == 1 ? "" : "s") \(names.joined(separator: ", "))"
        case .badCell(let source, let line, let column, let value):
            "\(source) line \(line) column \(column): '\(value)' is not a number (leave the cell empty for a missing value)"
        case .badRow(let source, let line, let reason): "\(source) line \(line): \(reason)"
        case .emptyInput(let source): "\(source) has no header line"
        }
    }
}
