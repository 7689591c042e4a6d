import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A client of ChromaDB's HTTP API v2 for set-up records: one collection in one tenant and database,
/// records keyed by set-up id with our feature vectors as embeddings and context and outcome as metadata.
///
/// It owns no connections: one pooled `HTTPClient`, shared by the service, is injected (see
/// `makeHTTPClientConfiguration`). Every request carries `requestTimeout` as a backstop; the tight
/// deadline of a signal cycle is the `Dependency`'s, which cancels the request when it fires.
/// Every failure surfaces as a `RecallError`.
///
/// The collection is resolved lazily and cached: database created if missing, collection got or created
/// with the configured space, and checked against that space and the vector dimension. A 404 on a
/// collection (deleted behind our back) drops the cache and the call resolves the collection once more.
public final class ChromaRecallStore: RecallStore {
    public struct Configuration: Sendable {
        /// Scheme, host and port, e.g. `http://127.0.0.1:8000`.
        public var baseURL: String
        public var tenant: String
        public var database: String
        public var collection: String
        public var space: DistanceSpace
        /// Length of every vector stored or queried.
        public var dimension: Int
        /// Whole-request backstop for the HTTP client; shorter deadlines come from the caller.
        public var requestTimeout: Duration
        /// Larger response bodies are refused as malformed.
        public var maxResponseBytes: Int
        /// Extra headers on every request, e.g. `x-chroma-token`; never logged.
        public var headers: [(String, String)]

        public init(
            baseURL: String = "http://127.0.0.1:8000",
            tenant: String = "default_tenant",
            database: String = "default_database",
            collection: String = "breakwater_setups_v\(SetupFeatures.version)",
            space: DistanceSpace = .l2,
            dimension: Int = SetupFeatures.dimension,
            requestTimeout: Duration = .seconds(2),
            maxResponseBytes: Int = 4 << 20,
            headers: [(String, String)] = []
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.tenant = tenant
            self.database = database
            self.collection = collection
            self.space = space
            self.dimension = dimension
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
            self.headers = headers
        }
    }

    /// The resolved collection.
    public struct CollectionInfo: Sendable, Equatable {
        public let id: String
        public let name: String
        /// nil until the collection holds a vector.
        public let dimension: Int?
    }

    /// A record as stored, from `fetch(ids:)`.
    public struct StoredSetup: Sendable, Equatable {
        public var id: String
        public var features: [Double]?
        public var context: SetupContext?
        public var outcome: SetupOutcome?
    }

    public let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger
    private let collectionCache = Mutex<CollectionInfo?>(nil)

    public init(client: HTTPClient, configuration: Configuration = Configuration(), logger: Logger) {
        precondition(configuration.dimension > 0, "dimension must be positive")
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// A configuration for the injected client: fail fast when Chroma is down (no connection retries,
    /// short connect timeout), a few pooled connections, no redirects.
    public static func makeHTTPClientConfiguration(
        connectTimeout: Duration = .milliseconds(500),
        readTimeout: Duration = .seconds(2),
        connectionsPerHost: Int = 4
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: .nanoseconds(connectTimeout.wholeNanoseconds), read: .nanoseconds(readTimeout.wholeNanoseconds))
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        return configuration
    }

    // MARK: Server

    /// `GET /api/v2/heartbeat`: the server's clock in ns.
    public func heartbeat() async throws -> Int64 {
        let body = try await send(.GET, "/api/v2/heartbeat", body: nil as ChromaNamePayload?)
        return try Self.decode(ChromaHeartbeat.self, from: body).nanosecondHeartbeat
    }

    // MARK: Collection

    /// Resolves (creating when missing) the database and the collection; cached after the first success.
    public func prepare() async throws {
        _ = try await collection()
    }

    /// The collection, resolved once and cached.
    public func collection() async throws -> CollectionInfo {
        if let cached = collectionCache.withLock({ $0 }) { return cached }
        try await ensureDatabase()
        let request = ChromaCreateCollection(
            name: configuration.collection,
            configuration: .init(hnsw: .init(space: configuration.space.rawValue)),
            metadata: [
                "feature_version": .int(Int64(SetupFeatures.version)),
                "dimension": .int(Int64(configuration.dimension)),
                "created_by": .string("breakwater"),
            ])
        let body = try await send(.POST, "\(databasePath)/collections", body: request)
        let collection = try Self.decode(ChromaCollection.self, from: body)
        if let space = collection.configuration?.hnsw?.space, space != configuration.space.rawValue {
            throw RecallError.incompatibleCollection(
                "collection \(collection.name) uses space \(space), configured \(configuration.space.rawValue)")
        }
        if let dimension = collection.dimension, dimension != configuration.dimension {
            throw RecallError.incompatibleCollection(
                "collection \(collection.name) holds vectors of \(dimension), configured \(configuration.dimension)")
        }
        let info = CollectionInfo(id: collection.id, name: collection.name, dimension: collection.dimension)
        collectionCache.withLock { $0 = info }
        logger.info(
            "recall collection ready",
            metadata: ["collection": "\(info.name)", "id": "\(info.id)", "space": "\(configuration.space.rawValue)"])
        return info
    }

