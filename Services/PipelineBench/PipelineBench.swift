import ArgumentParser
import BenchKit
import Bus
import Foundation
import Histogram
import Logging
import Metrics
import Schema
import ServiceKit
import Synchronization
import TestSupport

/// The live order path, measured on the running services: `breakwater up` in paper mode (exchange-sim playing
/// the shared one-minute candle file, one candle every 1/rate s; the feed building bars from its trades; the
/// signal generator's RSI; the risk gate; the executor; the trace recorder) and busspy, all as child processes
/// on free loopback ports. It listens on the bus and times each bar's trace from publish to publish: bar → signal
/// → intent → risk decision → order command; and the bar's and the intent's arrival here, the transport's share
/// of the two hops. A bare bus hop (a publisher and a subscriber in this process, same CURVE setting, same rate)
/// runs alongside.
@main
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-bench",
        abstract: "Bar → signal → intent → risk decision → order command latencies on the running services, the transport's share of them, and a bare bus hop.")

    @Option(help: "Bars per second (at most 1: the feed builds bars of at least a second from the exchange's trades).")
    var rate = 1.0

    @Option(help: "Seconds of bars measured, once the system trades.")
    var seconds = 120

    @Option(help: "RSI period of the strategy (rsi_standard with these bands trades on a share of the bars).")
    var rsiPeriod = 2

    @Option(help: "RSI bands: oversold, and overbought = 100 - this.")
    var rsiOversold = 20.0

    @Flag(
        help: "Keep the risk gate's state on tmpfs (/dev/shm): shows what the reservation's fsync, taken before each decision is published, costs. A diagnostic, not a way to run.")
    var riskStateOnTmpfs = false

    @Flag(help: "A plain-text bus (paper mode only); CURVE on every socket otherwise, as in production.")
    var plain = false

    @Option(help: "The folder holding breakwater and the services (default: this executable's).")
    var binaries: String?

    @Flag(help: "Keep the run's folder (config, logs, trace database) instead of removing it.")
    var keep = false

    func run() async throws {
        guard rate > 0, rate <= 1, seconds > 0 else { throw ValidationError("--rate must be in (0, 1], --seconds > 0") }
        let folder = binaries ?? (RepositoryPaths.executablePath as NSString).deletingLastPathComponent
        for name in ["breakwater", "busspy", "feed-handler", "signal-generator", "risk-gate", "executor", "trace-recorder", "exchange-sim"]
        where !FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            throw ValidationError("\(folder)/\(name) is missing: build the release products first (make bench-pipeline)")
        }
        guard let dataDir = RepositoryPaths.sharedDataDirectory(configured: nil),
            FileManager.default.fileExists(atPath: "\(dataDir)/btc-perp-1m-ftx-2022-01.csv")
        else { throw ValidationError("the shared candle file is missing (set \(RepositoryPaths.dataDirectoryVariable))") }

        let system = try BenchSystem(
            binaries: folder, dataDir: dataDir, rate: rate, curve: !plain, rsiPeriod: rsiPeriod, rsiOversold: rsiOversold,
            riskStateFile: riskStateOnTmpfs ? "/dev/shm/pipeline-bench-\(UUID().uuidString)/risk-state.db" : nil)
        let stop = TerminationWatch { system.stop() }
        defer {
            stop.cancel()
            system.stop()
            if !keep { try? FileManager.default.removeItem(at: system.directory) } else { print("kept \(system.directory.path)") }
        }
        try system.start()
        let uptime = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        print(
            "pipeline-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, bus \(plain ? "plain" : "CURVE"), "
                + "\(rate) bars/s for \(seconds) s, rsi_standard period \(rsiPeriod) bands \(rsiOversold)/\(100 - rsiOversold); "
                + "load \(uptime?.joined(separator: " ") ?? "?")")

        var settings = await Settings.load(file: system.configPath, environment: system.environment)
        let topology = Topology.read(&settings)
        let authentication = BusKeys.read(&settings, principal: BusKeys.supervisor)
        guard settings.problems.isEmpty else { throw ValidationError("config: \(settings.problems.joined(separator: "; "))") }
        let logger = Logger(label: "pipeline-bench") { _ in SwiftLogNoOpLogHandler() }
        let context = BusContext()
        let rejections = BusRejections(factory: NOOPMetricsHandler.instance, logger: logger)
        let cycles = CycleBook()
        let listener = try Subscriber(
            context: context, peers: BusAuthentication.peers([.feedHandler, .signalGenerator, .riskGate], in: topology),
            security: authentication.security(rejections: rejections),
            topics: ["md.bar.", "sig.", "intent.", "risk.decision.", "order."],
            counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "bench"), logger: logger
        ) { event in
            if case .envelope(let raw) = event { cycles.record(raw.header, topic: raw.topic) }
        }
        defer { listener.close() }

        print("waiting for the services and the first bars (up to 120 s)…")
        let startDeadline = ContinuousClock.now + .seconds(120)
        while cycles.bars == 0 {
            guard ContinuousClock.now < startDeadline, system.isRunning else {
                throw ValidationError("no bar on the bus: see \(system.directory.path)/var/logs (run with --keep)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        // A few seconds for the indicators to warm up and the caches to fill, then measure.
        try await Task.sleep(for: .seconds(3))
        cycles.startMeasuring()
        let hop = try BareHop(context: context, curve: !plain, rate: rate)
        try await Task.sleep(for: .seconds(seconds))
        hop.stop()
        cycles.stopMeasuring()
        try await Task.sleep(for: .seconds(1))  // the last bars' orders
        listener.close()
        hop.close()
        context.terminate()

        let stages = cycles.stages()
        let hopLatency = hop.latencies()
        func line(_ name: String, _ nanos: [Int64]) -> String {
            let (p50, p99) = percentiles(nanos)
            return name.padding(toLength: 28, withPad: " ", startingAt: 0)
                + String(
                    format: "%7d %10.1f %10.1f %8.2f %8.2f", nanos.count, p50, p99, hopLatency.p50 > 0 ? p50 / hopLatency.p50 : 0,
                    hopLatency.p99 > 0 ? p99 / hopLatency.p99 : 0)
        }
        print("stage                         count     p50 µs     p99 µs  p50/hop  p99/hop")
        for (name, nanos) in stages { print(line(name, nanos)) }
        print(line("bare bus hop", hop.samples()))
        let transport = cycles.transport()
        print("the transport alone: publish → this bench's socket thread, a subscriber of the same publishers among the same fan-out")
        print(line("bar hop, feed → bench", transport.bar))
        print(line("intent hop, signals → bench", transport.intent))
        print(line("both hops (per order)", transport.twoHops))
        print(line("tick to order − both hops", transport.services))
        let orders = stages.first { $0.name.hasPrefix("bar → order") }?.nanos.count ?? 0
        print(
            String(
                format: "%d bars measured, %d with an order command (%.1f %%); budget tick to order p50 < 500 µs, p99 < 2000 µs",
                cycles.measuredBars, orders, cycles.measuredBars > 0 ? 100 * Double(orders) / Double(cycles.measuredBars) : 0))
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        print("load after the run: \(load?.joined(separator: " ") ?? "?")")
        func figures(_ nanos: [Int64]) -> [String: Any] {
            let (p50, p99) = percentiles(nanos)
            return ["count": nanos.count, "p50Micros": p50, "p99Micros": p99]
        }
        var summary: [String: Any] = [
            "bench": "pipeline", "curve": !plain, "rate": rate, "seconds": seconds, "bars": cycles.measuredBars,
            "orders": orders, "bareHop": figures(hop.samples()),
            "transport": [
                "bar": figures(transport.bar), "intent": figures(transport.intent),
                "bothHops": figures(transport.twoHops), "tickToOrderLessBothHops": figures(transport.services),
            ],
        ]
        summary["stages"] = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, figures($0.nanos)) })
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

