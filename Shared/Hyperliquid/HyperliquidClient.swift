import AsyncHTTPClient
import CoreMetrics
import Logging
import Market
import Resilience
import Schema
import Synchronization

/// The Hyperliquid REST client: `/info` reads and signed `/exchange` actions, the same code for mainnet,
/// testnet and paper (exchange-sim); only the endpoint and the keys differ.
///
/// Every call goes through a `Resilience.Dependency` per endpoint family — deadline → circuit breaker →
/// retry → rate limiter: `hyperliquid.info` (reads, idempotent, retried on transport errors and 5xx)
/// and `hyperliquid.exchange` (actions, never retried: an order may have reached the book even when its
/// answer was lost). One weight-aware rate limiter is shared by both, since the exchange limits per IP:
/// `/exchange` weighs 1 + floor(batch / 40); `/info` 2 (l2Book, allMids, clearinghouseState, orderStatus,
/// spotClearinghouseState, exchangeStatus), 60 (userRole) or 20 (the rest), plus, charged after the
/// answer, 1 per 20 fills and 1 per 60 candles returned.
///
/// Orders are given in trading terms (`OrderRequest`: coin, exact decimals); the client resolves the
/// coin's asset index from `meta` (cached), rounds price and size by the asset's `Instrument`, signs
/// with the `Wallet` and a fresh `NonceManager` nonce taken after any rate-limiter wait.
///
/// Every method throws only `HyperliquidClientError`. A client that created its own `HTTPClient` must be
/// `shutdown()` before it is released.
public final class HyperliquidClient<C: Clock<Duration>>: Sendable {
    public struct Configuration: Sendable {
        public var endpoint: HyperliquidEndpoint
        /// HTTP client timeouts, used when the client creates its own `HTTPClient`.
        public var connectTimeout: Duration
        public var readTimeout: Duration
        /// Per-request backstop of the HTTP transport.
        public var requestTimeout: Duration
        public var maxResponseBytes: Int
        public var infoPolicy: ResiliencePolicy
        public var exchangePolicy: ResiliencePolicy
        public var rateLimit: RateLimit
        /// Wait for tokens (up to a maximum) or refuse at once.
        public var rateLimitMode: RateLimitMode
        public var priceRounding: PriceRounding
        /// Trade for a vault or sub-account (its address goes in every action).
        public var vaultAddress: Address?
        /// Names of the two dependencies (breaker transitions and metrics carry them).
        public var infoDependencyName: String
        public var exchangeDependencyName: String

        public init(
            endpoint: HyperliquidEndpoint,
            connectTimeout: Duration = .seconds(2),
            readTimeout: Duration = .seconds(5),
            requestTimeout: Duration = .seconds(10),
            maxResponseBytes: Int = 32 << 20,
            infoPolicy: ResiliencePolicy = .hyperliquidInfo(),
            exchangePolicy: ResiliencePolicy = .hyperliquidExchange(),
            rateLimit: RateLimit = HyperliquidLimits.ipRateLimit,
            rateLimitMode: RateLimitMode = .wait(maximum: .seconds(10)),
            priceRounding: PriceRounding = .nearest,
            vaultAddress: Address? = nil,
            infoDependencyName: String = "hyperliquid.info",
            exchangeDependencyName: String = "hyperliquid.exchange"
        ) {
            self.endpoint = endpoint
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
            self.infoPolicy = infoPolicy
            self.exchangePolicy = exchangePolicy
            self.rateLimit = rateLimit
            self.rateLimitMode = rateLimitMode
            self.priceRounding = priceRounding
            self.vaultAddress = vaultAddress
            self.infoDependencyName = infoDependencyName
            self.exchangeDependencyName = exchangeDependencyName
        }
    }

    public let configuration: Configuration
    public let clock: C
    /// `/info` reads.
    public let infoDependency: Dependency<C>
    /// `/exchange` actions.
    public let exchangeDependency: Dependency<C>
    /// Shared by both dependencies: the exchange limits per IP.
    public let rateLimiter: RateLimiter<C.Instant>
    public let wallet: Wallet?
    private let nonces: NonceManager
    private let transport: any HyperliquidTransport
    private let ownedHTTPClient: HTTPClient?
    private let directory = Mutex<AssetDirectory?>(nil)

