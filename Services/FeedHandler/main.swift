import Bus
import Foundation
import Logging
import Market
import Metrics
import ServiceLifecycle
import Schema
import ServiceKit

struct FeedConfig: Sendable {
    enum Source: String, Sendable { case synthetic, replay }
    var source: Source
    var symbol: String
    var instrument: Instrument
    var replayFile: String
    var replayFrom: EpochNanos?
    var replayTo: EpochNanos?
    /// Market time per wall time: 60 plays one-minute bars at one a second; 0 is as fast as possible.
    var speedup: Double
    var syntheticSeed: UInt64
    var syntheticBars: Int
    var spreadBps: Double
    var waitFor: [ServiceName]
    var waitTimeoutSeconds: Int
    var staleAfterMs: Int

    static func read(_ settings: inout Settings) -> FeedConfig {
        let source = Source(
            rawValue: settings.oneOf("feed.source", default: "synthetic", allowed: ["synthetic", "replay"]))!
        let symbol = settings.string("feed.symbol", default: "BTC")
        let file = settings.string("feed.replay.file", default: "../shared/data/btc-perp-1m-ftx-2022-01.csv")
        func time(_ key: String) -> EpochNanos? {
            guard let text = settings.optionalString(key) else { return nil }
            guard let time = CandleFile.parseTimestamp(text) else {
                settings.problem("\(key): \"\(text)\" is not YYYY-MM-DD HH:MM:SS (UTC)")
                return nil
            }
            return time
        }
        let from = time("feed.replay.from")
        let to = time("feed.replay.to")
        if let from, let to, from > to { settings.problem("feed.replay.from is after feed.replay.to") }
        if source == .replay && !FileManager.default.isReadableFile(atPath: file) {
            settings.problem("feed.replay.file: cannot read \(file)")
        }
        let waitNames = settings.string(
            "feed.waitFor", default: "signal-generator,risk-gate,executor,trace-recorder")
        var waitFor: [ServiceName] = []
        for name in waitNames.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !name.isEmpty {
            if let service = ServiceName(rawValue: name) { waitFor.append(service) } else {
                settings.problem("feed.waitFor: unknown service \"\(name)\"")
            }
        }
        return FeedConfig(
            source: source, symbol: symbol,
            instrument: Instrument(symbol: symbol, szDecimals: settings.int("feed.szDecimals", default: 5, in: 0...8)),
            replayFile: file, replayFrom: from, replayTo: to,
            speedup: settings.double("feed.speedup", default: 120, in: 0...1_000_000),
            syntheticSeed: UInt64(settings.int("feed.synthetic.seed", default: 42, in: 0...Int.max)),
            syntheticBars: settings.int("feed.synthetic.bars", default: 0, in: 0...100_000_000),
            spreadBps: settings.double("feed.spreadBps", default: 1, in: 0...1_000),
            waitFor: waitFor,
            waitTimeoutSeconds: settings.int("feed.waitTimeoutSeconds", default: 30, in: 0...3_600),
            staleAfterMs: settings.int("feed.staleAfterMs", default: 5_000, in: 100...3_600_000))
    }
}

/// Where bars come from: a recorded file or the synthetic market.
struct BarSource {
    private var candles: [Candle]
    private var position = 0
    private var synthetic: SyntheticMarket?
    private var remaining: Int?
    let name: String

    init(config: FeedConfig) throws {
        switch config.source {
        case .replay:
            let text = try String(contentsOfFile: config.replayFile, encoding: .utf8)
            candles = try CandleFile.parse(text).filter { candle in
                (config.replayFrom.map { candle.openTime >= $0 } ?? true)
                    && (config.replayTo.map { candle.openTime <= $0 } ?? true)
            }
            name = "replay:\((config.replayFile as NSString).lastPathComponent)"
        case .synthetic:
            candles = []
            synthetic = SyntheticMarket(settings: .init(seed: config.syntheticSeed))
            remaining = config.syntheticBars == 0 ? nil : config.syntheticBars
            name = "synthetic:seed=\(config.syntheticSeed)"
        }
    }

    var count: Int? { synthetic == nil ? candles.count : remaining }

    mutating func next() -> Candle? {
        if synthetic != nil {
            if let left = remaining {
                guard left > 0 else { return nil }
                remaining = left - 1
            }
            return synthetic!.nextCandle()
        }
        guard position < candles.count else { return nil }
        defer { position += 1 }
        return candles[position]
    }
}

