/// Everything that can go wrong talking to the recall store, classified for the circuit breaker and the
/// retry policy. The Chroma client never lets an HTTP client error, a decoding error or an unexpected
/// body escape in another form.
public enum RecallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No HTTP answer: connection refused or reset, the HTTP client's own timeout, a closed pool.
    case transport(String)
    /// Chroma answered 5xx.
    case serverError(status: Int, error: String?, message: String)
    /// 429: Chroma (or a proxy in front of it) sheds load.
    case overloaded(status: Int, message: String)
    /// 401 or 403: credentials or tenant configuration are wrong.
    case unauthorized(status: Int, message: String)
    /// 404: the tenant, database or collection does not exist (and could not be created).
    case notFound(String)
    /// Any other 4xx: Chroma refused a request we built wrongly (invalid `where`, wrong dimension…).
    case rejectedRequest(status: Int, error: String?, message: String)
    /// A 2xx whose body is not what the API documents (or is too large).
    case malformedResponse(String)
    /// The collection exists but with another distance space or dimension than configured.
    case incompatibleCollection(String)
    /// A vector of the wrong length or with non-finite numbers; never sent.
    case invalidVector(String)

    /// Whether the error says the dependency is unhealthy, so that the circuit breaker counts it as a
    /// failure (`CircuitBreakerConfiguration.isFailure`). Refusals that are our own doing (a bad request,
    /// a wrong configuration, an invalid vector) prove the server answered and do not trip the breaker;
    /// in resilience4j's semantics they count as successful calls.
    public var isDependencyFailure: Bool {
        switch self {
        case .transport, .serverError, .overloaded, .malformedResponse: true
        case .unauthorized, .notFound, .rejectedRequest, .incompatibleCollection, .invalidVector: false
        }
    }

    /// Whether another attempt of an idempotent read may succeed. 429 is not retried at once: the server
    /// asked for less load, and the breaker (it counts as a failure) backs off for longer.
    public var isRetryable: Bool {
        switch self {
        case .transport, .serverError: true
        default: false
        }
    }

    /// `isFailure` for the recall dependency's breaker: unknown errors are failures.
    public static func isDependencyFailure(_ error: any Error) -> Bool {
        (error as? RecallError)?.isDependencyFailure ?? !(error is CancellationError)
    }

    /// `isRetryable` for the recall dependency's read retries.
    public static func isRetryable(_ error: any Error) -> Bool {
        (error as? RecallError)?.isRetryable ?? false
    }

    public var description: String {
        switch self {
        case .transport(let detail): "recall store unreachable: \(detail)"
        case .serverError(let status, let error, let message):
            "recall store failed with HTTP \(status)\(error.map { " \($0)" } ?? ""): \(message)"
        case .overloaded(let status, let message): "recall store overloaded (HTTP \(status)): \(message)"
        case .unauthorized(let status, let message): "recall store refused our credentials (HTTP \(status)): \(message)"
        case .notFound(let message): "recall store: not found: \(message)"
        case .rejectedRequest(let status, let error, let message):
            "recall store rejected our request (HTTP \(status)\(error.map { " \($0)" } ?? "")): \(message)"
        case .malformedResponse(let detail): "recall store sent an unexpected response: \(detail)"
        case .incompatibleCollection(let detail): "recall collection is incompatible: \(detail)"
        case .invalidVector(let detail): "invalid feature vector: \(detail)"
        }
    }
}
