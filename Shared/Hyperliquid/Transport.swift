import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Schema

/// Where the client talks to: Hyperliquid mainnet, testnet, or the local exchange-sim (paper mode).
public enum HyperliquidEndpoint: Sendable, Hashable, CustomStringConvertible {
    case mainnet
    case testnet
    /// exchange-sim (or any Hyperliquid-compatible venue) at `baseURL`, e.g. "http://127.0.0.1:3001".
    case paper(baseURL: String)

    public static let mainnetURL = "https://api.hyperliquid.xyz"
    public static let testnetURL = "https://api.hyperliquid-testnet.xyz"
    /// exchange-sim's default address.
    public static let defaultPaper = HyperliquidEndpoint.paper(baseURL: "http://127.0.0.1:3001")

    /// The endpoint a trading mode trades on; paper is exchange-sim at `paperURL`.
    public init(mode: TradingMode, paperURL: String) {
        switch mode {
        case .paper: self = .paper(baseURL: paperURL)
        case .testnet: self = .testnet
        case .mainnet: self = .mainnet
        }
    }

    public var baseURL: String {
        switch self {
        case .mainnet: Self.mainnetURL
        case .testnet: Self.testnetURL
        case .paper(let url): url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    /// The `/ws` URL: http → ws, https → wss.
    public var webSocketURL: String {
        let base = baseURL
        if base.hasPrefix("https://") { return "wss://" + base.dropFirst("https://".count) + "/ws" }
        if base.hasPrefix("http://") { return "ws://" + base.dropFirst("http://".count) + "/ws" }
        return base + "/ws"
    }

    /// The signature domain: mainnet for mainnet, testnet otherwise (as the official SDK signs for any
    /// non-mainnet URL; exchange-sim accepts either by default).
    public var signingNetwork: Network { self == .mainnet ? .mainnet : .testnet }

    public var description: String {
        switch self {
        case .mainnet: "mainnet"
        case .testnet: "testnet"
        case .paper(let url): "paper(\(url))"
        }
    }
}

/// An HTTP answer, whatever its status.
public struct HTTPAnswer: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// How the client reaches the exchange: POST a JSON body to "/info" or "/exchange".
/// Implementations throw `HyperliquidClientError` (`transport`, `malformedResponse`) or `CancellationError`.
public protocol HyperliquidTransport: Sendable {
    func post(path: String, body: [UInt8]) async throws -> HTTPAnswer
}

/// The transport over one pooled AsyncHTTPClient `HTTPClient`.
public struct AsyncHTTPTransport: HyperliquidTransport {
    public let client: HTTPClient
    public let baseURL: String
    /// Whole-request backstop; the tighter deadline is the dependency policy's, which cancels the request.
    public let requestTimeout: Duration
    /// Larger bodies are refused as malformed.
    public let maxResponseBytes: Int
    private let logger: Logger

    public init(
        client: HTTPClient, baseURL: String, requestTimeout: Duration = .seconds(10), maxResponseBytes: Int = 32 << 20,
        logger: Logger = Logger(label: "hyperliquid.http")
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
        self.logger = logger
    }

    /// A configuration for a client of the exchange: bounded connect and read timeouts, no connection
    /// retries (the breaker decides), a few pooled connections, no redirects.
    public static func makeHTTPClientConfiguration(
        connectTimeout: Duration = .seconds(2), readTimeout: Duration = .seconds(5), connectionsPerHost: Int = 4
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: .nanoseconds(connectTimeout.wholeNanoseconds), read: .nanoseconds(readTimeout.wholeNanoseconds)
        )
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .automatic
        return configuration
    }

    public func post(path: String, body: [UInt8]) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(
                request, timeout: .nanoseconds(requestTimeout.wholeNanoseconds), logger: logger)
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            return HTTPAnswer(status: Int(response.status.code), body: Array(bytes.readableBytesView))
        } catch let error as NIOTooManyBytesError {
            throw HyperliquidClientError.malformedResponse(
                "POST \(path): body larger than \(error.maxBytes ?? maxResponseBytes) bytes")
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw HyperliquidClientError.transport("POST \(path): \(error)")
        }
    }
}