    /// The client over `transport` (tests inject a stub; `AsyncHTTPTransport` is the real one).
    /// - Parameters:
    ///   - wallet: signs `/exchange` actions; nil makes a read-only client (actions throw `noWallet`).
    ///   - nonces: one per signer for the whole process.
    ///   - random: retry jitter; pass a seeded one for reproducible runs.
    ///   - onBreakerTransition: every breaker transition of either dependency (the executor publishes them
    ///     as `svc.breaker` with `transition.message(service:)`).
    public convenience init(
        configuration: Configuration,
        wallet: Wallet? = nil,
        nonces: NonceManager = NonceManager(),
        transport: any HyperliquidTransport,
        clock: C,
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        onBreakerTransition: @escaping CircuitBreaker<C.Instant>.Observer = { _ in }
    ) {
        self.init(
            configuration: configuration, wallet: wallet, nonces: nonces, transport: transport, owned: nil,
            clock: clock,
            metricsFactory: metricsFactory, random: SharedRandom(random), onBreakerTransition: onBreakerTransition)
    }

    /// The client over an `HTTPClient`: the injected one (shared, never shut down here) or, when nil, one
    /// it creates with the configured connect and read timeouts and shuts down in `shutdown()`.
    /// `logger` is the HTTP client's request logger.
    public convenience init(
        configuration: Configuration,
        wallet: Wallet? = nil,
        nonces: NonceManager = NonceManager(),
        httpClient: HTTPClient? = nil,
        clock: C,
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        logger: Logger = Logger(label: "hyperliquid.client"),
        onBreakerTransition: @escaping CircuitBreaker<C.Instant>.Observer = { _ in }
    ) {
        let owned: HTTPClient? =
            httpClient == nil
            ? HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: AsyncHTTPTransport.makeHTTPClientConfiguration(
                    connectTimeout: configuration.connectTimeout, readTimeout: configuration.readTimeout))
            : nil
        let transport = AsyncHTTPTransport(
            client: httpClient ?? owned!, baseURL: configuration.endpoint.baseURL,
            requestTimeout: configuration.requestTimeout, maxResponseBytes: configuration.maxResponseBytes,
            logger: logger)
        self.init(
            configuration: configuration, wallet: wallet, nonces: nonces, transport: transport, owned: owned,
            clock: clock,
            metricsFactory: metricsFactory, random: SharedRandom(random), onBreakerTransition: onBreakerTransition)
    }

    private init(
        configuration: Configuration, wallet: Wallet?, nonces: NonceManager, transport: any HyperliquidTransport,
        owned: HTTPClient?, clock: C, metricsFactory: any MetricsFactory, random: SharedRandom,
        onBreakerTransition: @escaping CircuitBreaker<C.Instant>.Observer
    ) {
        self.configuration = configuration
        self.clock = clock
        self.wallet = wallet
        self.nonces = nonces
        self.transport = transport
        self.ownedHTTPClient = owned
        let limiter = RateLimiter<C.Instant>(limit: configuration.rateLimit, mode: configuration.rateLimitMode)
        rateLimiter = limiter
        infoDependency = Dependency(
            name: configuration.infoDependencyName, policy: configuration.infoPolicy, clock: clock,
            rateLimiter: limiter,
            metricsFactory: metricsFactory, random: random, onTransition: onBreakerTransition)
        exchangeDependency = Dependency(
            name: configuration.exchangeDependencyName, policy: configuration.exchangePolicy, clock: clock,
            rateLimiter: limiter, metricsFactory: metricsFactory, random: random, onTransition: onBreakerTransition)
    }

    /// Shuts down the `HTTPClient` the client created (an injected one is the caller's).
    public func shutdown() async throws {
        try await ownedHTTPClient?.shutdown()
    }

    public var endpoint: HyperliquidEndpoint { configuration.endpoint }

    // MARK: Weights

    /// Rate-limit weight of an `/info` request of `type`, per the docs.
    public static func infoWeight(type: String) -> Int {
        switch type {
        case "l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus": 2
        case "userRole": 60
        default: 20
        }
    }

    // MARK: /info

    public func meta() async throws(HyperliquidClientError) -> PerpMeta {
        let meta = try await info(["type": "meta"], decode: InfoDecoding.meta)
        directory.withLock { $0 = AssetDirectory(meta: meta) }
        return meta
    }

    /// `metaAndAssetCtxs`: the universe and, in the same order, each asset's funding, open interest, prices.
    public func metaAndAssetCtxs() async throws(HyperliquidClientError) -> (PerpMeta, [PerpAssetContext]) {
        let (meta, contexts) = try await info(["type": "metaAndAssetCtxs"], decode: InfoDecoding.metaAndAssetCtxs)
        directory.withLock { $0 = AssetDirectory(meta: meta) }
        return (meta, contexts)
    }

    /// The asset directory from `meta`, fetched once and cached (`refresh` fetches again).
    public func assets(refresh: Bool = false) async throws(HyperliquidClientError) -> AssetDirectory {
        if !refresh, let cached = directory.withLock({ $0 }) { return cached }
        return AssetDirectory(meta: try await meta())
    }

    /// The cached asset directory, if `meta` was read.
    public var cachedAssets: AssetDirectory? { directory.withLock { $0 } }

    /// Mid price of every coin with a book.
    public func allMids() async throws(HyperliquidClientError) -> [String: Amount] {
        try await info(["type": "allMids"], decode: InfoDecoding.allMids)
    }

    /// The top levels of `coin`'s book; `nSigFigs` (2…5) aggregates levels.
    public func l2Book(coin: String, nSigFigs: Int? = nil) async throws(HyperliquidClientError) -> HyperliquidBook {
        var request: [(String, WireValue)] = [("type", .string("l2Book")), ("coin", .string(coin))]
        if let nSigFigs { request.append(("nSigFigs", .integer(nSigFigs))) }
        let book = try await info(request, decode: InfoDecoding.l2Book)
        guard let book else { throw .invalidRequest("l2Book: unknown coin \(coin)") }
        return book
    }

    public func clearinghouseState(user: Address) async throws(HyperliquidClientError) -> ClearinghouseState {
        try await info(
            [("type", .string("clearinghouseState")), ("user", .string(user.lowercased))],
            decode: InfoDecoding.clearinghouseState)
    }

    /// The address's request budget: what it used, its cap, and the volume behind the cap.
    public func userRateLimit(user: Address) async throws(HyperliquidClientError) -> UserRateLimit {
        try await info(
            [("type", .string("userRateLimit")), ("user", .string(user.lowercased))], decode: InfoDecoding.userRateLimit)
    }

    public func openOrders(user: Address) async throws(HyperliquidClientError) -> [OpenOrderInfo] {
        try await info(
            [("type", .string("openOrders")), ("user", .string(user.lowercased))], decode: InfoDecoding.openOrders)
    }

    /// The user's most recent fills (up to 2,000), newest first.
    public func userFills(user: Address) async throws(HyperliquidClientError) -> [UserFill] {
        let fills = try await info(
            [("type", .string("userFills")), ("user", .string(user.lowercased))], decode: InfoDecoding.userFills)
        chargeItems(fills.count, per: 20)
        return fills
    }

    /// Fills between `startTime` and `endTime` (ms, inclusive; nil: now).
    public func userFillsByTime(user: Address, startTime: UInt64, endTime: UInt64? = nil)
        async throws(HyperliquidClientError) -> [UserFill]
    {
        var request: [(String, WireValue)] = [
            ("type", .string("userFillsByTime")), ("user", .string(user.lowercased)),
            ("startTime", .integer(startTime)),
        ]
        if let endTime { request.append(("endTime", .integer(endTime))) }
        let fills = try await info(request, decode: InfoDecoding.userFills)
        chargeItems(fills.count, per: 20)
        return fills
    }

    /// Funding payments between `startTime` and `endTime` (ms, inclusive; nil: now).
    public func userFunding(user: Address, startTime: UInt64, endTime: UInt64? = nil)
        async throws(HyperliquidClientError) -> [UserFunding]
    {
        var request: [(String, WireValue)] = [
            ("type", .string("userFunding")), ("user", .string(user.lowercased)), ("startTime", .integer(startTime)),
        ]
        if let endTime { request.append(("endTime", .integer(endTime))) }
        let payments = try await info(request, decode: InfoDecoding.userFunding)
        chargeItems(payments.count, per: 20)
        return payments
    }

    public func orderStatus(user: Address, oid: UInt64) async throws(HyperliquidClientError) -> OrderStatusResponse {
        try await info(
            [("type", .string("orderStatus")), ("user", .string(user.lowercased)), ("oid", .integer(oid))],
            decode: InfoDecoding.orderStatus)
    }

    public func orderStatus(user: Address, cloid: Cloid) async throws(HyperliquidClientError) -> OrderStatusResponse {
        try await info(
            [("type", .string("orderStatus")), ("user", .string(user.lowercased)), ("oid", .string(cloid.rawValue))],
            decode: InfoDecoding.orderStatus)
    }

    /// Candles of `coin` between `start` and `end` (ms).
    public func candleSnapshot(coin: String, interval: CandleInterval, start: UInt64, end: UInt64)
        async throws(HyperliquidClientError) -> [ExchangeCandle]
    {
        let request: WireValue = .map([
            ("type", .string("candleSnapshot")),
            (
                "req",
                .map([
                    ("coin", .string(coin)), ("interval", .string(interval.rawValue)), ("startTime", .integer(start)),
                    ("endTime", .integer(end)),
                ])
            ),
        ])
        let candles = try await info(request, type: "candleSnapshot", decode: InfoDecoding.candles)
        chargeItems(candles.count, per: 60)
        return candles
    }

    // MARK: /exchange

    /// Places a batch of orders (one signed action). One status per order, in order.
    public func order(
        _ orders: [OrderRequest], grouping: Grouping = .na, builder: BuilderInfo? = nil
    ) async throws(HyperliquidClientError) -> [OrderStatus] {
        guard !orders.isEmpty else { return [] }
        let assets = try await assets()
        var wires: [OrderWire] = []
        for order in orders {
            let (index, instrument) = try assets.resolve(order.coin)
            wires.append(try order.wire(asset: index, instrument: instrument, rounding: configuration.priceRounding))
        }
        let count = wires.count
        return try await send(.order(wires, grouping: grouping, builder: builder), batch: count) {
            (body) throws(HyperliquidClientError) in try ExchangeDecoding.orderStatuses(body, expected: count)
        }
    }

    public func order(_ order: OrderRequest) async throws(HyperliquidClientError) -> OrderStatus {
        try await self.order([order])[0]
    }

    public func cancel(_ cancels: [CancelRequest]) async throws(HyperliquidClientError) -> [CancelStatus] {
        guard !cancels.isEmpty else { return [] }
        let assets = try await assets()
        var wires: [CancelWire] = []
        for c in cancels { wires.append(CancelWire(asset: try assets.resolve(c.coin).index, oid: c.oid)) }
        let count = wires.count
        return try await send(.cancel(wires), batch: count) { (body) throws(HyperliquidClientError) in
            try ExchangeDecoding.cancelStatuses(body, expected: count)
        }
    }

    public func cancel(coin: String, oid: UInt64) async throws(HyperliquidClientError) -> CancelStatus {
        try await cancel([CancelRequest(coin: coin, oid: oid)])[0]
    }

    public func cancelByCloid(_ cancels: [CancelByCloidRequest]) async throws(HyperliquidClientError) -> [CancelStatus]
    {
        guard !cancels.isEmpty else { return [] }
        let assets = try await assets()
        var wires: [CancelByCloidWire] = []
        for c in cancels { wires.append(CancelByCloidWire(asset: try assets.resolve(c.coin).index, cloid: c.cloid)) }
        let count = wires.count
        return try await send(.cancelByCloid(wires), batch: count) { (body) throws(HyperliquidClientError) in
            try ExchangeDecoding.cancelStatuses(body, expected: count)
        }
    }

    public func cancelByCloid(coin: String, cloid: Cloid) async throws(HyperliquidClientError) -> CancelStatus {
        try await cancelByCloid([CancelByCloidRequest(coin: coin, cloid: cloid)])[0]
    }

    /// Replaces a live order (it gets a new oid). A refusal throws `exchangeRejected` with the exchange's text.
    public func modify(_ request: ModifyRequest) async throws(HyperliquidClientError) {
        let wire = try await modifyWire(request, assets: try await assets())
        try await send(.modify(wire), batch: 1) { (body) throws(HyperliquidClientError) in
            try ExchangeDecoding.acknowledgement(body, what: "modify")
        }
    }

    /// Several modifies in one action; one status per modify.
    public func batchModify(_ requests: [ModifyRequest]) async throws(HyperliquidClientError) -> [OrderStatus] {
        guard !requests.isEmpty else { return [] }
        let assets = try await assets()
        var wires: [ModifyWire] = []
        for r in requests { wires.append(try await modifyWire(r, assets: assets)) }
        let count = wires.count
        return try await send(.batchModify(wires), batch: count) { (body) throws(HyperliquidClientError) in
            try ExchangeDecoding.orderStatuses(body, expected: count)
        }
    }

    /// The dead man's switch: cancel every open order at `time` (Unix ms, at least 5 s ahead); nil clears it.
    public func scheduleCancel(time: UInt64?) async throws(HyperliquidClientError) {
        try await send(.scheduleCancel(time: time), batch: 1) { (body) throws(HyperliquidClientError) in
            try ExchangeDecoding.acknowledgement(body, what: "scheduleCancel")
        }
    }

    public func updateLeverage(coin: String, leverage: Int, isCross: Bool) async throws(HyperliquidClientError) {
        let index = try await assets().resolve(coin).index
        try await send(.updateLeverage(asset: index, isCross: isCross, leverage: leverage), batch: 1) {
            (body) throws(HyperliquidClientError) in try ExchangeDecoding.acknowledgement(body, what: "updateLeverage")
        }
    }

    private func modifyWire(_ request: ModifyRequest, assets: AssetDirectory) async throws(HyperliquidClientError)
        -> ModifyWire
    {
        let (index, instrument) = try assets.resolve(request.order.coin)
        return ModifyWire(
            oid: request.target,
            order: try request.order.wire(asset: index, instrument: instrument, rounding: configuration.priceRounding))
    }

    // MARK: Plumbing

    private func info<T: Sendable>(
        _ request: KeyValuePairs<String, String>,
        decode: @escaping @Sendable ([UInt8]) throws(HyperliquidClientError) -> T
    ) async throws(HyperliquidClientError) -> T {
        try await info(request.map { ($0.key, WireValue.string($0.value)) }, decode: decode)
    }

    private func info<T: Sendable>(
        _ request: [(String, WireValue)], decode: @escaping @Sendable ([UInt8]) throws(HyperliquidClientError) -> T
    ) async throws(HyperliquidClientError) -> T {
        let type = request.first { $0.0 == "type" }?.1.stringValue ?? ""
        return try await info(.map(request.map { (key: $0.0, value: $0.1) }), type: type, decode: decode)
    }

    /// POST /info through the info dependency; the body is decoded inside the call so that a malformed
    /// answer counts against the breaker.
    private func info<T: Sendable>(
        _ request: WireValue, type: String, decode: @escaping @Sendable ([UInt8]) throws(HyperliquidClientError) -> T
    ) async throws(HyperliquidClientError) -> T {
        let body = request.jsonBytes()
        let transport = self.transport
        do {
            return try await infoDependency.call(.idempotent, weight: Self.infoWeight(type: type)) {
                let answer = try await transport.post(path: "/info", body: body)
                try Self.check(answer)
                return try decode(answer.body)
            }
        } catch {
            throw HyperliquidClientError.wrap(error)
        }
    }

    /// Signs `action` with a fresh nonce (after the rate limiter let it through) and POSTs it once.
    @discardableResult
    private func send<T: Sendable>(
        _ action: Action, batch: Int, decode: @escaping @Sendable ([UInt8]) throws(HyperliquidClientError) -> T
    ) async throws(HyperliquidClientError) -> T {
        guard let wallet else { throw .noWallet }
        let transport = self.transport
        let nonces = self.nonces
        let vault = configuration.vaultAddress
        let network = configuration.endpoint.signingNetwork
        do {
            return try await exchangeDependency.call(
                .nonIdempotent, weight: HyperliquidLimits.exchangeWeight(batchSize: batch)
            ) {
                let body: [UInt8]
                do throws(HyperliquidError) {
                    let nonce = try nonces.next()
                    body = try wallet.exchangeRequest(action, nonce: nonce, vaultAddress: vault, network: network)
                        .jsonBytes()
                } catch {
                    throw HyperliquidClientError.signing(error)
                }
                let answer = try await transport.post(path: "/exchange", body: body)
                try Self.check(answer)
                return try decode(answer.body)
            }
        } catch {
            throw HyperliquidClientError.wrap(error)
        }
    }

    /// Non-2xx answers as errors: 429 rate limited, 5xx server error, other 4xx a bad request.
    static func check(_ answer: HTTPAnswer) throws(HyperliquidClientError) {
        switch answer.status {
        case 200..<300: return
        case 429: throw .rateLimited(status: 429)
        case 500...: throw .serverError(status: answer.status, body: ResponseReader.excerpt(answer.body))
        default: throw .badRequest(status: answer.status, body: ResponseReader.excerpt(answer.body))
        }
    }

    /// The weight the exchange charges per item returned, taken from the limiter after the answer
    /// (best effort: in reject mode a charge the bucket cannot pay is dropped).
    private func chargeItems(_ count: Int, per: Int) {
        let extra = count / per
        guard extra > 0 else { return }
        _ = try? rateLimiter.reserve(weight: min(extra, configuration.rateLimit.capacity), now: clock.now)
    }
}