/// Nearest-rank p50 and p99 in µs; zeros when empty.
func percentiles(_ nanos: [Int64]) -> (p50: Double, p99: Double) {
    guard !nanos.isEmpty else { return (0, 0) }
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    for value in nanos { histogram.record(UInt64(max(value, 0))) }
    let percentiles = Percentiles(histogram)
    return (percentiles.p50, percentiles.p99)
}

/// Publish times per trace — the bar, its first signal, intent, risk decision and order command — and when
/// the bar and the intent reached this bench. The bench subscribes to the same publishers as the services
/// on the path, over the same CURVE sockets and among the same fan-out, so a message's way to its socket
/// thread is the transport's share of a hop with no service behind it.
final class CycleBook: Sendable {
    private struct Cycle {
        var bar: EpochNanos
        var measured: Bool
        var barArrival: EpochNanos
        var signal: EpochNanos?
        var intent: EpochNanos?
        var intentArrival: EpochNanos?
        var decision: EpochNanos?
        var order: EpochNanos?
    }
    private let state = Mutex((cycles: [String: Cycle](), measuring: false, bars: 0))
    private let clock = WallClock.system.now

    var bars: Int { state.withLock { $0.bars } }
    var measuredBars: Int { state.withLock { $0.cycles.values.filter(\.measured).count } }
    func startMeasuring() { state.withLock { $0.measuring = true } }
    func stopMeasuring() { state.withLock { $0.measuring = false } }

