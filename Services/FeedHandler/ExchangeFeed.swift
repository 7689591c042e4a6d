import Foundation
import Hyperliquid
import Market
import Metrics
import Resilience
import Schema
import ServiceKit
import ServiceLifecycle

/// The feed's view of the exchange's market for one symbol: bars from trades, staleness.
struct MarketView {
    var aggregator: BarAggregator
    var lastUpdate: ContinuousClock.Instant?
    var state: FeedStatus.State?
    var trades = 0
    var bars = 0
}

/// Books and trades from the exchange's websocket (a REST book snapshot after every connect),
/// bars built from the trades; `md.status` says when the market goes quiet or the socket drops.
func runExchangeFeed(_ runtime: ServiceRuntime, config: FeedConfig) async throws {
    let source = "exchange:\(config.endpoint.description)"
    runtime.status.setFact("source", source)
    let client = HyperliquidClient(
        configuration: .init(endpoint: config.endpoint), metricsFactory: runtime.metrics, logger: runtime.logger
    ) { transition in
        runtime.status.setBreaker(transition.name, transition.to)
        runtime.publish(transition.message(service: runtime.name.rawValue), traceId: runtime.newIdentifier())
    }
    runtime.status.setBreaker(client.infoDependency.name, .closed)
    let view = Locked(MarketView(aggregator: BarAggregator(symbol: config.symbol, intervalSeconds: config.barSeconds)))
    let barsCounter = Counter(label: "breakwater_feed_bars_total", dimensions: [("symbol", config.symbol)], factory: runtime.metrics)

    @Sendable func publish(_ bar: TradeBar) {
        runtime.publish(bar.message, traceId: runtime.newIdentifier())
        barsCounter.increment()
        let count = view.withLock { view -> Int in
            view.bars += 1
            return view.bars
        }
        runtime.status.setFact("bars", "\(count)")
    }

    @Sendable func setState(_ state: FeedStatus.State, detail: String) {
        let changed = view.withLock { view -> Bool in
            defer { view.state = state }
            return view.state != state
        }
        guard changed else { return }
        runtime.status.setDegraded("market", state == .live ? nil : detail)
        runtime.logger.notice("feed \(state.rawValue)", metadata: ["detail": "\(detail)"])
        let age = view.withLock { $0.lastUpdate.map { Int64(($0.duration(to: .now)).wholeNanoseconds / 1_000_000) } } ?? 0
        runtime.publish(
            FeedStatus(symbol: config.symbol, state: state, source: source, lastUpdateAgeMs: age, detail: detail),
            traceId: runtime.newIdentifier())
    }

    let stream = HyperliquidStream(
        configuration: .init(
            url: config.endpoint.webSocketURL, subscriptions: [.l2Book(coin: config.symbol), .trades(coin: config.symbol)],
            pingInterval: .seconds(10), pongTimeout: .seconds(5)),
        snapshots: client, logger: runtime.logger)
    runtime.status.setReady()
    try await waitForPeers(runtime, config: config)
    stream.start()

    // Bars of a quiet market close on time; a silent socket makes the feed stale.
    let clock = Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            let now = runtime.clock.now()
            let due = view.withLock { $0.aggregator.close(upTo: now - Int64(config.barGraceMs) * 1_000_000) }
            if let due { publish(due) }
            let silent = view.withLock { $0.lastUpdate.map { $0.duration(to: .now) > .milliseconds(config.staleAfterMs) } ?? false }
            if silent { setState(.stale, detail: "no market data for \(config.staleAfterMs) ms") }
        }
    }
    defer {
        clock.cancel()
        stream.stop()
    }

    func onBook(_ book: HyperliquidBook) {
        let update = BookUpdate(
            symbol: config.symbol,
            bids: book.bids.prefix(config.bookLevels).map { BookLevel(price: $0.price, size: $0.size) },
            asks: book.asks.prefix(config.bookLevels).map { BookLevel(price: $0.price, size: $0.size) },
            exchangeTime: book.time)
        runtime.publish(update, traceId: runtime.newIdentifier())
        view.withLock { $0.lastUpdate = .now }
        setState(.live, detail: "books and trades flowing")
    }

    for await event in stream.events.cancelOnGracefulShutdown() {
        switch event {
        case .snapshot(.l2Book(let book)), .book(let book):
            guard book.coin == config.symbol else { continue }
            onBook(book)
        case .trades(let trades):
            for trade in trades where trade.coin == config.symbol {
                runtime.publish(
                    Trade(
                        symbol: config.symbol, price: trade.price, size: trade.size, side: trade.side,
                        tradeId: "\(trade.tradeId)", exchangeTime: trade.time),
                    traceId: runtime.newIdentifier())
                let done = view.withLock { view -> TradeBar? in
                    view.lastUpdate = .now
                    view.trades += 1
                    return view.aggregator.add(price: trade.price, size: trade.size, time: trade.time)
                }
                if let done { publish(done) }
            }
        case .disconnected(_, let reason):
            setState(.stale, detail: "exchange websocket down: \(reason)")
        case .malformed(let what):
            runtime.logger.warning("dropped a malformed market message", metadata: ["detail": "\(what.prefix(200))"])
        default:
            continue
        }
    }
    try? await client.shutdown()
}
