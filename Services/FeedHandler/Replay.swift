import Foundation
import Market
import Metrics
import Schema
import ServiceKit
import ServiceLifecycle

/// A recorded candle file played as bars, each with a one-level book around its close.
func runReplay(_ runtime: ServiceRuntime, config: FeedConfig, instrument: Instrument) async throws {
    let symbol = instrument.symbol
    let text = try String(contentsOfFile: config.replayFile, encoding: .utf8)
    let candles = try CandleFile.parse(text).filter { candle in
        (config.replayFrom.map { candle.openTime >= $0 } ?? true) && (config.replayTo.map { candle.openTime <= $0 } ?? true)
    }
    let name = "replay:\((config.replayFile as NSString).lastPathComponent)"
    runtime.status.setFact("source", name)
    runtime.status.setReady()
    try await waitForPeers(runtime, config: config)

    let published = Counter(label: "breakwater_feed_bars_total", dimensions: [("symbol", symbol)], factory: runtime.metrics)
    runtime.logger.notice("replay started", metadata: ["file": "\(name)", "bars": "\(candles.count)"])
    runtime.publish(
        FeedStatus(symbol: symbol, state: .live, source: name, lastUpdateAgeMs: 0), traceId: runtime.newIdentifier())
    let interval = config.speedup > 0 ? Duration.seconds(60 / config.speedup) : .zero
    var next = ContinuousClock.now
    var count = 0
    for candle in candles {
        if Task.isCancelled || Task.isShuttingDownGracefully { break }
        if interval > .zero {
            next += interval
            try? await Task.sleep(until: next)
        } else if count % 256 == 0 {
            await Task.yield()
        }
        runtime.publish(derivedBook(candle, instrument: instrument, config: config), traceId: runtime.newIdentifier())
        runtime.publish(candle.bar(symbol: symbol, intervalSeconds: 60), traceId: runtime.newIdentifier())
        published.increment()
        count += 1
        runtime.status.setFact("bars", "\(count)")
    }
    runtime.logger.notice("replay ended", metadata: ["bars": "\(count)"])
    runtime.publish(
        FeedStatus(
            symbol: symbol, state: .ended, source: name, lastUpdateAgeMs: 0,
            detail: "replay finished after \(count) bars"),
        traceId: runtime.newIdentifier())
    runtime.status.setFact("state", "ended")
    // Stay up: heartbeats continue and the operator decides when to stop.
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(365 * 86_400)) }
}