    private func ensureDatabase() async throws {
        do {
            _ = try await send(.GET, databasePath, body: nil as ChromaNamePayload?)
            return
        } catch RecallError.notFound {
            logger.info("creating recall database", metadata: ["database": "\(configuration.database)"])
        }
        do {
            _ = try await send(
                .POST, "/api/v2/tenants/\(escape(configuration.tenant))/databases",
                body: ChromaNamePayload(name: configuration.database))
        } catch RecallError.rejectedRequest(status: 409, _, _) {
            // Created by someone else in the meantime.
        }
    }

    // MARK: Records

    /// `add`: inserts records; Chroma ignores ids it already holds. Not idempotent in effect if the records
    /// differ, which is why the service writes with `upsert`.
    public func add(_ records: [SetupRecord]) async throws {
        try await write("add", records)
    }

    /// `upsert`: inserts or replaces records by id; repeating it leaves the same state (idempotent).
    public func upsert(_ records: [SetupRecord]) async throws {
        try await write("upsert", records)
    }

    /// `update`: writes the outcome into the metadata of an existing record (other fields are kept).
    /// Chroma ignores ids it does not hold.
    public func recordOutcome(setupId: String, outcome: SetupOutcome) async throws {
        guard outcome.pnlFraction.isFinite else { throw RecallError.invalidVector("P&L of \(setupId) is not finite") }
        let payload = ChromaRecords(
            ids: [setupId], embeddings: nil, metadatas: [SetupMetadata.encode(outcome: outcome)])
        try await onCollection { id in
            _ = try await self.send(.POST, self.collectionPath(id) + "/update", body: payload)
        }
    }

    private func write(_ operation: String, _ records: [SetupRecord]) async throws {
        guard !records.isEmpty else { return }
        for record in records { try validate(record.features, what: record.id) }
        let payload = ChromaRecords(
            ids: records.map(\.id),
            embeddings: records.map(\.features),
            metadatas: records.map { SetupMetadata.encode(context: $0.context, outcome: $0.outcome) })
        try await onCollection { id in
            _ = try await self.send(.POST, self.collectionPath(id) + "/\(operation)", body: payload)
        }
    }

    /// `query`: the `k` nearest records to `features` that pass `filter`, nearest first.
    public func nearest(to features: [Double], k: Int, filter: RecallFilter) async throws -> [RecalledSetup] {
        try validate(features, what: "query")
        guard k > 0 else { return [] }
        let payload = ChromaQuery(
            queryEmbeddings: [features], nResults: k, include: ["distances", "metadatas"], where: filter.chromaWhere)
        let body = try await onCollection { id in
            try await self.send(.POST, self.collectionPath(id) + "/query", body: payload)
        }
        return try Self.parseQuery(body)
    }

    /// A `query` response body as neighbours; any deviation from the documented shape is a `RecallError`.
    static func parseQuery(_ body: ByteBuffer) throws -> [RecalledSetup] {
        try neighbours(from: decode(ChromaQueryResponse.self, from: body))
    }

    /// `get` by ids, with embeddings and metadata; ids Chroma does not hold are absent.
    public func fetch(ids: [String]) async throws -> [StoredSetup] {
        guard !ids.isEmpty else { return [] }
        let payload = ChromaGet(ids: ids, include: ["embeddings", "metadatas"])
        let body = try await onCollection { id in
            try await self.send(.POST, self.collectionPath(id) + "/get", body: payload)
        }
        let response = try Self.decode(ChromaGetResponse.self, from: body)
        guard response.embeddings.map({ $0.count == response.ids.count }) ?? true,
            response.metadatas.map({ $0.count == response.ids.count }) ?? true
        else { throw RecallError.malformedResponse("get: ids, embeddings and metadatas differ in length") }
        return response.ids.indices.map { index in
            let metadata = response.metadatas?[index]
            return StoredSetup(
                id: response.ids[index], features: response.embeddings?[index],
                context: SetupMetadata.context(from: metadata), outcome: SetupMetadata.outcome(from: metadata))
        }
    }

