import Resilience

/// Everything a `HyperliquidClient` call can fail with. The client never lets a transport error, a
/// decoding error or a resilience refusal escape in another form.
///
/// Classified for the circuit breaker (`isDependencyFailure`) and for read retries (`isRetryable`):
/// the exchange refusing an action (`{"status":"err"}`, an order status `{"error": …}`, a 4xx) proves it
/// answered and is not a failure of the dependency; 5xx, 429, transport errors, timeouts and
/// malformed bodies are.
public enum HyperliquidClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No HTTP answer: connection refused or reset, the HTTP client's own connect/read timeout.
    case transport(String)
    /// HTTP 429: the exchange's per-IP weight limit was hit (its body is `null`).
    case rateLimited(status: Int)
    /// HTTP 5xx.
    case serverError(status: Int, body: String)
    /// Another non-2xx, e.g. 422 "Failed to deserialize the JSON body into the target type: …".
    case badRequest(status: Int, body: String)
    /// `{"status":"err","response":"…"}`: the exchange refused the whole action; the string is its own.
    case exchangeRejected(String)
    /// A 2xx body that is not the documented shape (or is too large).
    case malformedResponse(String)
    /// The client refused the request before sending it (unknown coin, size rounds to zero, …).
    case invalidRequest(String)
    /// Exchange actions need a wallet; this client has none.
    case noWallet
    /// Signing or nonce issuance failed.
    case signing(HyperliquidError)
    /// The circuit breaker of `dependency` is open: fail fast, take the fallback.
    case circuitOpen(dependency: String)
    /// The call's deadline (the dependency policy's) passed.
    case deadlineExceeded(Duration)
    /// The local weight-aware rate limiter refused the call (reject mode, or a wait beyond its maximum).
    case rateLimitedLocally(RateLimitRejection)
    /// The caller's task was cancelled.
    case cancelled

    /// Whether the error says the exchange (or the path to it) is unhealthy.
    public var isDependencyFailure: Bool {
        switch self {
        case .transport, .rateLimited, .serverError, .malformedResponse, .deadlineExceeded: true
        case .badRequest, .exchangeRejected, .invalidRequest, .noWallet, .signing, .circuitOpen,
            .rateLimitedLocally, .cancelled:
            false
        }
    }

    /// Whether another attempt of an idempotent read may succeed. 429 is not retried at once: the exchange
    /// asked for less load.
    public var isRetryable: Bool {
        switch self {
        case .transport, .serverError: true
        default: false
        }
    }

    /// `CircuitBreakerConfiguration.isFailure` for the client's dependencies: unknown errors are failures.
    @Sendable public static func isDependencyFailure(_ error: any Error) -> Bool {
        if let error = error as? HyperliquidClientError { return error.isDependencyFailure }
        return !(error is CancellationError)
    }

    /// `RetryPolicy.isRetryable` for the client's reads.
    @Sendable public static func isRetryable(_ error: any Error) -> Bool {
        (error as? HyperliquidClientError)?.isRetryable ?? false
    }

    /// Maps whatever a protected call threw to this type.
    static func wrap(_ error: any Error) -> HyperliquidClientError {
        switch error {
        case let error as HyperliquidClientError: error
        case let error as CallNotPermitted: .circuitOpen(dependency: error.dependency)
        case let error as DeadlineExceeded: .deadlineExceeded(error.timeout)
        case let error as RateLimitRejection: .rateLimitedLocally(error)
        case let error as HyperliquidError: .signing(error)
        case is CancellationError: .cancelled
        default: .transport("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .transport(let detail): "hyperliquid unreachable: \(detail)"
        case .rateLimited(let status): "hyperliquid rate limited this IP (HTTP \(status))"
        case .serverError(let status, let body): "hyperliquid failed with HTTP \(status): \(body)"
        case .badRequest(let status, let body): "hyperliquid rejected the request (HTTP \(status)): \(body)"
        case .exchangeRejected(let message): "hyperliquid refused the action: \(message)"
        case .malformedResponse(let detail): "hyperliquid sent an unexpected response: \(detail)"
        case .invalidRequest(let detail): "invalid request: \(detail)"
        case .noWallet: "exchange actions need a wallet; the client has none"
        case .signing(let error): "signing failed: \(error)"
        case .circuitOpen(let dependency): "\(dependency): circuit breaker open"
        case .deadlineExceeded(let timeout): "hyperliquid call exceeded its deadline of \(timeout)"
        case .rateLimitedLocally(let rejection): "local rate limiter: \(rejection)"
        case .cancelled: "cancelled"
        }
    }
}
