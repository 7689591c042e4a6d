import Foundation
import Hyperliquid
import Market
import Metrics
import Resilience
import Schema
import ServiceKit
import ServiceLifecycle

/// Books and trades of every symbol from the exchange's websocket (a REST book snapshot after every
/// connect), bars built from each symbol's trades; `md.status` says when a symbol's market goes quiet
/// or the socket drops (every symbol stale).
func runExchangeFeed(
    _ runtime: ServiceRuntime, config: FeedConfig, client: HyperliquidClient<ContinuousClock>
) async throws {
    let source = "exchange:\(config.endpoint.description)"
    runtime.status.setFact("source", source)
    let view = Locked(
        MarketFeedState(
            symbols: config.symbols, barSeconds: config.barSeconds, barGraceNanos: Int64(config.barGraceMs) * 1_000_000,
            staleAfterNanos: Int64(config.staleAfterMs) * 1_000_000, now: runtime.clock.now()))
    let barsCounter = Counter(label: "breakwater_feed_bars_total", factory: runtime.metrics)
    let liveGauge = Gauge(label: "breakwater_feed_live_symbols", factory: runtime.metrics)
    let staleGauge = Gauge(label: "breakwater_feed_stale_symbols", factory: runtime.metrics)

    @Sendable func publish(_ bar: TradeBar) {
        runtime.publish(bar.message, traceId: runtime.newIdentifier())
        barsCounter.increment()
    }

    @Sendable func publish(_ changes: [MarketFeedState.StatusChange]) {
        guard !changes.isEmpty else { return }
        for change in changes {
            // Per symbol, for the alert: 1 while not live (stale), 0 while books and trades flow.
            Gauge(label: "breakwater_feed_symbol_stale", dimensions: [("symbol", change.symbol)], factory: runtime.metrics)
                .record(change.state == .live ? 0 : 1)
            runtime.logger.notice(
                "feed \(change.state.rawValue)", metadata: ["symbol": "\(change.symbol)", "detail": "\(change.detail)"])
            runtime.publish(
                FeedStatus(
                    symbol: change.symbol, state: change.state, source: source,
                    lastUpdateAgeMs: change.silentNanos / 1_000_000, detail: change.detail),
                traceId: runtime.newIdentifier())
        }
        let (live, total) = view.withLock { ($0.liveCount, $0.views.count) }
        liveGauge.record(live)
        staleGauge.record(total - live)
        runtime.status.setFact("liveSymbols", "\(live)/\(total)")
        runtime.status.setDegraded("market", live == total ? nil : "\(total - live) of \(total) symbols not live")
    }

    let subscriptions = config.symbols.flatMap { [StreamSubscription.l2Book(coin: $0), .trades(coin: $0)] }
    let stream = HyperliquidStream(
        configuration: .init(
            url: config.endpoint.webSocketURL, subscriptions: subscriptions, pingInterval: .seconds(10),
            pongTimeout: .seconds(5)),
        snapshots: client, logger: runtime.logger)
    runtime.status.setReady()
    try await waitForPeers(runtime, config: config)
    stream.start()

    // Bars of a quiet market close on time; a silent symbol goes stale.
    let clock = Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            let (bars, changes) = view.withLock { $0.tick(now: runtime.clock.now()) }
            for bar in bars { publish(bar) }
            publish(changes)
        }
    }
    defer {
        clock.cancel()
        stream.stop()
    }

    func onBook(_ book: HyperliquidBook) {
        let change = view.withLock { $0.book(book.coin, now: runtime.clock.now()) }
        guard view.withLock({ $0.views[book.coin] != nil }) else { return }
        let update = BookUpdate(
            symbol: book.coin,
            bids: book.bids.prefix(config.bookLevels).map { BookLevel(price: $0.price, size: $0.size) },
            asks: book.asks.prefix(config.bookLevels).map { BookLevel(price: $0.price, size: $0.size) },
            exchangeTime: book.time)
        runtime.publish(update, traceId: runtime.newIdentifier())
        publish(change.map { [$0] } ?? [])
    }

    for await event in stream.events.cancelOnGracefulShutdown() {
        switch event {
        case .snapshot(.l2Book(let book)), .book(let book):
            onBook(book)
        case .trades(let trades):
            for trade in trades {
                let (bar, change) = view.withLock {
                    $0.trade(trade.coin, price: trade.price, size: trade.size, time: trade.time, now: runtime.clock.now())
                }
                guard change != nil || bar != nil || view.withLock({ $0.views[trade.coin] != nil }) else { continue }
                runtime.publish(
                    Trade(
                        symbol: trade.coin, price: trade.price, size: trade.size, side: trade.side,
                        tradeId: "\(trade.tradeId)", exchangeTime: trade.time),
                    traceId: runtime.newIdentifier())
                if let bar { publish(bar) }
                publish(change.map { [$0] } ?? [])
            }
        case .disconnected(_, let reason):
            publish(view.withLock { $0.disconnected(reason: reason, now: runtime.clock.now()) })
        case .malformed(let what):
            runtime.logger.warning("dropped a malformed market message", metadata: ["detail": "\(what.prefix(200))"])
        default:
            continue
        }
    }
}
