import Bus
import Foundation
import Metrics
import Schema
import ServiceKit
import Strategy
import Synchronization

/// The market maker's settings (`marketMaking.*`): which symbols it quotes and how.
struct MarketMakingConfig: Sendable {
    /// Symbols quoted by the market maker instead of the directional strategies.
    var symbols: [String]
    var settings: MarketMakingSettings

    static func read(_ settings: inout Settings, symbols traded: [String]) -> MarketMakingConfig {
        let quoted = settings.stringList("marketMaking.symbols", default: [])
        for symbol in quoted where !traded.contains(symbol) {
            settings.problem("marketMaking.symbols: \(symbol) is not among symbols (\(traded.joined(separator: ", ")))")
        }
        if Set(quoted).count != quoted.count { settings.problem("marketMaking.symbols: a symbol is named twice") }
        let d = MarketMakingSettings(baseNotional: 100, maxInventoryNotional: 1_000)
        let a = d.adverseSelection
        func ms(_ key: String, _ value: Int, _ range: ClosedRange<Int> = 0...604_800_000) -> Int {
            settings.int("marketMaking.\(key)", default: value, in: range)
        }
        func bps(_ key: String, _ value: Double) -> Double {
            settings.double("marketMaking.\(key)", default: value, in: 0...10_000)
        }
        let mm = MarketMakingSettings(
            tiers: settings.int("marketMaking.tiers", default: d.tiers, in: 1...100),
            baseNotional: settings.amount("marketMaking.baseNotional", default: d.baseNotional, minimum: 1),
            sizeDecay: settings.amount("marketMaking.sizeDecay", default: d.sizeDecay, minimum: "0.01"),
            tierSpacingBps: bps("tierSpacingBps", d.tierSpacingBps),
            minimumLot: settings.amount("marketMaking.minimumLot", default: d.minimumLot),
            minSpreadBps: bps("minSpreadBps", d.minSpreadBps), maxSpreadBps: bps("maxSpreadBps", d.maxSpreadBps),
            volatilityLow: settings.double("marketMaking.volatilityLow", default: d.volatilityLow, in: 0...1),
            volatilityHigh: settings.double("marketMaking.volatilityHigh", default: d.volatilityHigh, in: 0...1),
            volatilityBars: settings.int("marketMaking.volatilityBars", default: d.volatilityBars, in: 2...10_000),
            imbalanceWidening: settings.double("marketMaking.imbalanceWidening", default: d.imbalanceWidening, in: 0...100),
            maxSideWidening: settings.double("marketMaking.maxSideWidening", default: d.maxSideWidening, in: 1...100),
            adverseSelection: AdverseSelectionSettings(
                windowNanos: Int64(ms("adverseSelection.windowMs", Int(a.windowNanos / 1_000_000), 1...86_400_000))
                    * 1_000_000,
                thresholdBps: bps("adverseSelection.thresholdBps", a.thresholdBps),
                wideningFactor: settings.double(
                    "marketMaking.adverseSelection.wideningFactor", default: a.wideningFactor, in: 1...100),
                halfLifeNanos: Int64(ms("adverseSelection.halfLifeMs", Int(a.halfLifeNanos / 1_000_000), 1...86_400_000))
                    * 1_000_000),
            inventoryTargetNotional: settings.amount(
                "marketMaking.inventoryTargetNotional", default: d.inventoryTargetNotional, minimum: -1_000_000_000),
            maxInventoryNotional: settings.amount(
                "marketMaking.maxInventoryNotional", default: d.maxInventoryNotional, minimum: 1),
            inventorySkewBps: bps("inventorySkewBps", d.inventorySkewBps),
            inventorySizeShrink: settings.double("marketMaking.inventorySizeShrink", default: d.inventorySizeShrink, in: 0...1),
            refreshToleranceBps: bps("refreshToleranceBps", d.refreshToleranceBps),
            maxOrderAgeMs: ms("maxOrderAgeMs", d.maxOrderAgeMs),
            allowModify: settings.bool("marketMaking.allowModify", default: d.allowModify),
            filledOrderDelayMs: ms("filledOrderDelayMs", d.filledOrderDelayMs),
            microLevels: settings.int("marketMaking.microLevels", default: d.microLevels, in: 1...100),
            minBookLevels: settings.int("marketMaking.minBookLevels", default: d.minBookLevels, in: 1...100),
            minDepthNotional: settings.amount("marketMaking.minDepthNotional", default: d.minDepthNotional),
            staleBookMs: ms("staleBookMs", d.staleBookMs, 1...604_800_000),
            priceBandBps: bps("priceBandBps", d.priceBandBps),
            keepaliveMs: ms("keepaliveMs", d.keepaliveMs, 1...604_800_000),
            quoteLifetimeMs: ms("quoteLifetimeMs", d.quoteLifetimeMs, 1...604_800_000))
        do { try mm.validate() } catch { for problem in error.problems { settings.problem("marketMaking: \(problem)") } }
        return MarketMakingConfig(symbols: quoted, settings: mm)
    }
}

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
