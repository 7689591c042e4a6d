import Bus
import Foundation
import Logging
import Hyperliquid
import Market
import Schema
import ServiceKit

struct FeedConfig: Sendable {
    enum Source: String, Sendable {
        /// The exchange's websocket (paper: exchange-sim): books and trades, bars built from the trades.
        case exchange
        /// A recorded candle file, for signal research and drills (paper mode only: the orders
        /// still go to the exchange, whose market is not the file's).
        case replay
    }
    var source: Source
    var symbols: [String]
    var endpoint: HyperliquidEndpoint
    var barSeconds: Int
    /// How long after its interval a bar without a later trade is closed.
    var barGraceMs: Int
    var bookLevels: Int
    var replayFile: String
    var replayFrom: EpochNanos?
    var replayTo: EpochNanos?
    /// Replay: market time per wall time; 60 plays one-minute bars at one a second; 0 is as fast as possible.
    var speedup: Double
    var spreadBps: Double
    var waitFor: [ServiceName]
    var waitTimeoutSeconds: Int
    var staleAfterMs: Int

    static func read(_ settings: inout Settings) -> FeedConfig {
        let exchange = ExchangeSettings.read(&settings, needsKey: false)
        let source = Source(
            rawValue: settings.oneOf("feed.source", default: "exchange", allowed: ["exchange", "replay"]))!
        if source == .replay && exchange.mode != .paper {
            settings.problem("feed.source replay is for paper mode only: \(exchange.mode.rawValue) trades on the exchange's market")
        }
        let symbols = Symbols.read(&settings)
        if source == .replay && symbols.count != 1 {
            settings.problem("feed.source replay plays one candle file: symbols must name exactly one, not \(symbols.count)")
        }
        let file = settings.string("feed.replay.file", default: settings.sharedDataFile("btc-perp-1m-ftx-2022-01.csv"))
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
        let endpoint = HyperliquidEndpoint(mode: exchange.mode, paperURL: exchange.paperURL)
        return FeedConfig(
            source: source, symbols: symbols, endpoint: endpoint,
            // Paper: one bar per candle of exchange-sim's market.
            barSeconds: settings.int(
                "feed.barSeconds", default: exchange.mode == .paper ? max(1, Int(exchange.paperCandleSeconds.rounded())) : 60,
                in: 1...86_400),
            barGraceMs: settings.barGraceMs(),
            bookLevels: settings.bookLevels(),
            replayFile: file, replayFrom: from, replayTo: to,
            speedup: settings.double("feed.speedup", default: 120, in: 0...1_000_000),
            spreadBps: settings.double("feed.spreadBps", default: 1, in: 0...1_000),
            waitFor: waitFor,
            waitTimeoutSeconds: settings.int("feed.waitTimeoutSeconds", default: 30, in: 0...3_600),
            staleAfterMs: settings.int("feed.staleAfterMs", default: 5_000, in: 100...3_600_000))
    }
}

/// A one-level book around the bar's close, so that consumers of books have one.
func derivedBook(_ candle: Candle, instrument: Instrument, config: FeedConfig) -> BookUpdate {
    let half = Amount(config.spreadBps / 20_000)
    let bid = instrument.roundPrice(candle.close * (1 - half), .down)
    let ask = max(instrument.roundPrice(candle.close * (1 + half), .up), bid)
    let baseVolume = candle.close.isPositive ? candle.volume / candle.close / 20 : .zero
    let size = max(instrument.roundSize(baseVolume), Amount("0.001"))
    return BookUpdate(
        symbol: instrument.symbol, bids: [BookLevel(price: bid, size: size)], asks: [BookLevel(price: ask, size: size)],
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
    runtime.status.setFact("symbols", "\(config.symbols.count)")
    let client = HyperliquidClient(
        configuration: .init(endpoint: config.endpoint), metricsFactory: runtime.metrics, logger: runtime.logger
    ) { transition in
        runtime.status.setBreaker(transition.name, transition.to)
        runtime.publish(transition.message(service: runtime.name.rawValue), traceId: runtime.newIdentifier())
    }
    runtime.status.setBreaker(client.infoDependency.name, .closed)
    // The instrument rules come from the exchange's `meta`; a symbol it does not list stops the start.
    runtime.status.setDegraded("instruments", "waiting for the exchange's meta")
    let instruments = try await client.waitForInstruments(config.symbols) { error in
        runtime.status.setDegraded("instruments", "exchange meta: \(error)")
    }
    runtime.status.setDegraded("instruments", nil)
    do {
        switch config.source {
        case .exchange: try await runExchangeFeed(runtime, config: config, client: client)
        case .replay: try await runReplay(runtime, config: config, instrument: instruments[config.symbols[0]]!)
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try? await client.shutdown()
}
