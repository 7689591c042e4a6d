import Foundation
import Hyperliquid
import Market
import Resilience
import Schema
import Testing

/// The client against a real exchange-sim process (`--market synthetic --seed 7`, the trader funded
/// with 100,000 USDC). Each test starts its own simulator and always stops it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ClientTests {
    static let trader = SimProcess.trader.address

    static func nowMs() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// A price well below the market, valid on BTC's tick.
    static func farBelow(_ book: HyperliquidBook) throws -> Amount {
        let bid = try #require(book.bestBid)
        return Instrument(symbol: "BTC", szDecimals: 5).roundPrice(bid * "0.9", .down)
    }

    // MARK: /info

    @Test func everyInfoReadDecodes() async throws {
        try await withSimAndClient { _, client in
            let meta = try await client.meta()
            // The listing may grow; its first three are fixed.
            #expect(Array(meta.universe.map(\.name).prefix(3)) == ["BTC", "ETH", "SOL"])
            #expect(Array(meta.universe.map(\.szDecimals).prefix(3)) == [5, 4, 2])
            let assets = try await client.assets()
            #expect(assets.index(of: "SOL") == 2 && assets.instrument("ETH")?.szDecimals == 4)

            let (universe, contexts) = try await client.metaAndAssetCtxs()
            #expect(universe == meta && contexts.count == meta.universe.count)
            #expect(contexts[0].markPx?.isPositive == true && contexts[0].funding == "0.0000125")

            let mids = try await client.allMids()
            #expect(Set(mids.keys) == Set(meta.universe.map(\.name)))
            let book = try await client.l2Book(coin: "BTC")
            #expect(book.coin == "BTC" && !book.bids.isEmpty && !book.asks.isEmpty)
            #expect(book.bids.map(\.price) == book.bids.map(\.price).sorted(by: >))
            #expect(try #require(book.bestBid) < (try #require(book.bestAsk)))
            let mid = try #require(mids["BTC"])
            #expect(mid > book.bestBid! * "0.99" && mid < book.bestAsk! * "1.01")
            let aggregated = try await client.l2Book(coin: "BTC", nSigFigs: 2)
            #expect(aggregated.bids.allSatisfy { $0.price.rounded(scale: -3) == $0.price })
            await #expect(throws: HyperliquidClientError.invalidRequest("l2Book: unknown coin NOPE")) {
                _ = try await client.l2Book(coin: "NOPE")
            }

            let state = try await client.clearinghouseState(user: Self.trader)
            #expect(state.marginSummary.accountValue == 100_000)
            #expect(state.withdrawable == 100_000 && state.assetPositions.isEmpty)
            #expect(try await client.openOrders(user: Self.trader).isEmpty)
            #expect(try await client.userFills(user: Self.trader).isEmpty)
            #expect(try await client.userFillsByTime(user: Self.trader, startTime: 0).isEmpty)
            #expect(try await client.orderStatus(user: Self.trader, oid: 12_345) == .unknownOid)
            #expect(try await client.orderStatus(user: Self.trader, cloid: Cloid(7)) == .unknownOid)

            let now = Self.nowMs()
            var candles: [ExchangeCandle] = []
            try await poll("a BTC candle") {
                candles = try await client.candleSnapshot(
                    coin: "BTC", interval: .m1, start: now - 3_600_000, end: now + 60_000)
                return !candles.isEmpty
            }
            for candle in candles {
                #expect(candle.coin == "BTC" && candle.interval == "1m")
                #expect(
                    candle.low <= candle.open && candle.open <= candle.high
                        && candle.closeTime == candle.openTime + 59_999)
            }
        }
    }

    // MARK: Orders

    @Test func gtcRestsAndIsCancelled() async throws {
        try await withSimAndClient { _, client in
            let price = try Self.farBelow(try await client.l2Book(coin: "BTC"))
            let cloid = Cloid(intentId: "gtc-\(UUID())")
            let status = try await client.order(.limit("BTC", isBuy: true, size: "0.001", price: price, cloid: cloid))
            guard case .resting(let oid, let echoed) = status else {
                Issue.record("expected resting, got \(status)")
                return
            }
            #expect(echoed == cloid)
            let open = try await client.openOrders(user: Self.trader)
            #expect(open.map(\.oid) == [oid])
            #expect(open.first?.limitPx == price && open.first?.sz == "0.001" && open.first?.side == .buy)
            #expect(open.first?.cloid == cloid)
            for lookup in [
                try await client.orderStatus(user: Self.trader, oid: oid),
                try await client.orderStatus(user: Self.trader, cloid: cloid),
            ] {
                #expect(lookup.status == .open)
                #expect(lookup.order?.oid == oid && lookup.order?.tif == "Gtc" && lookup.order?.isTrigger == false)
            }

            #expect(try await client.cancel(coin: "BTC", oid: oid) == .success)
            #expect(try await client.orderStatus(user: Self.trader, oid: oid).status == .canceled)
            #expect(try await client.openOrders(user: Self.trader).isEmpty)
            #expect(
                try await client.cancel(coin: "BTC", oid: oid)
                    == .error("Order was never placed, already canceled, or filled. asset=0"))
        }
    }

    @Test func cancelByCloid() async throws {
        try await withSimAndClient { _, client in
            let price = try Self.farBelow(try await client.l2Book(coin: "BTC"))
            let cloid = Cloid(intentId: "by-cloid-\(UUID())")
            let other = Cloid(intentId: "never-placed-\(UUID())")
            guard
                case .resting(let oid, _) = try await client.order(
                    .limit("BTC", isBuy: true, size: "0.001", price: price, cloid: cloid))
            else {
                Issue.record("order did not rest")
                return
            }
            let statuses = try await client.cancelByCloid([
                CancelByCloidRequest(coin: "BTC", cloid: cloid), CancelByCloidRequest(coin: "BTC", cloid: other),
            ])
            #expect(statuses == [.success, .error("Order was never placed, already canceled, or filled. asset=0")])
            #expect(try await client.orderStatus(user: Self.trader, oid: oid).status == .canceled)
        }
    }

    @Test func iocFillsAndTheFillIsReported() async throws {
        try await withSimAndClient { _, client in
            try await client.updateLeverage(coin: "BTC", leverage: 10, isCross: true)
            await #expect(throws: HyperliquidClientError.exchangeRejected("Invalid leverage value")) {
                try await client.updateLeverage(coin: "BTC", leverage: 100, isCross: true)
            }
            let before = Self.nowMs()
            let book = try await client.l2Book(coin: "BTC")
            let ask = try #require(book.bestAsk)
            let cloid = Cloid(intentId: "ioc-\(UUID())")
            let status = try await client.order(
                .limit("BTC", isBuy: true, size: "0.002", price: ask * "1.01", tif: .ioc, cloid: cloid))
            guard case .filled(let totalSz, let avgPx, let oid, let echoed) = status else {
                Issue.record("expected filled, got \(status)")
                return
            }
            #expect(totalSz == "0.002" && echoed == cloid)
            #expect(avgPx >= ask && avgPx <= ask * "1.01")

            let fills = try await client.userFills(user: Self.trader)
            let mine = fills.filter { $0.oid == oid }
            #expect(!mine.isEmpty)
            #expect(mine.map(\.sz).sum() == "0.002")
            #expect(
                mine.allSatisfy {
                    $0.side == .buy && $0.crossed && $0.coin == "BTC" && $0.cloid == cloid && $0.fee.isPositive
                })
            #expect(mine.first?.dir == "Open Long")

            let inWindow = try await client.userFillsByTime(
                user: Self.trader, startTime: before, endTime: Self.nowMs() + 1_000)
            #expect(inWindow.map(\.tid).sorted() == mine.map(\.tid).sorted())
            let later = (mine.map(\.time).max() ?? 0) + 1
            #expect(try await client.userFillsByTime(user: Self.trader, startTime: later).isEmpty)

            let state = try await client.clearinghouseState(user: Self.trader)
            let position = try #require(state.position("BTC"))
            #expect(position.szi == "0.002")
            #expect(position.leverage.value == 10 && position.leverage.isCross)
            #expect(try await client.orderStatus(user: Self.trader, oid: oid).status == .filled)

            // Reduce-only now reduces: a sell of more than the position fills only the position.
            let bid = try #require(try await client.l2Book(coin: "BTC").bestBid)
            let close = try await client.order(
                .limit("BTC", isBuy: false, size: "0.005", price: bid * "0.99", tif: .ioc, reduceOnly: true))
            guard case .filled(let closed, _, _, nil) = close else {
                Issue.record("expected the reduce-only close to fill, got \(close)")
                return
            }
            #expect(closed == "0.002")
            #expect(try await client.clearinghouseState(user: Self.trader).position("BTC") == nil)
        }
    }

    @Test func refusedOrdersCarryTheExchangesText() async throws {
        try await withSimAndClient { _, client in
            let book = try await client.l2Book(coin: "BTC")
            let ask = try #require(book.bestAsk)
            let statuses = try await client.order([
                // Post-only at the ask would take.
                .limit("BTC", isBuy: true, size: "0.001", price: ask, tif: .alo),
                // Reduce-only with no position.
                .limit("BTC", isBuy: false, size: "0.001", price: ask, tif: .gtc, reduceOnly: true),
                // $4.50 of BTC.
                .limit("BTC", isBuy: true, size: "0.00005", price: try Self.farBelow(book), tif: .gtc),
                // Ioc far from the market.
                .limit("BTC", isBuy: true, size: "0.001", price: try Self.farBelow(book), tif: .ioc),
            ])
            #expect(statuses.count == 4)
            let alo = try #require(statuses[0].errorMessage)
            #expect(alo.hasPrefix("Post only order would have immediately matched, bbo was "), "\(alo)")
            #expect(alo.hasSuffix(" asset=0"))
            #expect(statuses[1] == .error("Reduce only order would increase position. asset=0"))
            #expect(statuses[2] == .error("Order must have minimum value of $10."))
            #expect(statuses[3] == .error("Order could not immediately match against any resting orders. asset=0"))
            #expect(try await client.openOrders(user: Self.trader).isEmpty)
        }
    }

    @Test func modifyAndBatchModify() async throws {
        try await withSimAndClient { _, client in
            let price = try Self.farBelow(try await client.l2Book(coin: "BTC"))
            let cloidB = Cloid(intentId: "b-\(UUID())")
            let placed = try await client.order([
                .limit("BTC", isBuy: true, size: "0.001", price: price),
                .limit("BTC", isBuy: true, size: "0.001", price: price - 10, cloid: cloidB),
                .limit("ETH", isBuy: true, size: "0.01", price: "3000"),
            ])
            let oids = placed.compactMap(\.oid)
            try #require(oids.count == 3, "\(placed)")

            try await client.modify(
                ModifyRequest(
                    target: .oid(oids[0]), order: .limit("BTC", isBuy: true, size: "0.002", price: price + 10)))
            let afterModify = try await client.openOrders(user: Self.trader)
            #expect(afterModify.count == 3)
            let moved = try #require(afterModify.first { $0.limitPx == price + 10 })
            #expect(moved.oid != oids[0] && moved.sz == "0.002")
            #expect(try await client.orderStatus(user: Self.trader, oid: oids[0]).status == .canceled)
            await #expect(throws: HyperliquidClientError.exchangeRejected("Cannot modify canceled or filled order.")) {
                try await client.modify(
                    ModifyRequest(target: .oid(oids[0]), order: .limit("BTC", isBuy: true, size: "0.001", price: price))
                )
            }

            let statuses = try await client.batchModify([
                ModifyRequest(
                    target: .cloid(cloidB),
                    order: .limit("BTC", isBuy: true, size: "0.001", price: price - 20, cloid: cloidB)),
                ModifyRequest(target: .oid(oids[2]), order: .limit("ETH", isBuy: true, size: "0.02", price: "3001")),
                ModifyRequest(target: .oid(999), order: .limit("ETH", isBuy: true, size: "0.02", price: "3001")),
            ])
            #expect(statuses.count == 3)
            guard case .resting(let newB, let echoed) = statuses[0], case .resting(let newEth, nil) = statuses[1] else {
                Issue.record("batchModify did not rest both: \(statuses)")
                return
            }
            #expect(echoed == cloidB && newB != oids[1] && newEth != oids[2])
            #expect(statuses[2] == .error("Cannot modify canceled or filled order."))
            let open = try await client.openOrders(user: Self.trader)
            #expect(Set(open.map(\.oid)) == [moved.oid, newB, newEth])
            #expect(
                open.first { $0.oid == newEth }?.limitPx == "3001"
                    && open.first { $0.oid == newB }?.limitPx == price - 20)
        }
    }

    @Test func triggersGroupingAndScheduleCancel() async throws {
        try await withSimAndClient { _, client in
            let book = try await client.l2Book(coin: "BTC")
            let bid = try #require(book.bestBid)
            let entry = try Self.farBelow(book)
            let statuses = try await client.order(
                [
                    .limit("BTC", isBuy: true, size: "0.001", price: entry),
                    .trigger(
                        "BTC", isBuy: false, size: "0.001", limitPrice: bid * "1.1", triggerPrice: bid * "1.1",
                        isMarket: true, tpsl: .tp),
                ], grouping: .normalTpsl)
            #expect(statuses.count == 2)
            #expect(statuses[0].oid != nil)
            #expect(statuses[1] == .waitingForFill)

            let stop = try await client.order(
                .trigger(
                    "BTC", isBuy: false, size: "0.001", limitPrice: bid * "0.9", triggerPrice: bid * "0.95",
                    isMarket: true, tpsl: .sl, reduceOnly: false))
            let stopOid = try #require(stop.oid, "\(stop)")
            let lookup = try await client.orderStatus(user: Self.trader, oid: stopOid)
            #expect(lookup.order?.isTrigger == true && lookup.order?.orderType == "Stop Market")
            #expect(lookup.order?.triggerPx == Instrument(symbol: "BTC", szDecimals: 5).roundPrice(bid * "0.95"))
            // The TP waits for its entry to fill: it is not on the book yet, so openOrders lists two.
            #expect(try await client.openOrders(user: Self.trader).count == 2)

            try await client.scheduleCancel(time: Self.nowMs() + 30_000)
            await #expect(
                throws: HyperliquidClientError.exchangeRejected(
                    "Scheduled cancel time too early, must be at least 5 seconds from now.")
            ) {
                try await client.scheduleCancel(time: Self.nowMs() + 1_000)
            }
            try await client.scheduleCancel(time: nil)
        }
    }

    // MARK: Rate limit, live

    @Test func liveBurstStaysUnderTheExchangesLimit() async throws {
        try await withSimAndClient(waitForMarket: false, configure: { $0.rateLimitMode = .reject }) { sim, client in
            // 60 × meta (weight 20) is the whole 1,200 budget; the 61st is refused here, not by the exchange.
            for i in 0..<60 {
                do {
                    _ = try await client.meta()
                } catch {
                    Issue.record("call \(i + 1) of the budget failed: \(error)")
                    return
                }
            }
            await #expect(throws: HyperliquidClientError.self) { _ = try await client.meta() }
            do {
                _ = try await client.meta()
            } catch {
                guard case .rateLimitedLocally(.insufficientTokens(weight: 20, _)) = error as? HyperliquidClientError
                else {
                    Issue.record("expected a local refusal, got \(error)")
                    return
                }
            }
            // The exchange's own budget is indeed spent: a client without the limiter is refused there.
            let unlimited = makeClient(
                sim, configure: { $0.rateLimit = RateLimit(capacity: 100_000, refillAmount: 100_000, per: .seconds(1)) }
            )
            var refused = false
            for _ in 0..<5 where !refused {
                do {
                    _ = try await unlimited.meta()
                } catch HyperliquidClientError.rateLimited(status: 429) {
                    refused = true
                }
            }
            try await unlimited.shutdown()
            #expect(refused, "the exchange still had budget: the burst was not at the 1,200 edge")
        }
    }

    // MARK: Outages

    /// Short breaker waits so that an outage opens and closes the breaker within seconds.
    static func outagePolicy(
        _ configuration: inout HyperliquidClient<ContinuousClock>.Configuration, deadline: Duration
    ) {
        configuration.infoPolicy = .hyperliquidInfo(
            deadline: deadline,
            breaker: .hyperliquid(window: 4, minimumCalls: 4, openFor: .milliseconds(500), trialCalls: 2), attempts: 1)
    }

    @Test func serverErrorsOpenTheBreakerAndItRecovers() async throws {
        let transitions = TransitionLog()
        try await withSimAndClient(
            admin: true, configure: { Self.outagePolicy(&$0, deadline: .seconds(2)) },
            onTransition: transitions.observer
        ) { sim, client in
            try await sim.inject(#"{"error5xx": {"rate": 1.0, "seconds": 5}}"#)
            try await Self.expectOutageOpensBreaker(client) { error in
                if case .serverError(status: 500, _) = error { true } else { false }
            }
            #expect(transitions.contains(.closed, .open))
            try await Self.expectRecovery(client, transitions)
        }
    }

    @Test func aStallOpensTheBreakerAndItRecovers() async throws {
        let transitions = TransitionLog()
        try await withSimAndClient(
            admin: true, configure: { Self.outagePolicy(&$0, deadline: .milliseconds(400)) },
            onTransition: transitions.observer
        ) { sim, client in
            try await sim.inject(#"{"stall": {"seconds": 5}}"#)
            try await Self.expectOutageOpensBreaker(client) { error in
                if case .deadlineExceeded = error { true } else { false }
            }
            #expect(transitions.contains(.closed, .open))
            try await Self.expectRecovery(client, transitions)
        }
    }

    /// Reads fail with the outage's error until the breaker opens; then they fail fast.
    static func expectOutageOpensBreaker(
        _ client: HyperliquidClient<ContinuousClock>, sourceLocation: SourceLocation = #_sourceLocation,
        isOutage: (HyperliquidClientError) -> Bool
    ) async throws {
        var outageErrors = 0
        for _ in 0..<10 {
            do {
                _ = try await client.allMids()
                Issue.record("a read succeeded during the outage", sourceLocation: sourceLocation)
            } catch HyperliquidClientError.circuitOpen(let dependency) {
                #expect(dependency == "hyperliquid.info", sourceLocation: sourceLocation)
                #expect(outageErrors >= 2, "opened after \(outageErrors) failures", sourceLocation: sourceLocation)
                let start = ContinuousClock.now
                await #expect(throws: HyperliquidClientError.circuitOpen(dependency: "hyperliquid.info")) {
                    _ = try await client.allMids()
                }
                #expect(
                    start.duration(to: .now) < .milliseconds(100), "an open breaker answers at once",
                    sourceLocation: sourceLocation)
                return
            } catch {
                #expect(isOutage(error), "unexpected \(error)", sourceLocation: sourceLocation)
                outageErrors += 1
            }
        }
        Issue.record("the breaker never opened", sourceLocation: sourceLocation)
    }

    /// After the outage, trial calls succeed and the breaker closes.
    static func expectRecovery(_ client: HyperliquidClient<ContinuousClock>, _ transitions: TransitionLog) async throws
    {
        try await poll("reads to succeed again", timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await client.allMids()) != nil && client.infoDependency.breaker.state == .closed
        }
        #expect(transitions.contains(.open, .halfOpen))
        #expect(transitions.contains(.halfOpen, .closed))
        #expect(transitions.states.last == .closed)
        #expect(try await client.l2Book(coin: "BTC").bids.isEmpty == false)
    }
}