/// A one-level book around the bar's close, so that consumers of books have one.
func derivedBook(_ candle: Candle, config: FeedConfig) -> BookUpdate {
    let half = Amount(config.spreadBps / 20_000)
    let bid = config.instrument.roundPrice(candle.close * (1 - half), .down)
    let ask = max(config.instrument.roundPrice(candle.close * (1 + half), .up), bid)
    let baseVolume = candle.close.isPositive ? candle.volume / candle.close / 20 : .zero
    let size = max(config.instrument.roundSize(baseVolume), Amount("0.001"))
    return BookUpdate(
        symbol: config.symbol, bids: [BookLevel(price: bid, size: size)], asks: [BookLevel(price: ask, size: size)],
        exchangeTime: candle.openTime + 60_000_000_000)
}

/// Holds the replay back until the services that must see every bar are up and healthy.
func waitForPeers(_ runtime: ServiceRuntime, config: FeedConfig) async throws {
    guard !config.waitFor.isEmpty else { return }
    let stream = try runtime.subscribe(to: config.waitFor, topics: ["svc.hb"], readiness: false)
    let wanted = Set(config.waitFor.map(\.rawValue))
    runtime.logger.notice("waiting for peers", metadata: ["peers": "\(wanted.sorted())"])
    // Whichever comes first: every peer ready, or the timeout (even if no peer ever speaks).
    let missing = await withTaskGroup(of: Set<String>?.self) { group in
        group.addTask {
            var ready: Set<String> = []
            for await event in stream {
                guard case .envelope(let raw) = event, let heartbeat = try? raw.decode(Heartbeat.self) else { continue }
                if peerIsReady(heartbeat) { ready.insert(heartbeat.service) } else { ready.remove(heartbeat.service) }
                if wanted.isSubset(of: ready) { return [] }
            }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(config.waitTimeoutSeconds))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    if missing == nil {
        runtime.logger.warning("starting before every peer was ready", metadata: ["peers": "\(wanted.sorted())"])
    }
}

/// Ready to see every bar: it hears this feed (its subscription is live), hears its other
/// upstreams and, for the risk gate, can trade. A recall fallback does not hold the replay back.
func peerIsReady(_ heartbeat: Heartbeat) -> Bool {
    let hearsUs = heartbeat.facts["hears"]?.split(separator: ",").contains("feed-handler") ?? false
    let blocking = Set(heartbeat.facts["degraded"]?.split(separator: ",").map(String.init) ?? [])
        .intersection(["upstream", "trading"])
    return (heartbeat.health == .ok || heartbeat.health == .degraded) && hearsUs && blocking.isEmpty
}

await ServiceMain.run(.feedHandler, readConfig: FeedConfig.read) { runtime, config in
    var source = try BarSource(config: config)
    runtime.status.setFact("source", source.name)
    runtime.status.setFact("symbol", config.symbol)
    runtime.status.setReady()
    try await waitForPeers(runtime, config: config)

    let published = Counter(label: "breakwater_feed_bars_total", dimensions: [("symbol", config.symbol)], factory: runtime.metrics)
    runtime.logger.notice("feed started", metadata: ["source": "\(source.name)", "bars": "\(source.count.map(String.init) ?? "∞")"])
    runtime.publish(
        FeedStatus(symbol: config.symbol, state: .live, source: source.name, lastUpdateAgeMs: 0),
        traceId: runtime.newIdentifier())
    let interval = config.speedup > 0 ? Duration.seconds(60 / config.speedup) : .zero
    var next = ContinuousClock.now
    var count = 0
    while !Task.isCancelled, !Task.isShuttingDownGracefully, let candle = source.next() {
        if interval > .zero {
            next += interval
            try? await Task.sleep(until: next)
        } else if count % 256 == 0 {
            await Task.yield()
        }
        runtime.publish(derivedBook(candle, config: config), traceId: runtime.newIdentifier())
        runtime.publish(candle.bar(symbol: config.symbol, intervalSeconds: 60), traceId: runtime.newIdentifier())
        published.increment()
        count += 1
        runtime.status.setFact("bars", "\(count)")
    }
    runtime.logger.notice("feed ended", metadata: ["bars": "\(count)"])
    runtime.publish(
        FeedStatus(
            symbol: config.symbol, state: .ended, source: source.name, lastUpdateAgeMs: 0,
            detail: "replay finished after \(count) bars"),
        traceId: runtime.newIdentifier())
    runtime.status.setFact("state", "ended")
    // Stay up: heartbeats continue and the operator decides when to stop.
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(365 * 86_400)) }
}
