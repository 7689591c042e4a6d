import Foundation
import Hyperliquid
import Market
import Resilience
import Schema
import Synchronization
import Testing

/// `/ws` message decoding from the docs' shapes, and malformed messages.
struct StreamDecodingTests {
    static let user = "0x5e89b26d8d66da9888c835c9bfcc2aa51813e152"

    @Test func subscriptionsOnTheWire() throws {
        let address = try Address(hex: Self.user)
        #expect(
            StreamSubscription.l2Book(coin: "BTC").subscribeMessage
                == #"{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}"#)
        #expect(
            StreamSubscription.allMids.subscribeMessage == #"{"method":"subscribe","subscription":{"type":"allMids"}}"#)
        #expect(
            StreamSubscription.userFills(user: address).subscribeMessage
                == #"{"method":"subscribe","subscription":{"type":"userFills","user":"\#(Self.user)"}}"#)
        #expect(
            StreamSubscription.orderUpdates(user: address).wireValue.jsonString()
                == #"{"type":"orderUpdates","user":"\#(Self.user)"}"#)
        #expect(StreamSubscription.trades(coin: "SOL").wireValue.jsonString() == #"{"type":"trades","coin":"SOL"}"#)
    }

    @Test func channelsFromDocs() throws {
        let address = try Address(hex: Self.user)
        #expect(try StreamDecoding.decode("Websocket connection established.") == .connectionEstablished)
        #expect(try StreamDecoding.decode(#"{"channel":"pong"}"#) == .pong)
        #expect(
            try StreamDecoding.decode(
                #"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"trades","coin":"SOL"}}}"#
            )
                == .subscriptionResponse(method: "subscribe", subscription: .trades(coin: "SOL")))
        #expect(
            try StreamDecoding.decode(
                #"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"bbo","coin":"SOL"}}}"#
            )
                == .subscriptionResponse(method: "subscribe", subscription: nil))
        #expect(
            try StreamDecoding.decode(#"{"channel":"allMids","data":{"mids":{"APE":"4.33245","ARB":"1.21695"}}}"#)
                == .mids(["APE": "4.33245", "ARB": "1.21695"]))
        #expect(
            try StreamDecoding.decode(#"{"channel":"error","data":"Invalid subscription"}"#)
                == .error("Invalid subscription"))
        #expect(try StreamDecoding.decode(#"{"channel":"webData2","data":{}}"#) == .other(channel: "webData2"))

        let book = try StreamDecoding.decode(
            #"{"channel":"l2Book","data":{"coin":"BTC","time":1754450974231,"levels":[[{"px":"113377.0","sz":"7.6699","n":17}],[{"px":"113397.0","sz":"0.11543","n":3}]]}}"#
        )
        guard case .book(let b) = book else {
            Issue.record("not a book: \(book)")
            return
        }
        #expect(b.bids.first?.price == "113377.0" && b.asks.first?.size == "0.11543")

        let trades = try StreamDecoding.decode(
            #"{"channel":"trades","data":[{"coin":"BTC","side":"A","px":"113377.0","sz":"0.01","hash":"0xabc","time":1754450974231,"tid":5,"users":["0xa","0xb"]}]}"#
        )
        guard case .trades(let t) = trades else {
            Issue.record("not trades: \(trades)")
            return
        }
        #expect(t.first?.side == .sell && t.first?.tradeId == 5 && t.first?.users == ["0xa", "0xb"])

        let cloid = Cloid(42)
        let updates = try StreamDecoding.decode(
            #"""
            {"channel":"orderUpdates","data":[{"order":{"coin":"BTC","side":"B","limitPx":"90000.0","sz":"0.001","oid":7,
            "timestamp":1754450974231,"origSz":"0.002","cloid":"\#(cloid.rawValue)"},"status":"open","statusTimestamp":1754450974232}]}
            """#)
        #expect(
            updates
                == .orderUpdates([
                    OrderUpdate(
                        order: OpenOrderInfo(
                            coin: "BTC", side: .buy, limitPx: "90000.0", sz: "0.001", oid: 7,
                            timestamp: 1_754_450_974_231,
                            origSz: "0.002", cloid: cloid),
                        status: .open, statusTimestamp: 1_754_450_974_232)
                ]))

        let fills = try StreamDecoding.decode(
            #"""
            {"channel":"userFills","data":{"isSnapshot":true,"user":"\#(Self.user)","fills":[{"closedPnl":"0.0","coin":"AVAX",
            "crossed":false,"dir":"Open Long","hash":"0xa166e3fa63c25663024b03f2e0da011a00307e4017465df020210d3d432e7cb8",
            "oid":90542681,"px":"18.435","side":"B","startPosition":"26.86","sz":"93.53","time":1681222254710,"fee":"0.01",
            "feeToken":"USDC","tid":118906512037719}]}}
            """#)
        guard case .userFills(let who, let isSnapshot, let list) = fills else {
            Issue.record("not fills: \(fills)")
            return
        }
        #expect(who == address && isSnapshot && list.count == 1 && list[0].px == "18.435")
        let delta = try StreamDecoding.decode(#"{"channel":"userFills","data":{"user":"\#(Self.user)","fills":[]}}"#)
        #expect(delta == .userFills(user: address, isSnapshot: false, fills: []))
    }

    static let malformed = [
        "", "{", "null", "[]", #"{"data":{}}"#, #"{"channel":5}"#,
        #"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}"#,
        #"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"1e3","sz":"1","n":1}],[]]}}"#,
        #"{"channel":"trades","data":[{"coin":"BTC","side":"X","px":"1","sz":"1","hash":"h","time":1,"tid":1}]}"#,
        #"{"channel":"allMids","data":{"mids":{"BTC":1.5}}}"#, #"{"channel":"allMids","data":{}}"#,
        #"{"channel":"orderUpdates","data":[{"order":{"coin":"BTC"},"status":"open","statusTimestamp":1}]}"#,
        #"{"channel":"userFills","data":{"user":"0x12","fills":[]}}"#,
        #"{"channel":"userFills","data":{"user":"0x5e89b26d8d66da9888c835c9bfcc2aa51813e152","fills":[{"coin":"BTC"}]}}"#,
        #"{"channel":"subscriptionResponse","data":{"method":"subscribe"}}"#,
    ]

    @Test(arguments: malformed)
    func malformedMessagesAreTypedErrors(_ text: String) {
        do throws(HyperliquidClientError) {
            let message = try StreamDecoding.decode(text)
            Issue.record("accepted \(text.prefix(80)) as \(message)")
        } catch {
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(error)")
                return
            }
        }
    }
}

/// Reconnect backoff without a server: every connect is refused, the injected sleep records the delays.
struct StreamBackoffTests {
    /// A loopback port nobody listens on.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a stream against a refused port until it has slept `count` times; its delays and events.
    static func refusedRun(seed: UInt64, count: Int) async -> ([Duration], [StreamEvent], HyperliquidStream.Statistics)
    {
        let delays = Mutex<[Duration]>([])
        let stream = HyperliquidStream(
            configuration: .init(
                url: "ws://127.0.0.1:\(closedPort())/ws", subscriptions: [.allMids],
                reconnectBackoff: .fullJitter(base: .milliseconds(100), cap: .seconds(2))),
            random: SeededRandom(seed: seed),
            sleep: { delay in
                let n = delays.withLock { d in
                    d.append(delay)
                    return d.count
                }
                if n >= count { throw CancellationError() }
            })
        let log = EventLog(stream.events)
        await stream.run()
        // `run` finished the stream; wait for the reader to drain it.
        let deadline = ContinuousClock.now + .seconds(5)
        while log.events.count < count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return (delays.withLock { $0 }, log.events, stream.statistics)
    }

    @Test func refusedConnectsBackOffExponentiallyWithInjectedJitter() async throws {
        let (delays, events, stats) = await Self.refusedRun(seed: 42, count: 8)
        #expect(delays.count == 8)
        for (i, delay) in delays.enumerated() {
            let ceiling = min(Duration.milliseconds(100) * (1 << i), .seconds(2))
            #expect(delay >= .zero && delay <= ceiling, "retry \(i): \(delay) above \(ceiling)")
        }
        #expect(Set(delays).count > 1, "no jitter: \(delays)")
        #expect(delays.suffix(3).contains { $0 > .milliseconds(400) }, "the backoff did not grow: \(delays)")
        let disconnects = events.compactMap { if case .disconnected(let c, _) = $0 { c } else { nil } }
        #expect(disconnects == Array(1...8))
        #expect(!events.contains { if case .connected = $0 { true } else { false } })
        #expect(stats.connections == 0)

        // The same seed gives the same delays; another seed other ones.
        #expect(await Self.refusedRun(seed: 42, count: 8).0 == delays)
        #expect(await Self.refusedRun(seed: 43, count: 8).0 != delays)
    }
}

/// The stream against a real exchange-sim.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct StreamTests {
    static let trader = SimProcess.trader.address

    static func isBookSnapshot(_ event: StreamEvent) -> Bool {
        if case .snapshot(.l2Book(let book)) = event { book.coin == "BTC" && !book.bids.isEmpty } else { false }
    }

    static func fillsSnapshot(_ event: StreamEvent) -> [UserFill]? {
        if case .snapshot(.userFills(let user, let fills)) = event, user == trader { fills } else { nil }
    }

    static func fills(_ event: StreamEvent) -> [UserFill]? {
        if case .fills(let user, let fills) = event, user == trader { fills } else { nil }
    }

    /// An Ioc buy through the ask; its oid.
    static func takerBuy(_ client: HyperliquidClient<ContinuousClock>) async throws -> UInt64 {
        let ask = try #require(try await client.l2Book(coin: "BTC").bestAsk)
        let status = try await client.order(.limit("BTC", isBuy: true, size: "0.001", price: ask * "1.01", tif: .ioc))
        guard case .filled(_, _, let oid, _) = status else {
            Issue.record("expected a fill, got \(status)")
            throw PollTimeout(what: "a fill")
        }
        return oid
    }

    @Test func snapshotsComeFirstThenDeltas() async throws {
        try await withSimAndClient { sim, client in
            let stream = HyperliquidStream(
                configuration: .init(
                    url: sim.endpoint.webSocketURL,
                    subscriptions: [
                        .l2Book(coin: "BTC"), .userFills(user: Self.trader), .orderUpdates(user: Self.trader),
                        .trades(coin: "BTC"), .allMids,
                    ]),
                snapshots: client)
            let log = EventLog(stream.events)
            stream.start()
            defer { stream.stop() }

            try await log.next("connected") { $0 == .connected(connection: 1) }
            try await log.next("the REST book snapshot", where: Self.isBookSnapshot)
            try await log.next("the open-orders snapshot") {
                $0 == .snapshot(.openOrders(user: Self.trader, orders: []))
            }
            let history = try await log.next("the fills snapshot") { Self.fillsSnapshot($0) != nil }
            #expect(Self.fillsSnapshot(history) == [])
            try await log.next("mids") { if case .mids(let m) = $0 { m["BTC"] != nil } else { false } }

            let oid = try await Self.takerBuy(client)
            let fill = try await log.next("the fill") { Self.fills($0)?.contains { $0.oid == oid } == true }
            #expect(Self.fills(fill)?.allSatisfy { $0.sz == "0.001" && $0.side == .buy && $0.crossed } == true)
            // The fill took external liquidity, so the book changed.
            try await poll("the order update, the trade and a book delta") {
                let events = log.events
                let booked = events.contains { if case .book(let b) = $0 { b.coin == "BTC" } else { false } }
                let updated = events.contains {
                    if case .orderUpdates(let u) = $0 {
                        u.contains { $0.order.oid == oid && $0.status == .filled }
                    } else {
                        false
                    }
                }
                let traded = events.contains {
                    if case .trades(let t) = $0 {
                        t.contains { $0.users.contains(Self.trader.lowercased) }
                    } else {
                        false
                    }
                }
                return updated && traded && booked
            }

            // Order of what was seen: each subscription's snapshot before any of its deltas.
            let events = log.events
            let bookSnapshot = try #require(events.firstIndex(where: Self.isBookSnapshot))
            let firstBook = try #require(events.firstIndex { if case .book = $0 { true } else { false } })
            #expect(bookSnapshot < firstBook)
            let fillSnapshot = try #require(events.firstIndex { Self.fillsSnapshot($0) != nil })
            let firstFill = try #require(events.firstIndex { Self.fills($0) != nil })
            #expect(fillSnapshot < firstFill)
            #expect(events.first == .connected(connection: 1))
            for subscription in stream.configuration.subscriptions {
                #expect(events.contains(.subscribed(subscription)), "no ack for \(subscription)")
            }
            let stats = stream.statistics
            #expect(stats.connections == 1 && stats.reconnects == 0 && stats.malformedMessages == 0)
        }
    }

    @Test func droppedSocketReconnectsResubscribesAndResnapshots() async throws {
        try await withSimAndClient(admin: true) { sim, client in
            let stream = HyperliquidStream(
                configuration: .init(
                    url: sim.endpoint.webSocketURL,
                    subscriptions: [.l2Book(coin: "BTC"), .userFills(user: Self.trader)],
                    reconnectBackoff: .fullJitter(base: .milliseconds(100), cap: .seconds(1))),
                snapshots: client, random: SeededRandom(seed: 3))
            let log = EventLog(stream.events)
            stream.start()
            defer { stream.stop() }

            try await log.next("connected") { $0 == .connected(connection: 1) }
            try await log.next("the fills snapshot") { Self.fillsSnapshot($0) == [] }
            let first = try await Self.takerBuy(client)
            try await log.next("the first fill") { Self.fills($0)?.contains { $0.oid == first } == true }

            try await sim.inject(#"{"dropWebSockets": true}"#)
            try await log.next("the drop") { if case .disconnected(connection: 1, _) = $0 { true } else { false } }
            let marker = log.consumed.count
            try await log.next("reconnected") { $0 == .reconnected(connection: 2) }
            try await log.next("a new book snapshot", where: Self.isBookSnapshot)
            let history = try await log.next("a new fills snapshot") { Self.fillsSnapshot($0) != nil }
            #expect(
                Self.fillsSnapshot(history)?.contains { $0.oid == first } == true,
                "the new snapshot holds the earlier fill")

            let second = try await Self.takerBuy(client)
            try await log.next("a fill after the reconnect") { Self.fills($0)?.contains { $0.oid == second } == true }

            let after = Array(log.events[marker...])
            #expect(after.contains(.subscribed(.l2Book(coin: "BTC"))), "l2Book was not subscribed again")
            #expect(after.contains(.subscribed(.userFills(user: Self.trader))), "userFills was not subscribed again")
            let reconnected = try #require(after.firstIndex(of: .reconnected(connection: 2)))
            let newSnapshot = try #require(after.firstIndex(where: Self.isBookSnapshot))
            #expect(reconnected < newSnapshot)
            if let delta = after.firstIndex(where: { if case .book = $0 { true } else { false } }) {
                #expect(newSnapshot < delta, "a book delta came before the new snapshot")
            }
            // The earlier fill is not delivered again as a new fill.
            #expect(!after.contains { Self.fills($0)?.contains { $0.oid == first } == true })
            let stats = stream.statistics
            #expect(stats.connections == 2 && stats.reconnects == 1)
        }
    }

    @Test func heartbeatKeepsAHealthySocketAndAMissingPongForcesAReconnect() async throws {
        try await withSimAndClient(waitForMarket: false) { sim, _ in
            let healthy = HyperliquidStream(
                configuration: .init(
                    url: sim.endpoint.webSocketURL, subscriptions: [.allMids], pingInterval: .milliseconds(100),
                    pongTimeout: .milliseconds(500)))
            let healthyLog = EventLog(healthy.events)
            healthy.start()
            defer { healthy.stop() }
            try await healthyLog.next("connected") { $0 == .connected(connection: 1) }
            try await poll("three pongs") { healthy.statistics.pongsReceived >= 3 }
            #expect(healthy.statistics.connections == 1 && healthy.statistics.pongTimeouts == 0)

            // A heartbeat the server does not answer with a pong: the socket is given up and rebuilt.
            let deaf = HyperliquidStream(
                configuration: .init(
                    url: sim.endpoint.webSocketURL, subscriptions: [.allMids], pingInterval: .milliseconds(100),
                    pongTimeout: .milliseconds(300),
                    reconnectBackoff: .fullJitter(base: .milliseconds(50), cap: .milliseconds(200)),
                    heartbeatMessage: #"{"method":"hello"}"#))
            let deafLog = EventLog(deaf.events)
            deaf.start()
            defer { deaf.stop() }
            try await deafLog.next("connected") { $0 == .connected(connection: 1) }
            try await deafLog.next("the server's complaint") { if case .serverError = $0 { true } else { false } }
            let drop = try await deafLog.next("the pong timeout") {
                if case .disconnected(connection: 1, _) = $0 { true } else { false }
            }
            guard case .disconnected(_, let reason) = drop else { return }
            #expect(reason.contains("no pong"), "\(reason)")
            try await deafLog.next("reconnected") { $0 == .reconnected(connection: 2) }
            try await deafLog.next("resubscribed") { $0 == .subscribed(.allMids) }
            #expect(deaf.statistics.pongTimeouts >= 1 && deaf.statistics.pingsSent >= 1)
            #expect(healthy.statistics.connections == 1, "the healthy stream reconnected")
        }
    }
}