extension HyperliquidClient where C == ContinuousClock {
    /// The production client: continuous clock, system randomness.
    public convenience init(
        configuration: Configuration,
        wallet: Wallet? = nil,
        nonces: NonceManager = NonceManager(),
        httpClient: HTTPClient? = nil,
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        logger: Logger = Logger(label: "hyperliquid.client"),
        onBreakerTransition: @escaping CircuitBreaker<ContinuousClock.Instant>.Observer = { _ in }
    ) {
        self.init(
            configuration: configuration, wallet: wallet, nonces: nonces, httpClient: httpClient,
            clock: ContinuousClock(),
            metricsFactory: metricsFactory, random: SystemRandomNumberGenerator(), logger: logger,
            onBreakerTransition: onBreakerTransition)
    }
}

/// Cancel by exchange order id.
public struct CancelRequest: Sendable, Hashable {
    public var coin: String
    public var oid: UInt64
    public init(coin: String, oid: UInt64) {
        self.coin = coin
        self.oid = oid
    }
}

/// Cancel by client order id.
public struct CancelByCloidRequest: Sendable, Hashable {
    public var coin: String
    public var cloid: Cloid
    public init(coin: String, cloid: Cloid) {
        self.coin = coin
        self.cloid = cloid
    }
}

extension CircuitBreakerConfiguration {
    /// A breaker for the exchange over the last `window` calls: opens at 50 % failures (5xx, 429,
    /// timeouts, transport errors, malformed bodies; never the exchange's business refusals) or at 80 %
    /// calls slower than `slowCall`, stays open `openFor`, then lets `trialCalls` through.
    public static func hyperliquid(
        window: Int = 20, minimumCalls: Int = 10, slowCall: Duration = .seconds(3), openFor: Duration = .seconds(10),
        trialCalls: Int = 3
    ) -> CircuitBreakerConfiguration {
        CircuitBreakerConfiguration(
            failureRateThreshold: 50, slowCallRateThreshold: 80, slowCallDurationThreshold: slowCall,
            slidingWindow: .countBased(calls: window), minimumNumberOfCalls: min(minimumCalls, window),
            permittedCallsInHalfOpenState: trialCalls, waitInOpenState: .fixed(openFor),
            isFailure: HyperliquidClientError.isDependencyFailure)
    }
}

extension ResiliencePolicy {
    /// `/info` reads: idempotent, so retried (up to `attempts` in all) on transport errors and 5xx.
    public static func hyperliquidInfo(
        deadline: Duration = .seconds(5), breaker: CircuitBreakerConfiguration = .hyperliquid(), attempts: Int = 3,
        backoff: Backoff = .fullJitter(base: .milliseconds(100), cap: .seconds(1))
    ) -> ResiliencePolicy {
        ResiliencePolicy(
            deadline: deadline, circuitBreaker: breaker,
            retry: RetryPolicy(maxAttempts: attempts, backoff: backoff, isRetryable: HyperliquidClientError.isRetryable)
        )
    }

    /// `/exchange` actions: never retried (an order may be on the book although its answer was lost).
    public static func hyperliquidExchange(
        deadline: Duration = .seconds(10), breaker: CircuitBreakerConfiguration = .hyperliquid()
    ) -> ResiliencePolicy {
        ResiliencePolicy(deadline: deadline, circuitBreaker: breaker, retry: .never, retryBudget: nil)
    }
}
