import Foundation
import Hyperliquid
import Resilience
import Schema
import Synchronization
import Testing

/// A transport that answers from a closure and records every request (no server, no sockets).
final class StubTransport: HyperliquidTransport {
    typealias Responder = @Sendable (_ path: String, _ body: WireValue, _ call: Int) async throws -> HTTPAnswer
    private let log = Mutex<[(path: String, body: WireValue)]>([])
    private let responder: Responder

    init(_ responder: @escaping Responder = StubTransport.venue) { self.responder = responder }

    func post(path: String, body: [UInt8]) async throws -> HTTPAnswer {
        let parsed = (try? WireValue(json: body)) ?? .null
        let call = log.withLock { log in
            log.append((path, parsed))
            return log.count
        }
        return try await responder(path, parsed, call)
    }

    var requests: [(path: String, body: WireValue)] { log.withLock { $0 } }
    func count(_ path: String) -> Int { log.withLock { $0.filter { $0.path == path }.count } }

    static func json(_ text: String, status: Int = 200) -> HTTPAnswer {
        HTTPAnswer(status: status, body: Array(text.utf8))
    }

    static let meta =
        #"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":40},{"name":"ETH","szDecimals":4,"maxLeverage":25},{"name":"SOL","szDecimals":2,"maxLeverage":20}]}"#

