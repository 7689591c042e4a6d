import ArgumentParser
import Bus
import Foundation
import Logging
import Metrics
import Schema
import ServiceKit

/// Tails the bus: connects to every publisher in the endpoint table.
@main
struct BusSpy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busspy", abstract: "Watch Breakwater's bus: every publisher, filtered, one line a message.")

    @Option(help: "The JSON config file with the endpoint table.")
    var config: String?

    @Option(help: "The run-data directory of `breakwater up`, where busspy finds its bus key (keys/bus).")
    var varDir: String?

    @Option(name: .customLong("endpoint"), help: "Also connect to this publisher (tcp://host:port; plain-text buses only).")
    var extraEndpoints: [String] = []

    @Option(help: "Only topics starting with this prefix (repeatable).")
    var topic: [String] = []

    @Option(help: "Only messages from this service (repeatable).")
    var service: [String] = []

    @Option(help: "Only messages about this symbol.")
    var symbol: String?

    @Option(help: "Only messages of this trace id.")
    var trace: String?

    @Flag(help: "Print each envelope as one JSON line.")
    var json = false

    @Flag(help: "Print live rates per topic and per service once a second instead of messages.")
    var stats = false

    @Option(help: "Stop after this many messages.")
    var count: Int?

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        if let varDir { environment["BREAKWATER_VAR_DIR"] = varDir }
        var settings = await Settings.load(file: config, environment: environment)
        let topology = Topology.read(&settings)
        // busspy has a key of its own, which publishers admit and no subscriber trusts as a publisher.
        let authentication = BusKeys.read(&settings, principal: BusKeys.spy)
        if case .curve = authentication, !extraEndpoints.isEmpty {
            settings.problem("--endpoint: on a CURVE bus busspy connects only to the publishers of the endpoint table")
        }
        guard settings.problems.isEmpty else {
            for problem in settings.problems { FileHandle.standardError.write(Data("config problem: \(problem)\n".utf8)) }
            throw ExitCode(2)
        }
        var logger = Logger(label: "busspy") { JSONLogHandler(label: $0, level: .warning) }
        logger.logLevel = .error
        let context = BusContext()
        let peers = BusAuthentication.peers(ServiceName.allCases, in: topology)
            + extraEndpoints.map { BusPeer(endpoint: $0, service: nil) }
        let counters = BusCounters(factory: NOOPMetricsHandler.instance, role: "busspy")
        let rejections = BusRejections(factory: NOOPMetricsHandler.instance, logger: logger)
        if let warning = authentication.warning { FileHandle.standardError.write(Data("busspy: \(warning)\n".utf8)) }
        let (subscriber, stream) = try Subscriber.stream(
            context: context, peers: peers, security: authentication.security(rejections: rejections),
            topics: topic.isEmpty ? [""] : topic, counters: counters, logger: logger)
        let filter = MessageFilter(services: Set(service), symbol: symbol, trace: trace)
        let deadline = seconds.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let stopper = Task {
            if let deadline { try? await Task.sleep(until: deadline) } else { try? await Task.sleep(for: .seconds(1e9)) }
        }
        var statistics = RateTable()
        var printed = 0
        var lastStats = ContinuousClock.now
        let events = MergedEvents(stream: stream, tick: .seconds(1))
        eventLoop: for await item in events {
            if stopper.isCancelled || (deadline.map { ContinuousClock.now >= $0 } ?? false) { break }
            switch item {
            case .tick:
                if stats, ContinuousClock.now - lastStats >= .seconds(1) {
                    print(statistics.render(over: ContinuousClock.now - lastStats, counters: counters.snapshot))
                    statistics.resetWindow()
                    lastStats = ContinuousClock.now
                }
            case .event(.gap(let gap)):
                statistics.gaps += 1
                if !stats { printLine("!! \(gap)") }
            case .event(.restart(let restart)):
                statistics.restarts += 1
                if !stats { printLine("!! \(restart)") }
            case .event(.envelope(let raw)):
                guard filter.accepts(raw) else { continue }
                statistics.record(raw)
                if !stats {
                    printLine(json ? raw.json : MessageLine.render(raw))
                }
                printed += 1
                if let count, printed >= count { break eventLoop }
            }
        }
        stopper.cancel()
        subscriber.close()
        context.terminate()
    }

    func printLine(_ line: String) {
        print(line)
        FileHandle.standardOutput.synchronizeFile()
    }
}

struct MessageFilter {
    var services: Set<String>
    var symbol: String?
    var trace: String?

    func accepts(_ raw: RawEnvelope) -> Bool {
        if !services.isEmpty && !services.contains(raw.header.source) { return false }
        if let symbol, raw.header.symbol != symbol { return false }
        if let trace, raw.header.traceId != trace { return false }
        return true
    }
}

/// Envelopes and a periodic tick in one sequence, so stats print even when the bus is quiet.
struct MergedEvents: AsyncSequence {
    enum Item { case event(BusEvent), tick }
    let stream: AsyncStream<BusEvent>
    let tick: Duration

    func makeAsyncIterator() -> AsyncStream<Item>.Iterator {
        let (merged, continuation) = AsyncStream<Item>.makeStream()
        let pump = Task {
            for await event in stream { continuation.yield(.event(event)) }
            continuation.finish()
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                continuation.yield(.tick)
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            ticker.cancel()
        }
        return merged.makeAsyncIterator()
    }
}

/// Rates per topic and per service over the last window.
struct RateTable {
    var byTopic: [String: Int] = [:]
    var byService: [String: Int] = [:]
    var totalByTopic: [String: Int] = [:]
    var gaps = 0
    var restarts = 0

    mutating func record(_ raw: RawEnvelope) {
        byTopic[raw.topic, default: 0] += 1
        byService[raw.header.source, default: 0] += 1
        totalByTopic[raw.topic, default: 0] += 1
    }

    mutating func resetWindow() {
        byTopic = [:]
        byService = [:]
    }

    func render(over window: Duration, counters: BusCounters.Snapshot) -> String {
        let seconds = max(Double(window.wholeNanoseconds) / 1e9, 0.001)
        func rate(_ count: Int) -> String { String(format: "%9.1f/s", Double(count) / seconds) }
        var lines = ["--- \(Date().formatted(date: .omitted, time: .standard))  gaps \(gaps)  restarts \(restarts)  decode errors \(counters.decodeErrors)"]
        lines.append("  by service")
        for (service, count) in byService.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(service.padding(toLength: 20, withPad: " ", startingAt: 0)) \(rate(count))")
        }
        lines.append("  by topic")
        for (topic, total) in totalByTopic.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "    \(topic.padding(toLength: 28, withPad: " ", startingAt: 0)) \(rate(byTopic[topic] ?? 0))  total \(total)")
        }
        return lines.joined(separator: "\n")
    }
}