    /// `count`: records in the collection.
    public func count() async throws -> Int {
        let body = try await onCollection { id in
            try await self.send(.GET, self.collectionPath(id) + "/count", body: nil as ChromaNamePayload?)
        }
        return try Self.decode(Int.self, from: body)
    }

    static func neighbours(from response: ChromaQueryResponse) throws -> [RecalledSetup] {
        // One query embedding was sent, so exactly one row of results is expected.
        guard response.ids.count == 1 else {
            throw RecallError.malformedResponse("query: \(response.ids.count) result rows for 1 query")
        }
        let ids = response.ids[0]
        guard let distanceRows = response.distances, distanceRows.count == 1, distanceRows[0].count == ids.count else {
            throw RecallError.malformedResponse("query: distances missing or not one per id")
        }
        let metadataRow: [[String: JSONValue]?]
        if let metadataRows = response.metadatas {
            guard metadataRows.count == 1, metadataRows[0].count == ids.count else {
                throw RecallError.malformedResponse("query: metadatas not one per id")
            }
            metadataRow = metadataRows[0]
        } else {
            metadataRow = Array(repeating: nil, count: ids.count)
        }
        return try ids.indices.map { index in
            guard let distance = distanceRows[0][index], distance.isFinite else {
                throw RecallError.malformedResponse("query: distance of \(ids[index]) is missing")
            }
            let metadata = metadataRow[index]
            return RecalledSetup(
                id: ids[index], distance: distance, context: SetupMetadata.context(from: metadata),
                outcome: SetupMetadata.outcome(from: metadata))
        }
    }

    // MARK: Plumbing

    private var databasePath: String {
        "/api/v2/tenants/\(escape(configuration.tenant))/databases/\(escape(configuration.database))"
    }

    private func collectionPath(_ id: String) -> String { "\(databasePath)/collections/\(escape(id))" }

    private func escape(_ component: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return component.addingPercentEncoding(withAllowedCharacters: allowed) ?? component
    }

    private func validate(_ features: [Double], what: String) throws {
        guard features.count == configuration.dimension else {
            throw RecallError.invalidVector("\(what): \(features.count) features, expected \(configuration.dimension)")
        }
        guard features.allSatisfy(\.isFinite) else { throw RecallError.invalidVector("\(what): non-finite feature") }
    }

    /// Runs a collection-scoped request; when the collection has vanished (404), resolves it once more.
    private func onCollection<T>(_ request: (String) async throws -> T) async throws -> T {
        let first = try await collection()
        do {
            return try await request(first.id)
        } catch RecallError.notFound(let message) {
            logger.warning("recall collection not found, resolving it again", metadata: ["detail": "\(message)"])
            collectionCache.withLock { if $0?.id == first.id { $0 = nil } }
            return try await request(try await collection().id)
        }
    }

    /// Sends one request and returns the body of a 2xx answer; anything else becomes a `RecallError`.
    private func send<Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        for (name, value) in configuration.headers { request.headers.add(name: name, value: value) }
        if let body {
            let data: Data
            do {
                data = try JSONEncoder().encode(body)
            } catch {
                throw RecallError.invalidVector("request body cannot be encoded: \(error)")
            }
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(
                request, timeout: .nanoseconds(configuration.requestTimeout.wholeNanoseconds), logger: logger)
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw RecallError.malformedResponse("\(method) \(path): body larger than \(error.maxBytes ?? 0) bytes")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw RecallError.transport("\(method) \(path): \(error)")
        }
        guard (200..<300).contains(status) else {
            throw Self.error(status: status, body: bytes, request: "\(method) \(path)")
        }
        return bytes
    }

    static func error(status: Int, body: ByteBuffer, request: String) -> RecallError {
        let parsed = try? JSONDecoder().decode(ChromaErrorBody.self, from: Data(body.readableBytesView))
        let message = parsed?.message ?? String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
        let detail = "\(request): \(message)"
        switch status {
        case 401, 403: return .unauthorized(status: status, message: detail)
        case 404: return .notFound(detail)
        case 429: return .overloaded(status: status, message: detail)
        case 400..<500: return .rejectedRequest(status: status, error: parsed?.error, message: detail)
        default: return .serverError(status: status, error: parsed?.error, message: detail)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            let excerpt = String(decoding: body.readableBytesView.prefix(200), as: UTF8.self)
            throw RecallError.malformedResponse("expected \(T.self): \(error); body: \(excerpt)")
        }
    }
}