    /// A tiny venue: meta, allMids, and every order resting.
    static let venue: Responder = { path, body, _ in
        if path == "/info" {
            switch body["type"]?.stringValue {
            case "meta": return json(meta)
            default: return json(#"{"BTC":"105000.5"}"#)
            }
        }
        let orders = body["action"]?["orders"]?.arrayValue?.count ?? 1
        let statuses = (0..<orders).map { #"{"resting":{"oid":\#(1000 + $0)}}"# }.joined(separator: ",")
        return json(#"{"status":"ok","response":{"type":"order","data":{"statuses":[\#(statuses)]}}}"#)
    }
}

/// Waits (in real time, bounded) until `count` tasks sleep on the manual clock.
func sleepers(_ clock: TestClock, _ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await poll(
        "\(count) sleepers on the manual clock", timeout: .seconds(5), interval: .milliseconds(1),
        sourceLocation: sourceLocation
    ) {
        clock.sleeperCount >= count
    }
}

/// The client's protections driven by a manual clock and a stub transport: weight-aware rate limiting
/// (wait and reject), retries of reads only, breaker classification, deadlines, signing.
@Suite(.timeLimit(.minutes(1))) struct ClientResilienceTests {
    static let wallet = try! Wallet(privateKeyHex: String(repeating: "5a", count: 32))

    static func client(
        _ transport: StubTransport, clock: TestClock, mode: RateLimitMode = .wait(maximum: .seconds(5)),
        wallet: Wallet? = ClientResilienceTests.wallet,
        configure: (inout HyperliquidClient<TestClock>.Configuration) -> Void = { _ in },
        onTransition: @escaping CircuitBreaker<TestClock.Instant>.Observer = { _ in }
    ) -> HyperliquidClient<TestClock> {
        var configuration = HyperliquidClient<TestClock>.Configuration(
            endpoint: .paper(baseURL: "http://stub"),
            infoPolicy: .hyperliquidInfo(deadline: .seconds(30)),
            exchangePolicy: .hyperliquidExchange(deadline: .seconds(30)),
            rateLimitMode: mode)
        configure(&configuration)
        return HyperliquidClient(
            configuration: configuration, wallet: wallet,
            nonces: NonceManager(clock: { 1_737_900_000_000 }), transport: transport, clock: clock,
            random: SeededRandom(seed: 7), onBreakerTransition: onTransition)
    }

    // MARK: Rate limiter

    @Test func burstBeyond1200WeightWaitsInWaitMode() async throws {
        let clock = TestClock()
        let transport = StubTransport()
        let client = Self.client(transport, clock: clock)
        #expect(client.rateLimiter.limit == HyperliquidLimits.ipRateLimit)
        // 60 × meta (weight 20) spend the whole 1,200 at once.
        for _ in 0..<60 { _ = try await client.meta() }
        #expect(transport.count("/info") == 60)
        #expect(client.rateLimiter.availableTokens(now: clock.now) == 0)

        let late = Task { try await client.meta() }
        // Its deadline timer and its wait for 20 tokens (1 s at 1,200 / min).
        try await sleepers(clock, 2)
        #expect(transport.count("/info") == 60, "the 61st request went out before its tokens were there")
        #expect(clock.pendingDeadlines.first == clock.now.advanced(by: .seconds(1)))
        clock.advance(by: .milliseconds(999))
        #expect(transport.count("/info") == 60)
        clock.advance(by: .milliseconds(1))
        _ = try await late.value
        #expect(transport.count("/info") == 61)
    }

    @Test func burstBeyond1200WeightIsRejectedInRejectMode() async throws {
        let clock = TestClock()
        let transport = StubTransport()
        let client = Self.client(transport, clock: clock, mode: .reject)
        for _ in 0..<600 { _ = try await client.allMids() }  // weight 2 each
        #expect(transport.count("/info") == 600)
        await #expect(
            throws: HyperliquidClientError.rateLimitedLocally(
                .insufficientTokens(weight: 2, retryAfter: .milliseconds(100)))
        ) {
            _ = try await client.allMids()
        }
        await #expect(
            throws: HyperliquidClientError.rateLimitedLocally(.insufficientTokens(weight: 20, retryAfter: .seconds(1)))
        ) {
            _ = try await client.meta()
        }
        #expect(transport.count("/info") == 600)
        // A local refusal says nothing about the exchange: the breaker saw nothing.
        let status = client.infoDependency.status()
        #expect(status.breaker.state == .closed && status.breaker.failedCalls == 0)
        clock.advance(by: .milliseconds(100))
        _ = try await client.allMids()
        #expect(transport.count("/info") == 601)
    }

    @Test func exchangeWeightGrowsWithTheBatch() async throws {
        let clock = TestClock()
        let transport = StubTransport()
        let client = Self.client(transport, clock: clock)
        _ = try await client.assets()  // meta: 20
        #expect(client.rateLimiter.availableTokens(now: clock.now) == 1180)
        let orders = (0..<80).map { _ in OrderRequest.limit("BTC", isBuy: true, size: "0.001", price: "90000") }
        let statuses = try await client.order(orders)
        #expect(statuses.count == 80)
        #expect(statuses.allSatisfy { if case .resting = $0 { true } else { false } })
        #expect(client.rateLimiter.availableTokens(now: clock.now) == 1180 - 3)  // 1 + floor(80 / 40)
        _ = try await client.order(OrderRequest.limit("BTC", isBuy: true, size: "0.001", price: "90000"))
        #expect(client.rateLimiter.availableTokens(now: clock.now) == 1180 - 4)
    }

    // MARK: Signing and wire

    @Test func actionsAreSignedRoundedAndUseFreshNonces() async throws {
        let clock = TestClock()
        let transport = StubTransport()
        let client = Self.client(transport, clock: clock)
        let cloid = Cloid(intentId: "intent-1")
        _ = try await client.order([
            .limit("BTC", isBuy: true, size: "0.0012345", price: "105055.55", tif: .alo, cloid: cloid),
            .limit("SOL", isBuy: false, size: "2", price: "201.2349", tif: .ioc, reduceOnly: true),
        ])
        _ = try await client.order(.limit("ETH", isBuy: true, size: "0.5", price: "3300"))
        let sent = transport.requests.filter { $0.path == "/exchange" }.map(\.body)
        #expect(sent.count == 2)
        var nonces: [UInt64] = []
        for body in sent {
            let request = try ExchangeRequest(json: body.jsonBytes())
            #expect(try L1Signing.recoverSigner(request: request, network: .testnet) == Self.wallet.address)
            nonces.append(request.nonce)
        }
        #expect(nonces[1] > nonces[0])
        guard case .order(let wires, let grouping, nil) = try Action(wire: sent[0]["action"]!) else {
            Issue.record("not an order action")
            return
        }
        #expect(grouping == .na)
        #expect(
            wires == [
                OrderWire(
                    asset: 0, isBuy: true, limitPx: "105056", size: "0.00123", orderType: .limit(.alo), cloid: cloid),
                OrderWire(
                    asset: 2, isBuy: false, limitPx: "201.23", size: "2", reduceOnly: true, orderType: .limit(.ioc)),
            ])
        #expect(sent[0]["vaultAddress"]?.isNull == true)
    }

