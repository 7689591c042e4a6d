import Schema

/// Any JSON value: metadata values and `where` clauses. Decodes whatever the server sends (nested
/// arrays, objects, nulls) so that a metadata type we do not use can never fail a whole response.
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Integers and doubles alike: a JSON encoder may write 2.0 as 2, and Chroma keeps what it got.
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    var integer: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: Int64(value)
        default: nil
        }
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

/// The metadata keys of a set-up record in Chroma.
enum MetadataKey {
    static let symbol = "symbol"
    static let strategy = "strategy"
    static let direction = "direction"
    static let time = "time"
    static let featureVersion = "feature_version"
    static let hasOutcome = "has_outcome"
    static let pnl = "pnl"
    static let holdingBars = "holding_bars"
    static let win = "win"
}

enum SetupMetadata {
    static func encode(context: SetupContext, outcome: SetupOutcome?) -> [String: JSONValue] {
        var metadata: [String: JSONValue] = [
            MetadataKey.symbol: .string(context.symbol),
            MetadataKey.strategy: .string(context.strategy),
            MetadataKey.direction: .string(context.direction.rawValue),
            MetadataKey.time: .int(context.time),
            MetadataKey.featureVersion: .int(Int64(SetupFeatures.version)),
        ]
        metadata.merge(encode(outcome: outcome)) { _, new in new }
        return metadata
    }

    /// The outcome fields; without an outcome only `has_outcome: false`, so that a `where` on it works.
    static func encode(outcome: SetupOutcome?) -> [String: JSONValue] {
        guard let outcome else { return [MetadataKey.hasOutcome: .bool(false)] }
        return [
            MetadataKey.hasOutcome: .bool(true),
            MetadataKey.pnl: .double(outcome.pnlFraction),
            MetadataKey.holdingBars: .int(Int64(outcome.holdingBars)),
            MetadataKey.win: .bool(outcome.isWin),
        ]
    }

    /// nil unless every context field is there with the right type.
    static func context(from metadata: [String: JSONValue]?) -> SetupContext? {
        guard let metadata,
            let symbol = metadata[MetadataKey.symbol]?.string,
            let strategy = metadata[MetadataKey.strategy]?.string,
            let direction = metadata[MetadataKey.direction]?.string.flatMap(Direction.init(rawValue:)),
            let time = metadata[MetadataKey.time]?.integer
        else { return nil }
        return SetupContext(symbol: symbol, strategy: strategy, direction: direction, time: time)
    }

    /// nil unless `has_outcome` is true and P&L and holding bars are numbers.
    static func outcome(from metadata: [String: JSONValue]?) -> SetupOutcome? {
        guard let metadata, metadata[MetadataKey.hasOutcome]?.bool == true,
            let pnl = metadata[MetadataKey.pnl]?.number, pnl.isFinite,
            let bars = metadata[MetadataKey.holdingBars]?.integer, let holdingBars = Int(exactly: bars)
        else { return nil }
        return SetupOutcome(pnlFraction: pnl, holdingBars: holdingBars, isWin: metadata[MetadataKey.win]?.bool)
    }
}

extension RecallFilter {
    /// Chroma's `where`: nil without conditions, the bare condition for one, `$and` for more
    /// (Chroma refuses an `$and` of fewer than two).
    var chromaWhere: JSONValue? {
        var conditions: [JSONValue] = []
        func equals(_ key: String, _ value: JSONValue) {
            conditions.append(.object([key: .object(["$eq": value])]))
        }
        if let symbol { equals(MetadataKey.symbol, .string(symbol)) }
        if let direction { equals(MetadataKey.direction, .string(direction.rawValue)) }
        if let strategy { equals(MetadataKey.strategy, .string(strategy)) }
        if onlyWithOutcome { equals(MetadataKey.hasOutcome, .bool(true)) }
        switch conditions.count {
        case 0: return nil
        case 1: return conditions[0]
        default: return .object(["$and": .array(conditions)])
        }
    }
}

// MARK: - Request and response bodies (Chroma HTTP API v2)

struct ChromaErrorBody: Decodable {
    var error: String?
    var message: String?
}

struct ChromaHeartbeat: Decodable {
    var nanosecondHeartbeat: Int64
    enum CodingKeys: String, CodingKey { case nanosecondHeartbeat = "nanosecond heartbeat" }
}

struct ChromaNamePayload: Encodable {
    var name: String
}

struct ChromaCreateCollection: Encodable {
    struct Configuration: Encodable {
        struct HNSW: Encodable { var space: String }
        var hnsw: HNSW
    }
    var name: String
    var getOrCreate = true
    var configuration: Configuration
    var metadata: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case name, configuration, metadata
        case getOrCreate = "get_or_create"
    }
}

struct ChromaCollection: Decodable {
    struct Configuration: Decodable {
        struct HNSW: Decodable { var space: String? }
        var hnsw: HNSW?
    }
    var id: String
    var name: String
    var dimension: Int?
    var configuration: Configuration?

    enum CodingKeys: String, CodingKey {
        case id, name, dimension
        case configuration = "configuration_json"
    }
}

struct ChromaRecords: Encodable {
    var ids: [String]
    var embeddings: [[Double]]?
    var metadatas: [[String: JSONValue]]?
}

struct ChromaQuery: Encodable {
    var queryEmbeddings: [[Double]]
    var nResults: Int
    var include: [String]
    var `where`: JSONValue?

    enum CodingKeys: String, CodingKey {
        case queryEmbeddings = "query_embeddings"
        case nResults = "n_results"
        case include, `where`
    }
}

struct ChromaQueryResponse: Decodable {
    var ids: [[String]]
    var distances: [[Double?]]?
    var metadatas: [[[String: JSONValue]?]]?
}

struct ChromaGet: Encodable {
    var ids: [String]
    var include: [String]
}

struct ChromaGetResponse: Decodable {
    var ids: [String]
    var embeddings: [[Double]?]?
    var metadatas: [[String: JSONValue]?]?
}
