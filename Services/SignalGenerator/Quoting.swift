import Bus
import Foundation
import Metrics
import Schema
import ServiceKit
import Strategy
import Synchronization

/// One market maker per quoted symbol, fed by its own subscription so that a slow recall call
/// on the bar loop never delays a quote.
final class QuotingDesk: Sendable {
    private let makers: Mutex<[String: MarketMaker]>
    private let runtime: ServiceRuntime
    private let targets: Counter
    private let withdrawals: Counter

    init(config: MarketMakingConfig, instruments: [String: Instrument], runtime: ServiceRuntime) throws {
        var makers: [String: MarketMaker] = [:]
        for symbol in config.symbols {
            makers[symbol] = try MarketMaker(
                symbol: symbol, instrument: instruments[symbol]!, settings: config.settings,
                idPrefix: String(runtime.identity.instance.prefix(8)))
        }
        self.makers = Mutex(makers)
        self.runtime = runtime
        targets = Counter(label: "breakwater_quote_targets_total", factory: runtime.metrics)
        withdrawals = Counter(label: "breakwater_quote_withdrawals_total", factory: runtime.metrics)
    }

    var symbols: [String] { makers.withLock { $0.keys.sorted() } }

    private func publish(_ target: QuoteTarget?, traceId: String? = nil) {
        guard let target else { return }
        targets.increment()
        if target.quotes.isEmpty { withdrawals.increment() }
        runtime.publish(target, traceId: traceId ?? runtime.newIdentifier())
        guard let symbol = target.symbol, let status = makers.withLock({ $0[symbol]?.status }) else { return }
        let factory = runtime.metrics
        let dimensions = [("symbol", symbol)]
        Gauge(label: "breakwater_mm_quotes_wanted", dimensions: dimensions + [("side", "bid")], factory: factory)
            .record(status.bidsWanted)
        Gauge(label: "breakwater_mm_quotes_wanted", dimensions: dimensions + [("side", "ask")], factory: factory)
            .record(status.asksWanted)
        Gauge(label: "breakwater_mm_adverse_selection_detections", dimensions: dimensions, factory: factory)
            .record(status.adverseSelectionDetections)
        Gauge(label: "breakwater_mm_withdrawn", dimensions: dimensions, factory: factory)
            .record(status.state == .quoting ? 0 : 1)
    }

    private func each(_ body: (inout MarketMaker) -> QuoteTarget?) -> [QuoteTarget] {
        makers.withLock { makers in
            var out: [QuoteTarget] = []
            for symbol in makers.keys.sorted() {
                if let target = body(&makers[symbol]!) { out.append(target) }
            }
            return out
        }
    }

    func onBook(_ book: BookUpdate, traceId: String) {
        guard let symbol = book.symbol else { return }
        let now = runtime.clock.now()
        publish(makers.withLock { $0[symbol]?.onBook(book, now: now) }, traceId: traceId)
    }

    func onBar(_ bar: Bar) {
        guard let symbol = bar.symbol else { return }
        makers.withLock { _ = $0[symbol]?.onBar(bar) }
    }

    func onFill(_ fill: Fill) {
        guard let symbol = fill.symbol else { return }
        makers.withLock { _ = $0[symbol]?.onFill(fill) }
    }

    func onSnapshot(_ snapshot: AccountSnapshot) {
        makers.withLock { makers in
            for symbol in makers.keys {
                let size = snapshot.positions.first { $0.symbol == symbol }?.size ?? .zero
                makers[symbol]!.onPosition(size)
            }
        }
    }

    func onFeedStatus(_ status: FeedStatus) {
        let now = runtime.clock.now()
        for target in each({ $0.onFeedStatus(status, now: now) }) { publish(target) }
    }

    func tick() {
        let now = runtime.clock.now()
        for target in each({ $0.tick(now: now) }) { publish(target) }
    }

    /// What `/status` shows: each maker's state, why, and its inventory.
    func status() -> [String: Any] {
        let statuses = makers.withLock { $0.values.map(\.status) }
        var out: [String: Any] = [:]
        for status in statuses {
            let data = (try? JSONEncoder().encode(status)) ?? Data("{}".utf8)
            out[status.symbol] = (try? JSONSerialization.jsonObject(with: data)) ?? [:]
        }
        return out
    }

    /// Runs until the service stops: its own subscription and a clock for staleness and keepalives.
    func run(tickEvery interval: Duration) async throws {
        let quoted = symbols
        guard !quoted.isEmpty else { return }
        let stream = try runtime.subscribe(
            to: [.feedHandler, .executor],
            topics: quoted.map { "md.book.\($0)" } + quoted.map { "md.bar.\($0)" } + [
                "md.status.", "exec.fill.", "acct.snapshot",
            ])
        let clock = Task {
            while !Task.isCancelled {
                tick()
                try? await Task.sleep(for: interval)
            }
        }
        defer { clock.cancel() }
        for await event in stream.cancelOnGracefulShutdown() {
            guard case .envelope(let raw) = event else { continue }
            do {
                switch raw.messageType {
                case .book: onBook(try raw.decode(BookUpdate.self), traceId: raw.header.traceId)
                case .bar: onBar(try raw.decode(Bar.self))
                case .fill: onFill(try raw.decode(Fill.self))
                case .accountSnapshot: onSnapshot(try raw.decode(AccountSnapshot.self))
                case .feedStatus: onFeedStatus(try raw.decode(FeedStatus.self))
                default: continue
                }
            } catch {
                runtime.logger.warning(
                    "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
            }
        }
    }
}
