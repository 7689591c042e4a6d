import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import Logging
import Market
import Metrics
import Recall
import Resilience
import Schema
import ServiceKit
import Strategy

/// Signal-cycle latency (features, strategy, recall, confidence) with ChromaDB healthy,
/// stalled (breaker open) and absent, side by side in one run.
@main
struct RecallBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall-bench",
        abstract: "Signal-cycle latency with ChromaDB healthy, stalled and absent.")

    @Option(help: "The chroma executable (a ChromaDB server is started on a free port).")
    var chroma = ".venv/bin/chroma"

    @Option(help: "Candle file to replay (default: btc-perp-1m-ftx-2022-01.csv in --data-dir); the seeded synthetic market when absent.")
    var candles: String?

    @Option(help: "Folder with the recorded market data (default: $BREAKWATER_DATA_DIR, else ../shared/data beside the repository).")
    var dataDir: String?

    @Option(help: "Signal cycles timed per scenario.")
    var cycles = 1_000

    @Option(help: "Past set-ups (with outcomes) stored before timing.")
    var history = 2_000

    @Option(help: "Recall deadline in milliseconds (the signal generator's default).")
    var deadlineMs = 100

    func run() async throws {
        let bars = try loadBars(count: history + 3 * cycles + SetupFeatureTracker.warmUpBars + 20)
        let server = try ChromaServer(command: chroma)
        defer { server.stop() }
        try await server.waitReady()
        print("ChromaDB at \(server.url); \(bars.count) bars; deadline \(deadlineMs) ms")

        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: ChromaRecallStore.makeHTTPClientConfiguration())
        let logger = Logger(label: "recall-bench") { _ in SwiftLogNoOpLogHandler() }
        let store = ChromaRecallStore(client: client, configuration: .init(baseURL: server.url), logger: logger)
        let service = RecallService(
            store: store,
            settings: .init(policy: RecallService<ContinuousClock>.defaultPolicy(deadline: .milliseconds(deadlineMs))),
            clock: ContinuousClock(), logger: logger, metricsFactory: NOOPMetricsHandler.instance)
        await service.warmUp(timeout: .seconds(5))

        var cycle = SignalCycle(service: service)
        var remaining = bars[...]
        // History: set-ups with outcomes in Chroma and the local window.
        let seeded = await cycle.seed(remaining.prefix(history))
        remaining = remaining.dropFirst(history)
        await service.flushPendingWrites()
        print("stored \(seeded) set-ups with outcomes")
        // The bulk writes may have tripped the breaker: time "healthy" only once Chroma answers.
        guard await cycle.waitForChroma(within: .seconds(60)) else {
            throw ValidationError("ChromaDB did not answer recall within 60 s after seeding")
        }

        let healthy = await cycle.time(remaining.prefix(cycles))
        remaining = remaining.dropFirst(cycles)

        server.signal(SIGSTOP)
        let stalled = await cycle.time(remaining.prefix(cycles))
        remaining = remaining.dropFirst(cycles)
        server.signal(SIGCONT)

        server.stop()
        let absent = await cycle.time(remaining.prefix(cycles))
        await service.shutdown()
        try await client.shutdown()

        func line(_ name: String, _ result: CycleTimes) -> String {
            String(
                format: "%-28@ p50 %9.1f µs  p99 %9.1f µs  max %9.1f µs  (%@)  p50 ratio to healthy %.3f",
                name as NSString, result.p50, result.p99, result.max, result.sources as NSString,
                result.p50 / healthy.p50)
        }
        print(line("chroma healthy", healthy))
        print(line("chroma stalled (SIGSTOP)", stalled))
        print(line("chroma absent (killed)", absent))
        let summary: [String: Any] = [
            "deadlineMs": deadlineMs, "cycles": cycles,
            "healthy": healthy.json, "stalled": stalled.json, "absent": absent.json,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }

    func loadBars(count: Int) throws -> [Bar] {
        let file = candles
            ?? RepositoryPaths.sharedDataDirectory(configured: dataDir).map { "\($0)/btc-perp-1m-ftx-2022-01.csv" }
        if let file, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            return try CandleFile.parse(text).prefix(count).map { $0.bar(symbol: "BTC", intervalSeconds: 60) }
        }
        var market = SyntheticMarket()
        return (0..<count).map { _ in market.nextCandle().bar(symbol: "BTC", intervalSeconds: 60) }
    }
}

