import Foundation
import Hummingbird
import HummingbirdWebSocket
import Hyperliquid
import Logging
import Resilience
import Schema
import Synchronization
import Venue

/// Request context with WebSocket support and the client's IP (the rate-limit key).
struct SimContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<SimContext>
    let clientIP: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        clientIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// Weight-based limits per IP, like the exchange's: 1,200 per minute, 429 with a `null` body.
final class IPRateLimits: Sendable {
    private let limiters = Mutex<[String: RateLimiter<ContinuousClock.Instant>]>([:])
    private let refused = Mutex(0)
    let limit: RateLimit

    /// Requests answered 429 for their weight (injected faults not counted).
    var refusals: Int { refused.withLock { $0 } }

    init(limit: RateLimit = HyperliquidLimits.ipRateLimit) { self.limit = limit }

    private func limiter(_ ip: String) -> RateLimiter<ContinuousClock.Instant> {
        limiters.withLock { all in
            if let l = all[ip] { return l }
            let l = RateLimiter<ContinuousClock.Instant>(limit: limit, mode: .reject)
            all[ip] = l
            return l
        }
    }

    /// Takes `weight` now, or says no.
    func admit(ip: String, weight: Int) -> Bool {
        let admitted = (try? limiter(ip).reserve(weight: weight, now: .now)) != nil
        if !admitted { refused.withLock { $0 += 1 } }
        return admitted
    }

    /// Charges weight learnt after answering (items returned); never refuses.
    func charge(ip: String, weight: Int) {
        guard weight > 0 else { return }
        _ = try? limiter(ip).reserve(weight: min(weight, limit.capacity), now: .now)
    }
}