    /// On the listener's socket thread, as each envelope arrives.
    func record(_ header: EnvelopeHeader, topic: String) {
        let arrival = clock()
        state.withLock { state in
            if topic.hasPrefix("md.bar.") {
                state.bars += 1
                state.cycles[header.traceId] = Cycle(bar: header.publishTime, measured: state.measuring, barArrival: arrival)
                return
            }
            guard var cycle = state.cycles[header.traceId] else { return }
            if topic.hasPrefix("sig."), cycle.signal == nil { cycle.signal = header.publishTime }
            if topic.hasPrefix("intent."), cycle.intent == nil {
                cycle.intent = header.publishTime
                cycle.intentArrival = arrival
            }
            if topic.hasPrefix("risk.decision."), cycle.decision == nil { cycle.decision = header.publishTime }
            if topic.hasPrefix("order."), header.type == MessageType.orderCommand.rawValue, cycle.order == nil {
                cycle.order = header.publishTime
            }
            state.cycles[header.traceId] = cycle
        }
    }

    /// Each stage over the measured bars that reached both of its ends, in ns.
    func stages() -> [(name: String, nanos: [Int64])] {
        let cycles = state.withLock { $0.cycles.values.filter(\.measured) }
        func span(_ from: (Cycle) -> EpochNanos?, _ to: (Cycle) -> EpochNanos?) -> [Int64] {
            cycles.compactMap { cycle in from(cycle).flatMap { start in to(cycle).map { $0 - start } } }
        }
        return [
            ("bar → signal", span(\.bar, \.signal)),
            ("signal → intent", span(\.signal, \.intent)),
            ("intent → risk decision", span(\.intent, \.decision)),
            ("risk decision → order", span(\.decision, \.order)),
            ("bar → order (tick to order)", span(\.bar, \.order)),
        ]
    }

    /// The transport's share: each message's publish to this bench's socket thread, and per cycle with an
    /// order the bar's and the intent's together (the two hops tick to order crosses), in ns.
    func transport() -> (bar: [Int64], intent: [Int64], twoHops: [Int64], services: [Int64]) {
        let cycles = state.withLock { $0.cycles.values.filter(\.measured) }
        var bar: [Int64] = []
        var intent: [Int64] = []
        var twoHops: [Int64] = []
        var services: [Int64] = []
        for cycle in cycles {
            let barHop = cycle.barArrival - cycle.bar
            bar.append(barHop)
            guard let published = cycle.intent, let arrived = cycle.intentArrival else { continue }
            let intentHop = arrived - published
            intent.append(intentHop)
            guard let order = cycle.order else { continue }
            twoHops.append(barHop + intentHop)
            services.append(order - cycle.bar - barHop - intentHop)
        }
        return (bar, intent, twoHops, services)
    }
}

/// One bus hop with nothing behind it: a publisher and a subscriber in this process on a free loopback
/// port, CURVE as the services have it, one bar every 1/rate s, timed publish to delivery.
final class BareHop: @unchecked Sendable {
    private let publisher: Publisher
    private let subscriber: Subscriber
    private let state = HopState()
    private let finished = DispatchSemaphore(value: 0)

    /// What the publishing thread and the subscriber's thread share with the caller.
    final class HopState: Sendable {
        let received = Mutex<[Int64]>([])
        let stopping = Mutex(false)
    }

    init(context: BusContext, curve: Bool, rate: Double) throws {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let security = curve ? try BusSecurity.pair(publisher: "hop", subscriber: "hop-sub", logger: logger) : nil
        let publisherSecurity = security?.publisher
        let subscriberSecurity = security?.subscriber
        let endpoint = "tcp://127.0.0.1:\(freePorts(1)[0])"
        let clock = WallClock.system.now
        publisher = try Publisher(
            context: context, endpoint: endpoint, identity: PublisherIdentity(service: "hop", instance: "hop"),
            security: publisherSecurity, counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "pub"),
            clock: clock, logger: logger)
        let state = self.state
        subscriber = try Subscriber(
            context: context, peers: [BusPeer(endpoint: endpoint, service: "hop")], security: subscriberSecurity,
            counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "sub"), logger: logger
        ) { event in
            guard case .envelope(let raw) = event, (try? raw.decode(Bar.self)) != nil else { return }
            let latency = clock() - raw.header.publishTime
            state.received.withLock { $0.append(latency) }
        }
        let bar = Bar(
            symbol: "BTC", intervalSeconds: 60, openTime: 1_641_081_600_000_000_000, open: "46319.0",
            high: "46385.0", low: "46319.0", close: "46377.0", volume: "2300413.7295")
        let interval = 1 / rate
        let publisher = self.publisher
        let finished = self.finished
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.5)  // the subscription reaches the publisher
            var generator = SystemRandomNumberGenerator()
            var next = Date()
            while !state.stopping.withLock({ $0 }) {
                next += interval
                Thread.sleep(until: next)
                _ = try? publisher.publish(bar, traceId: Identifier.random(using: &generator))
            }
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        state.stopping.withLock { $0 = true }
        finished.wait()
        Thread.sleep(forTimeInterval: 0.2)
    }

    func close() {
        subscriber.close()
        publisher.close()
    }

    func samples() -> [Int64] { state.received.withLock { $0 } }
    func latencies() -> (p50: Double, p99: Double) { percentiles(samples()) }
}

