import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Hyperliquid
import Logging
import Market
import Schema
import ServiceKit
import Storage
import Venue

/// exchange-sim: a Hyperliquid-compatible venue (POST /info, POST /exchange, WebSocket /ws) for paper
/// mode, development and tests.
@main
struct ExchangeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange-sim",
        abstract: "A Hyperliquid-compatible venue for paper trading, development and tests.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one; the chosen port is printed).") var port = 3001
    @Option(help: "JSON config file: accounts, assets, fees, funding, market.") var config: String?
    @Flag(help: "Validate the configuration (and market data) and exit.") var checkConfig = false
    @Option(help: "Market source: hyperliquid, binance-trades, binance-l2, ftx-candles or synthetic.") var market: String?
    @Option(help: "Seed of the synthetic market.") var seed: UInt64?
    @Option(
        help: "Folder with the recorded market data (default: $BREAKWATER_DATA_DIR, else ../shared/data beside the repository holding this executable).")
    var dataDir: String?
    @Option(help: "Signature domain to accept: any, testnet or mainnet.") var network: String?
    @Option(help: "Seconds a candle takes to play (synthetic and FTX sources).") var candleSeconds: Double?
    @Option(help: "Replay speed of recorded files.") var speed: Double?
    @Option(help: "FTX candles: first candle to play, \"YYYY-MM-DD HH:MM:SS\" UTC.") var from: String?
    @Option(help: "FTX candles: how many to play (then loop).") var candles: Int?
    @Option(name: .customLong("fund"), help: "Credit ADDRESS=AMOUNT USDC at start (repeatable).") var fund: [String] = []
    @Option(help: "Enable /admin routes, protected by this bearer token.") var adminToken: String?
    @Option(help: "Coins to list besides the configured assets, comma-separated (unknown names get generated rules).")
    var list: String?
    @Option(help: "Listed coins to make isolated-only (cross margin refused, as on some real listings), comma-separated.")
    var onlyIsolated: String?
    @Option(
        help: ArgumentHelp(
            "SQLite file that keeps the venue (accounts, positions, orders, fills, funding, nonces) across restarts.",
            discussion: "Created when missing; read back at start (a file that does not read back stops the start). "
                + "Configured and --fund accounts are funded only when the file does not have them yet. "
                + "Without it the venue lives in memory only."))
    var state: String?
    @Flag(help: "With --state: wait for the disk at every save (survives a power cut, not only the process being killed).")
    var stateFsync = false
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "exchange-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        let settings: VenueConfig
        let setup: MarketSetup
        do {
            settings = try loadConfig()
            setup = try MarketSetup.build(settings: settings, now: VenueService.nowMs())
        } catch {
            FileHandle.standardError.write(Data("exchange-sim: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var core = VenueCore(config: settings)
        var stateFile: VenueStateFile?
        if let state {
            do {
                guard !state.isEmpty else { throw SetupError("--state needs a file path") }
                let file = try VenueStateFile(path: state, durableAgainstPowerLoss: stateFsync)
                if let restored = try file.load(config: settings) {
                    core = restored
                    let orders = restored.liveOrders.values.reduce(0) { $0 + $1.count }
                    let fills = restored.accounts.values.reduce(0) { $0 + $1.fills.count }
                    let line = "exchange-sim: venue restored from \(state) (\(restored.accounts.count) accounts, \(orders) open orders, \(fills) fills)\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                } else {
                    FileHandle.standardOutput.write(Data("exchange-sim: new venue in \(state)\n".utf8))
                }
                stateFile = file
            } catch {
                FileHandle.standardError.write(
                    Data("exchange-sim: venue state \(state): \(error)\n(the venue is not started on a fresh state in its place: move the file aside to start a new venue)\n".utf8))
                throw ExitCode(2)
            }
        }
        if checkConfig {
            print(
                "exchange-sim: configuration OK (\(settings.assets.count) assets, \(settings.accounts.count) accounts, "
                    + "market \(setup.description))")
            return
        }

        let hub = WebSocketHub()
        let service = VenueService(
            core: core, players: setup.players, hub: hub, sourceDescription: setup.description, stateFile: stateFile)
        // WAL checkpoints (each syncs the disk) on a thread of their own, never in an order's answer.
        let checkpoints = stateFile.map { file in
            CheckpointThread(name: "venue-checkpoint", every: .seconds(1), checkpoint: file.store.checkpoint)
        }
        defer { checkpoints?.stop() }
        do {
            // The funded accounts of a fresh venue (or those new in the configuration) are on disk before anyone trades.
            try await service.save()
        } catch {
            FileHandle.standardError.write(Data("exchange-sim: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let faults = FaultInjector()
        let limits = IPRateLimits()
        let router = HTTPServer.buildRouter(
            service: service, faults: faults, limits: limits, adminToken: adminToken, logger: logger)
        let host = self.host
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(host, port: port), serverName: "exchange-sim"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                let line = "exchange-sim listening on http://\(host):\(bound) (market: \(setup.description))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: logger)

        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService() }
                group.addTask {
                    while !Task.isCancelled {
                        // A failed save (here or in a request) stops the venue: memory is ahead of the file.
                        try await service.advance(now: VenueService.nowMs())
                        try await Task.sleep(for: .milliseconds(setup.tickMs))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let failure as VenueStateFailure {
            FileHandle.standardError.write(Data("exchange-sim: \(failure); stopping\n".utf8))
            throw ExitCode(75)
        }
    }

    /// The config file, then the flags over it.
    func loadConfig() throws -> VenueConfig {
        var settings = VenueConfig()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else { throw SetupError("cannot read config \(path)") }
            do {
                settings = try JSONDecoder().decode(VenueConfig.self, from: data)
            } catch {
                throw SetupError("config \(path): \(error)")
            }
        }
        if let market {
            guard let source = MarketSource(rawValue: market) else {
                throw SetupError("--market must be one of \(MarketSource.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.market.source = source
        }
        if let seed { settings.market.seed = seed }
        if let dataDir { settings.market.dataDir = dataDir }
        if let candleSeconds { settings.market.candleSeconds = candleSeconds }
        if let speed { settings.market.speed = speed }
        if let from {
            guard CandleFile.parseTimestamp(from) != nil else { throw SetupError("--from takes \"YYYY-MM-DD HH:MM:SS\" (UTC)") }
            settings.market.from = from
        }
        if let candles {
            guard candles > 0 else { throw SetupError("--candles must be positive") }
            settings.market.candles = candles
        }
        for coin in (list ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !coin.isEmpty {
            guard coin.allSatisfy({ $0.isLetter || $0.isNumber }), coin.count <= 12 else {
                throw SetupError("--list: \"\(coin)\" is not a coin name (letters and digits, at most 12)")
            }
            if !settings.assets.contains(where: { $0.name == coin }) { settings.assets.append(PaperListing.listing(coin).spec) }
        }
        for coin in (onlyIsolated ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !coin.isEmpty {
            guard let index = settings.assets.firstIndex(where: { $0.name == coin }) else {
                throw SetupError("--only-isolated: \"\(coin)\" is not listed")
            }
            settings.assets[index].onlyIsolated = true
        }
        if let network {
            guard let parsed = SignatureNetwork(rawValue: network) else { throw SetupError("--network must be any, testnet or mainnet") }
            settings.network = parsed
        }
        for entry in fund {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parseAddress(parts[0]) != nil, let amount = Wire.amount(parts[1]), amount.isPositive else {
                throw SetupError("--fund takes ADDRESS=AMOUNT, got \(entry)")
            }
            settings.accounts.append(AccountSpec(address: parts[0], usdc: amount))
        }
        let problems = settings.validate()
        if !problems.isEmpty { throw SetupError("invalid configuration:\n  " + problems.joined(separator: "\n  ")) }
        return settings
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The market players for the configured source; reads the data files.
struct MarketSetup {
    var players: [MarketPlayer]
    var description: String
    /// How often the market advances: often enough for a candle's four path points.
    var tickMs: UInt64 = 100

    static let hyperliquidFile = "btc-hyperliquid-ws-2025-01-26.ndjson"
    static let binanceFile = "btcusdt-trades-binance-futures-2020-02-22.csv"
    static let ftxFile = "btc-perp-1m-ftx-2022-01.csv"
    static let binanceL2File = "btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz"

    /// --data-dir / config, then $BREAKWATER_DATA_DIR, then ../shared/data beside the repository
    /// holding the executable (RepositoryPaths); never the working directory.
    static func dataDirectory(_ configured: String?) -> String? {
        RepositoryPaths.sharedDataDirectory(configured: configured)
    }

    static func build(settings: VenueConfig, now: UInt64) throws -> MarketSetup {
        let m = settings.market
        let dir = dataDirectory(m.dataDir)
        var isFolder: ObjCBool = false
        if let configured = m.dataDir,
            !FileManager.default.fileExists(atPath: configured, isDirectory: &isFolder) || !isFolder.boolValue
        {
            throw SetupError("data folder \(configured) does not exist")
        }
        var source = m.source
        if source == nil {
            source = dir.map { FileManager.default.fileExists(atPath: $0 + "/" + hyperliquidFile) } == true ? .hyperliquid : .synthetic
        }
        func read(_ name: String) throws -> String {
            guard let dir else {
                throw SetupError("market \(source!.rawValue) needs the data folder: \(RepositoryPaths.missingDataDirectory)")
            }
            let path = dir + "/" + name
            if name.hasSuffix(".gz") {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw SetupError(
                        "market \(source!.rawValue) cannot read \(path) (set --data-dir or \(RepositoryPaths.dataDirectoryVariable))")
                }
                do { return try DataFiles.text(path) } catch { throw SetupError(error.description) }
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SetupError(
                    "market \(source!.rawValue) cannot read \(path) (set --data-dir or \(RepositoryPaths.dataDirectoryVariable))")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let candleMs = UInt64(m.candleSeconds * 1000)
        // Candles start on multiples of their length, so that bars built from the prints line up with
        // them; the first, already under way, plays at once.
        let aligned = candleMs > 0 ? now / candleMs * candleMs : now
        var players: [MarketPlayer] = []
        var recordedCoin: String?
        if let btc = settings.assets.firstIndex(where: { $0.name == "BTC" }), source != .synthetic {
            let spec = settings.assets[btc]
            let script: MarketScript
            switch source! {
            case .hyperliquid: script = try MarketScripts.hyperliquidCapture(read(hyperliquidFile), coin: "BTC")
            case .binanceTrades: script = try MarketScripts.binanceTrades(read(binanceFile), coin: "BTC", spec: spec)
            case .binanceL2: script = try MarketScripts.binanceL2(read(binanceL2File), coin: "BTC", spec: spec)
            case .ftxCandles:
                var candles = try CandleFile.parse(read(ftxFile))
                if let from = m.from.flatMap(CandleFile.parseTimestamp) { candles.removeAll { $0.openTime < from } }
                if let count = m.candles { candles = Array(candles.prefix(count)) }
                script = try MarketScripts.candles(candles, coin: "BTC", spec: spec, candleMs: candleMs)
            case .synthetic: fatalError("unreachable")
            }
            let start = source == .ftxCandles ? aligned : now
            players.append(MarketPlayer(coin: "BTC", spec: spec, source: .script(script), startMs: start, speed: m.speed))
            recordedCoin = "BTC"
        }
        for (i, spec) in settings.assets.enumerated() where spec.name != recordedCoin {
            var listing = PaperListing.listing(spec.name)
            listing.spec = spec
            let synthetic = listing.market(marketSeed: m.seed, ownSeed: m.seed &+ UInt64(i) &+ 1, startPrice: m.startPrices[spec.name])
            players.append(MarketPlayer(coin: spec.name, spec: spec, source: .synthetic(synthetic, candleMs: candleMs), startMs: aligned))
        }
        var description = source!.rawValue
        if source == .synthetic { description += " seed \(m.seed)" }
        if let recordedCoin, settings.assets.count > 1 { description += " (\(recordedCoin)); others synthetic seed \(m.seed)" }
        return MarketSetup(players: players, description: description, tickMs: max(10, min(100, candleMs / 10)))
    }
}