enum HTTPServer {
    static func response(_ reply: HTTPReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        return Response(
            status: .init(code: reply.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }

    static let tooManyRequests = HTTPReply(status: 429, body: "null")

    /// Weight of an /exchange body: 1 + floor(batch / 40).
    static func exchangeWeight(_ body: [UInt8]) -> Int {
        guard let value = try? WireValue(json: body), let action = value["action"] else { return 1 }
        let batch =
            action["orders"]?.arrayValue?.count ?? action["cancels"]?.arrayValue?.count
            ?? action["modifies"]?.arrayValue?.count ?? 1
        return HyperliquidLimits.exchangeWeight(batchSize: batch)
    }

    static func infoWeight(_ body: [UInt8]) -> Int {
        let type = (try? WireValue(json: body))?["type"]?.stringValue ?? ""
        return VenueCore.infoWeight(type: type, items: 0)
    }

    /// Applies faults, then the IP limit, then answers.
    static func guarded(
        _ faults: FaultInjector, _ limits: IPRateLimits, ip: String, weight: Int,
        _ answer: () async -> (HTTPReply, extraWeight: Int)
    ) async -> Response {
        switch faults.verdict(now: Date(), random: Double.random(in: 0..<1)) {
        case .rateLimited:
            return response(tooManyRequests)
        case .serverError(let status):
            return response(.text("Internal Server Error", status: status))
        case .proceed(let delay):
            if delay > .zero { try? await Task.sleep(for: delay) }
        }
        guard limits.admit(ip: ip, weight: weight) else { return response(tooManyRequests) }
        let (reply, extra) = await answer()
        limits.charge(ip: ip, weight: extra)
        return response(reply)
    }

    static func buildRouter(
        service: VenueService, faults: FaultInjector, limits: IPRateLimits, adminToken: String?, logger: Logger
    ) -> Router<SimContext> {
        let router = Router(context: SimContext.self)
        let maxBody = 4 << 20

        router.post("/info") { request, context -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: maxBody))
            let weight = infoWeight(body)
            return await guarded(faults, limits, ip: context.clientIP, weight: weight) {
                let (reply, total) = await service.info(body)
                return (reply, total - weight)
            }
        }
        router.post("/exchange") { request, context -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: maxBody))
            return await guarded(faults, limits, ip: context.clientIP, weight: exchangeWeight(body)) {
                (await service.exchange(body), 0)
            }
        }
        router.get("/health/live") { _, _ in response(.json(.object([("status", .string("live"))]))) }
        router.get("/health/ready") { _, _ -> Response in
            let ready = await service.isReady
            return response(.json(.object([("status", .string(ready ? "ready" : "starting"))]), status: ready ? 200 : 503))
        }

        router.ws("/ws") { _, _ in
            if case .rateLimited = faults.verdict(now: Date(), random: 1) { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            let hub = service.hub
            let (id, stream) = hub.register()
            defer { hub.unregister(id) }
            try await outbound.write(.text("Websocket connection established."))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in stream {
                        switch message {
                        case .text(let text): try await outbound.write(.text(text))
                        case .close:
                            try await outbound.close(.goingAway, reason: "dropped by fault injection")
                            return
                        }
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        await service.handleWebSocket(id, text)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }

        if let adminToken {
            addAdminRoutes(router, service: service, faults: faults, limits: limits, token: adminToken, logger: logger)
        }
        return router
    }

    static func addAdminRoutes(
        _ router: Router<SimContext>, service: VenueService, faults: FaultInjector, limits: IPRateLimits, token: String,
        logger: Logger
    ) {
        @Sendable func authorised(_ request: Request) -> Bool {
            request.headers[.authorization] == "Bearer \(token)"
        }
        let unauthorised = response(.json(.object([("error", .string("unauthorised"))]), status: 401))
        let admin = router.group("admin")
        admin.post("faults") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 16))
            guard let value = try? WireValue(json: body) else {
                return response(.json(.object([("error", .string("body must be JSON"))]), status: 400))
            }
            do {
                try faults.apply(value, now: Date())
            } catch {
                return response(.json(.object([("error", .string("\(error)"))]), status: 400))
            }
            var dropped = 0
            if value["dropWebSockets"]?.boolValue == true { dropped = service.hub.closeAll() }
            logger.warning("faults injected: \(value.jsonString())")
            let active = faults.current.active(at: Date())
            return response(
                .json(
                    .object([
                        ("faults", .object(active.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
                        ("droppedWebSockets", .integer(dropped)),
                    ])))
        }
        admin.delete("faults") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            faults.clear()
            logger.info("faults cleared")
            return response(.json(.object([("faults", .object([]))])))
        }
        admin.get("status") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            return response(
                .json(await service.status(faults: faults.current.active(at: Date()), ipLimitRefusals: limits.refusals)))
        }
        admin.post("fund") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 16))
            guard let value = try? WireValue(json: body), let address = value["address"]?.stringValue.flatMap(parseAddress),
                let amount = fundAmount(value["amount"]), amount.isPositive
            else {
                return response(.json(.object([("error", .string("need {\"address\": \"0x…\", \"amount\": \"1000\"}"))]), status: 400))
            }
            do { try await service.credit(address, amount: amount) } catch {
                return response(.json(.object([("error", .string("\(error)"))]), status: 500))
            }
            logger.info("credited \(Wire.plain(amount)) USDC to \(address.lowercased)")
            return response(.json(.object([("address", .string(address.lowercased)), ("credited", .usd(amount))])))
        }
        addMarketAdminRoutes(admin, service: service, authorised: authorised, logger: logger)
    }

    /// `POST /admin/mark {"coin": "BTC", "px": "95000"}` pins a coin's mark (triggers follow it);
    /// `"px": null` gives the mark back to the market. `POST /admin/funding` pays funding now.
    static func addMarketAdminRoutes(
        _ admin: RouterGroup<SimContext>, service: VenueService, authorised: @escaping @Sendable (Request) -> Bool,
        logger: Logger
    ) {
        let unauthorised = response(.json(.object([("error", .string("unauthorised"))]), status: 401))
        admin.post("mark") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 16))
            let usage = response(
                .json(.object([("error", .string("need {\"coin\": \"BTC\", \"px\": \"95000\" or null}"))]), status: 400))
            guard let value = try? WireValue(json: body), let coin = value["coin"]?.stringValue else { return usage }
            var px: Amount?
            if let raw = value["px"], !raw.isNull {
                guard let amount = fundAmount(raw), amount.isPositive else { return usage }
                px = amount
            }
            let known: Bool
            do { known = try await service.setMark(coin: coin, px: px) } catch {
                return response(.json(.object([("error", .string("\(error)"))]), status: 500))
            }
            guard known else {
                return response(.json(.object([("error", .string("unknown coin \(coin)"))]), status: 400))
            }
            logger.info("mark of \(coin) \(px.map { "pinned at " + Wire.plain($0) } ?? "released")")
            return response(.json(.object([("coin", .string(coin)), ("mark", px.map { .decimal($0) } ?? .null)])))
        }
        admin.post("funding") { request, _ -> Response in
            guard authorised(request) else { return unauthorised }
            let payments: Int
            do { payments = try await service.payFundingNow() } catch {
                return response(.json(.object([("error", .string("\(error)"))]), status: 500))
            }
            logger.info("funding paid now: \(payments) payments")
            return response(.json(.object([("payments", .integer(payments))])))
        }
    }

    static func fundAmount(_ v: WireValue?) -> Amount? {
        switch v {
        case .string(let s): Wire.amount(s)
        case .int(let i): Amount(Int(i))
        case .double(let d): Amount(d)
        default: nil
        }
    }
}