/// `breakwater up` (which starts exchange-sim and the five services) and busspy, in a temporary folder.
final class BenchSystem: @unchecked Sendable {
    let directory: URL
    let configPath: String
    let environment: [String: String]
    private let binaries: String
    private let curve: Bool
    private let children = Mutex<[ChildProcess]>([])

    /// Removed with the run: the risk state's folder when it is not under the run's folder.
    private let riskStateFolder: String?

    init(
        binaries: String, dataDir: String, rate: Double, curve: Bool, rsiPeriod: Int, rsiOversold: Double,
        riskStateFile: String?
    ) throws {
        riskStateFolder = riskStateFile.map { ($0 as NSString).deletingLastPathComponent }
        self.binaries = binaries
        self.curve = curve
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = freePorts(13)
        var endpoints: [String: Any] = [:]
        for (index, key) in ["feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder"].enumerated() {
            endpoints[key] = ["bus": "tcp://127.0.0.1:\(ports[index])", "admin": "127.0.0.1:\(ports[5 + index])"]
        }
        var config: [String: Any] = [
            "logLevel": "info",
            "symbols": ["BTC"],
            "endpoints": endpoints,
            "supervisor": ["admin": "127.0.0.1:\(ports[10])"],
            "bus": ["curve": curve],
            // One strategy whose bands make it trade on a share of the bars; no ChromaDB (recall is off).
            "signal": [
                "strategies": "rsi_standard",
                "rsi": ["period": rsiPeriod, "oversold": rsiOversold, "overbought": 100 - rsiOversold],
            ],
            "recall": ["enabled": false],
            "exchange": ["url": "http://127.0.0.1:\(ports[12])"],
            // The venue plays the real candles, so the orders meet the market the bars come from.
            "exchangeSim": ["candleSeconds": 1 / rate, "market": "ftx-candles", "dataDir": dataDir],
        ]
        if let riskStateFile {
            try FileManager.default.createDirectory(
                atPath: (riskStateFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            config["risk"] = ["stateFile": riskStateFile]
        }
        configPath = directory.appendingPathComponent("config.json").path
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: configPath))
        var environment = ProcessInfo.processInfo.environment
        environment[RepositoryPaths.dataDirectoryVariable] = dataDir
        environment["BREAKWATER_VAR_DIR"] = directory.appendingPathComponent("var").path
        self.environment = environment
    }

    var varDir: String { directory.appendingPathComponent("var").path }

    /// Every child still there (each is reaped when it ends, so a dead one no longer answers signal 0).
    var isRunning: Bool {
        let pids = children.withLock { $0.map(\.pid) }
        return !pids.isEmpty && pids.allSatisfy { kill($0, 0) == 0 }
    }

    func start() throws {
        try FileManager.default.createDirectory(atPath: varDir, withIntermediateDirectories: true)
        try spawn("breakwater", ["up", "--config", configPath, "--var-dir", varDir], log: "\(directory.path)/breakwater-up.log")
        // busspy prints every envelope, as an operator tailing the bus would; it needs its key, which `up` makes.
        let key = "\(varDir)/keys/bus/busspy.key"
        let deadline = Date() + 30
        while curve, !FileManager.default.fileExists(atPath: key), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        try spawn("busspy", ["--config", configPath, "--var-dir", varDir], log: "\(directory.path)/busspy.log")
    }

    private func spawn(_ name: String, _ arguments: [String], log: String) throws {
        let child = try ChildProcess.spawn(
            executable: "\(binaries)/\(name)", arguments: arguments, environment: environment, log: log
        ) { _ in }
        children.withLock { $0.append(child) }
    }

    /// SIGTERM to each child (`breakwater up` stops what it started), SIGKILL after 20 s. Idempotent.
    func stop() {
        let running = children.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for child in running { kill(child.pid, SIGTERM) }
        let deadline = Date() + 20
        for child in running {
            while kill(child.pid, 0) == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if kill(child.pid, 0) == 0 { kill(child.pid, SIGKILL) }
        }
        if let riskStateFolder { try? FileManager.default.removeItem(atPath: riskStateFolder) }
    }
}

/// Stops the children on SIGINT or SIGTERM, then exits.
final class TerminationWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(_ stop: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("pipeline-bench: stopping the services\n".utf8))
                stop()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}