    @Test func refusedBeforeSending() async throws {
        let clock = TestClock()
        let transport = StubTransport()
        let readOnly = Self.client(transport, clock: clock, wallet: nil)
        await #expect(throws: HyperliquidClientError.noWallet) { try await readOnly.scheduleCancel(time: nil) }
        let client = Self.client(transport, clock: clock)
        await #expect(throws: HyperliquidClientError.invalidRequest("unknown coin DOGE")) {
            _ = try await client.order(.limit("DOGE", isBuy: true, size: "1", price: "1"))
        }
        #expect(transport.count("/exchange") == 0)
        #expect(try await client.order([]).isEmpty)
    }

    // MARK: Breaker, retries, deadlines

    @Test func businessRefusalsDoNotTripTheBreakerButOutagesDo() async throws {
        let clock = TestClock()
        let mode = Mutex("err")
        let transport = StubTransport { path, body, _ in
            if path == "/info" { return StubTransport.json(StubTransport.meta) }
            switch mode.withLock({ $0 }) {
            case "err":
                return StubTransport.json(#"{"status":"err","response":"Insufficient margin to place order. asset=0"}"#)
            case "422":
                return StubTransport.json("Failed to deserialize the JSON body into the target type", status: 422)
            default: return StubTransport.json("Bad Gateway", status: 502)
            }
        }
        let transitions = Mutex<[BreakerState]>([])
        let client = Self.client(
            transport, clock: clock,
            configure: { $0.exchangePolicy = .hyperliquidExchange(breaker: .hyperliquid(window: 4, minimumCalls: 4)) },
            onTransition: { t in transitions.withLock { $0.append(t.to) } })
        for _ in 0..<6 {
            await #expect(
                throws: HyperliquidClientError.exchangeRejected("Insufficient margin to place order. asset=0")
            ) {
                try await client.updateLeverage(coin: "BTC", leverage: 5, isCross: true)
            }
        }
        mode.withLock { $0 = "422" }
        for _ in 0..<4 {
            await #expect(
                throws: HyperliquidClientError.badRequest(
                    status: 422, body: "Failed to deserialize the JSON body into the target type")
            ) {
                try await client.scheduleCancel(time: nil)
            }
        }
        #expect(client.exchangeDependency.breaker.state == .closed)
        #expect(transitions.withLock { $0 }.isEmpty)

        // The window holds four successes; the second 502 makes it 50 % failures, which opens it.
        mode.withLock { $0 = "502" }
        for _ in 0..<2 {
            await #expect(throws: HyperliquidClientError.serverError(status: 502, body: "Bad Gateway")) {
                try await client.scheduleCancel(time: nil)
            }
        }
        #expect(client.exchangeDependency.breaker.state == .open)
        #expect(transitions.withLock { $0 } == [.open])
        #expect(transport.count("/exchange") == 12, "non-idempotent actions are sent exactly once each")
        await #expect(throws: HyperliquidClientError.circuitOpen(dependency: "hyperliquid.exchange")) {
            try await client.scheduleCancel(time: nil)
        }
        #expect(transport.count("/exchange") == 12, "an open breaker fails fast without sending")
        // Reads have their own breaker.
        #expect(client.infoDependency.breaker.state == .closed)
    }

    @Test func readsAreRetriedOnServerErrorsButNotOn429() async throws {
        let clock = TestClock()
        let transport = StubTransport { path, body, call in
            switch body["type"]?.stringValue {
            case "allMids":
                return call == 1 ? StubTransport.json("oops", status: 500) : StubTransport.json(#"{"BTC":"1.5"}"#)
            default: return StubTransport.json("null", status: 429)
            }
        }
        let client = Self.client(
            transport, clock: clock,
            configure: {
                $0.infoPolicy = ResiliencePolicy(
                    deadline: .seconds(30), circuitBreaker: .hyperliquid(),
                    retry: RetryPolicy(
                        maxAttempts: 3, backoff: .exponential(base: .milliseconds(10), cap: .milliseconds(10)),
                        isRetryable: HyperliquidClientError.isRetryable))
            })
        let mids = Task { try await client.allMids() }
        try await sleepers(clock, 2)  // deadline timer + backoff
        clock.advance(by: .milliseconds(10))
        #expect(try await mids.value == ["BTC": "1.5"])
        #expect(transport.count("/info") == 2)

        await #expect(throws: HyperliquidClientError.rateLimited(status: 429)) { _ = try await client.meta() }
        #expect(transport.count("/info") == 3, "429 is not retried")
    }

    @Test func aStalledReadHitsItsDeadline() async throws {
        let clock = TestClock()
        let transport = StubTransport { _, _, _ in
            try await Task.sleep(for: .seconds(3600))
            return StubTransport.json("{}")
        }
        let client = Self.client(
            transport, clock: clock, configure: { $0.infoPolicy = .hyperliquidInfo(deadline: .seconds(2)) })
        let call = Task { try await client.allMids() }
        try await sleepers(clock, 1)
        clock.advance(by: .seconds(2))
        await #expect(throws: HyperliquidClientError.deadlineExceeded(.seconds(2))) { _ = try await call.value }
        let snapshot = client.infoDependency.breaker.snapshot(now: clock.now)
        #expect(snapshot.failedCalls == 1 && snapshot.slowCalls == 1)
    }
}