struct CycleTimes {
    var p50: Double
    var p99: Double
    var max: Double
    var sources: String
    var json: [String: Any] { ["p50us": p50, "p99us": p99, "maxUs": max, "sources": sources] }
}

/// What the signal generator does per bar: features, the strategy, recall for each signal
/// with a direction, and the confidence adjustment.
struct SignalCycle {
    let service: RecallService<ContinuousClock>
    var tracker = SetupFeatureTracker()
    var desk = StrategyDesk(
        strategies: [RsiMeanReversion(parameters: .init(period: 14, oversold: 45, overbought: 55))],
        settings: .init(instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000))
    var counter = 0

    init(service: RecallService<ContinuousClock>) { self.service = service }

    mutating func nextId() -> String {
        counter += 1
        return String(format: "%032x", counter)
    }

    mutating func seed(_ bars: ArraySlice<Bar>) async -> Int {
        var stored = 0
        var previous: (id: String, close: Double, direction: Direction)?
        for bar in bars {
            guard let inputs = tracker.update(bar) else { continue }
            let features = SetupFeatures.vector(inputs)
            let direction: Direction = inputs.rsi < 50 ? .long : .short
            let id = nextId()
            await service.remember(
                setupId: id, features: features,
                context: SetupContext(symbol: "BTC", strategy: "rsi_mean_reversion", direction: direction, time: bar.openTime))
            if let previous {
                let move = (bar.close.doubleValue - previous.close) / previous.close
                let pnl = previous.direction == .long ? move : -move
                await service.recordOutcome(setupId: previous.id, outcome: SetupOutcome(pnlFraction: pnl, holdingBars: 1))
                stored += 1
            }
            previous = (id, bar.close.doubleValue, direction)
        }
        return stored
    }

    /// Until every write is in and Chroma has answered 20 reads in a row.
    func waitForChroma(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        let probe = [Double](repeating: 0, count: SetupFeatures.dimension)
        var inARow = 0
        while ContinuousClock.now < deadline {
            if service.status().pendingWrites > 0 {
                await service.flushPendingWrites()
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            if await service.recall(features: probe, symbol: "BTC", direction: .long).source == .chroma {
                inARow += 1
                if inARow >= 20 { return true }
            } else {
                inARow = 0
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        return false
    }

    mutating func time(_ bars: ArraySlice<Bar>) async -> CycleTimes {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var sources: [String: Int] = [:]
        for bar in bars {
            let started = ContinuousClock.now
            let features = tracker.update(bar).map { SetupFeatures.vector($0) }
            let ids = (0..<4).map { _ in nextId() }
            var next = ids.makeIterator()
            let output = desk.onBar(bar, now: bar.openTime, newIdentifier: { next.next() ?? "x" })
            for evaluation in output.evaluations {
                var signal = evaluation.signal
                if let features, signal.direction != .flat {
                    let answer = await service.recall(
                        features: features, symbol: "BTC", direction: signal.direction, strategy: nil)
                    signal.confidence = min(1, signal.confidence * answer.confidenceAdjustment)
                    let key = answer.source == .chroma ? "chroma" : "local:\(answer.fallbackReason?.rawValue ?? "-")"
                    sources[key, default: 0] += 1
                }
            }
            let elapsed = ContinuousClock.now - started
            histogram.record(UInt64(max(elapsed.wholeNanoseconds, 0)))
        }
        return CycleTimes(
            p50: Double(histogram.valueAtPercentile(50)) / 1_000, p99: Double(histogram.valueAtPercentile(99)) / 1_000,
            max: Double(histogram.max) / 1_000,
            sources: sources.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
}

/// A ChromaDB server of the bench's own, on a free loopback port.
final class ChromaServer: @unchecked Sendable {
    let process = Process()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recall-bench-\(UUID().uuidString)")
    let url: String

    init(command: String) throws {
        guard FileManager.default.isExecutableFile(atPath: command) else {
            throw ValidationError("no ChromaDB at \(command): run `make test` (or `make run`) to install it into .venv")
        }
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(socket, $0, length)
                _ = getsockname(socket, $0, &length)
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        Foundation.close(socket)
        url = "http://127.0.0.1:\(port)"
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = ["run", "--path", directory.path, "--host", "127.0.0.1", "--port", "\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["ANONYMIZED_TELEMETRY"] = "False"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func waitReady() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await client.execute(
                HTTPClientRequest(url: url + "/api/v2/heartbeat"), timeout: .seconds(1)), response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("ChromaDB did not answer within 60 s")
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
