import ArgumentParser
import BenchKit
import Bus
import Foundation
import GRDB
import Logging
import Metrics
import Schema
import Storage
import Synchronization

/// The trace recorder's write path, envelopes per second into SQLite: (a) `TraceDatabase.write` of
/// batches of a bus-like mix, per-batch rates over a million envelopes or more, against a baseline
/// measured in the same run (the same envelopes inserted one row each, just the JSON, into a table
/// without indexes); (b) end to end, four publishers at full speed over a real ZeroMQ bus into the
/// recorder's queue and write path, then a check that every envelope published reached the trace.
@main
struct RecorderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder-bench", abstract: "Envelopes per second through the trace recorder into SQLite.")

    @Option(help: "Envelopes written through TraceDatabase.write (part a).")
    var envelopes = 1_000_000

    /// The recorder's `maxBatch`: the size its batches reach when it is flat out (below that it writes
    /// every 50 ms, and is not the limit).
    @Option(help: "Envelopes per batch (one transaction each) in part a.")
    var batch = 20_000

    @Option(help: "Envelopes published over the bus end to end (part b); 0 skips it.")
    var busEnvelopes = 500_000

    @Option(help: "Where the temporary databases go.")
    var directory = FileManager.default.temporaryDirectory.path

    func run() throws {
        let stamp = UUID().uuidString
        let tracePath = "\(directory)/recorder-bench-\(stamp).db"
        let plainPath = "\(directory)/recorder-bench-plain-\(stamp).db"
        let busPath = "\(directory)/recorder-bench-bus-\(stamp).db"
        defer {
            for path in [tracePath, plainPath, busPath] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        try writePath(trace: TraceDatabase(path: tracePath), plain: PlainTrace(path: plainPath))
        if busEnvelopes > 0 { try endToEnd(TraceDatabase(path: busPath)) }
    }

    /// Part a: the same batches through the recorder's write path and through the baseline, alternately.
    func writePath(trace: TraceDatabase, plain: PlainTrace) throws {
        // As the recorder runs: checkpoints on a thread of their own.
        let checkpoints = CheckpointThread(name: "bench-checkpoint", every: .seconds(1), checkpoint: trace.checkpoint)
        defer { checkpoints.stop() }
        var mix = BusMix(seed: 12)
        var rates: [Double] = []
        var baselineRates: [Double] = []
        var (nanos, baselineNanos, cpuNanos): (Int64, Int64, Int64) = (0, 0, 0)
        var written = 0
        var counts: [String: Int] = [:]
        while written < envelopes {
            var items = TraceBatch()
            while items.envelopes.count < min(batch, envelopes - written) {
                for message in try mix.nextCycle() {
                    items.envelopes.append(try mix.item(message.body, source: message.source, traceId: message.traceId))
                }
            }
            for item in items.envelopes { counts[item.envelope.header.type, default: 0] += 1 }
            var began = monotonicNanos()
            let cpuBegan = threadCPUNanos()
            try trace.write(items)
            let took = monotonicNanos() - began
            cpuNanos += threadCPUNanos() - cpuBegan
            began = monotonicNanos()
            try plain.write(items)
            let baselineTook = monotonicNanos() - began
            rates.append(Double(items.envelopes.count) / (Double(took) / 1e9))
            baselineRates.append(Double(items.envelopes.count) / (Double(baselineTook) / 1e9))
            nanos += took
            baselineNanos += baselineTook
            written += items.envelopes.count
        }
        let stored = try trace.scalar("SELECT COUNT(*) FROM envelope")
        let cycles = try trace.cycleCount()
        print("(a) TraceDatabase.write, \(written) envelopes in \(rates.count) batches of \(batch) (one transaction each):")
        print(
            "    mix: "
                + counts.sorted { $0.value > $1.value }.map { "\($0.key) \(String(format: "%.1f", 100 * Double($0.value) / Double(written)))%" }
                .joined(separator: ", "))
        let (median, slow) = Self.summary(rates)
        let (baselineMedian, baselineSlow) = Self.summary(baselineRates)
        print(
            String(
                format: "    recorder write path: median %.0f envelopes/s, p99 %.0f/s (the slowest 1%% of batches), overall %.0f/s",
                median, slow, Double(written) / (Double(nanos) / 1e9)))
        print(
            String(
                format: "    CPU time of the writing thread: %.2f µs an envelope, %.0f envelopes per CPU second",
                Double(cpuNanos) / 1e3 / Double(written), Double(written) / (Double(cpuNanos) / 1e9)))
        print(
            String(
                format: "    baseline (per-row INSERT of the JSON alone, no indexes, same batches): median %.0f/s, p99 %.0f/s, overall %.0f/s",
                baselineMedian, baselineSlow, Double(written) / (Double(baselineNanos) / 1e9)))
        print(String(format: "    ratio recorder / baseline (medians): %.2f", median / baselineMedian))
        print("    rows in the trace: \(stored) of \(written) written, \(cycles) decision cycles")
        let log = (try? FileManager.default.attributesOfItem(atPath: trace.path + "-wal")[.size] as? Int) ?? 0
        print("    write-ahead log at the end: \(log / 1_000_000) MB (checkpoints on their own thread; the writer's own past 128 MB)")
        if stored != written { throw ExitCode(1) }
    }

    /// Median and 1st percentile (the slow tail: 99 % of batches were faster) of per-batch rates.
    static func summary(_ rates: [Double]) -> (median: Double, p99: Double) {
        let sorted = rates.sorted()
        return (sorted[sorted.count / 2], sorted[Int((0.01 * Double(sorted.count)).rounded(.down))])
    }

    /// Part b: a publisher per service publishing the mix at full speed, one subscriber like the
    /// recorder's feeding a `TraceQueue`, a writer thread draining it into `TraceDatabase.write`.
    func endToEnd(_ trace: TraceDatabase) throws {
        var logger = Logger(label: "recorder-bench")
        logger.logLevel = .warning
        let context = BusContext()
        defer { context.terminate() }
        let counters = BusCounters(factory: NOOPMetricsHandler.instance, role: "bench")
        var publishers: [String: Publisher] = [:]
        var random = SystemRandomNumberGenerator()
        for source in BusMix.sources {
            publishers[source] = try Publisher(
                context: context, endpoint: freeEndpoint(),
                identity: PublisherIdentity(service: source, instance: Identifier.random(using: &random)),
                counters: counters, clock: wallNanos, logger: logger)
        }
        // Each publisher's last sequence, from the headers `publish` returns.
        var lastSequences: [String: UInt64] = [:]
        // As the recorder runs: its default batch and backlog, its flush interval.
        let queue = TraceQueue(maxBatch: 20_000, maxBacklog: 2_000_000)
        let refused = Atomic<Int>(0)
        let received = Atomic<Int>(0)
        let subscriber = try Subscriber(
            context: context, endpoints: publishers.values.map(\.endpoint), counters: counters, logger: logger
        ) { event in
            let now = wallNanos()
            let kept =
                switch event {
                case .envelope(let raw): queue.add(raw, receivedAt: now)
                case .gap(let gap): queue.add(gap, at: now)
                case .restart(let restart): queue.add(restart, at: now)
                }
            if case .envelope = event { received.add(1, ordering: .relaxed) }
            if !kept { refused.add(1, ordering: .relaxed) }
        }
        defer { subscriber.close() }
        let checkpoints = CheckpointThread(name: "bench-checkpoint", every: .seconds(1), checkpoint: trace.checkpoint)
        defer { checkpoints.stop() }
        let writer = BatchWriter(queue: queue, trace: trace)

        // Subscriptions reach a publisher some milliseconds after connecting: heartbeats until every
        // publisher was heard. Those published before are dropped by the socket (no subscriber yet),
        // so the check counts from the first sequence the trace has of each publisher.
        let warmUpStarted = monotonicNanos()
        while subscriber.heard.recent(within: .seconds(60)).count < publishers.count {
            for (source, publisher) in publishers {
                lastSequences[source] = try publisher.publish(
                    Heartbeat(service: source, health: .starting, uptimeMs: 0, breakers: [], facts: [:]), traceId: "warm-up").sequence
            }
            Thread.sleep(forTimeInterval: 0.01)
            guard monotonicNanos() - warmUpStarted < 10_000_000_000 else {
                throw ValidationError("the subscriber heard no publisher within 10 s")
            }
        }
        let before = received.load(ordering: .relaxed)
        var mix = BusMix(seed: 34)
        var published = 0
        var outboxFull = 0
        let began = monotonicNanos()
        while published < busEnvelopes {
            for message in try mix.nextCycle() {
                // The outbound queue full is the publisher's back-pressure, not a loss: wait and resend.
                while true {
                    do {
                        lastSequences[message.source] = try publishers[message.source]!.publish(
                            message.body, traceId: message.traceId
                        ).sequence
                        break
                    } catch {
                        outboxFull += 1
                        guard outboxFull < 1_000_000 else { throw error }
                        Thread.sleep(forTimeInterval: 0.000_1)
                    }
                }
                published += 1
            }
        }
        let publishedIn = monotonicNanos() - began
        // Everything sent is received (or the loss shows in the check below).
        var last = (count: -1, at: monotonicNanos())
        while received.load(ordering: .relaxed) - before < published {
            let now = received.load(ordering: .relaxed)
            if now != last.count { last = (now, monotonicNanos()) }
            if monotonicNanos() - last.at > 3_000_000_000 { break }
            Thread.sleep(forTimeInterval: 0.001)
        }
        queue.finish()
        let result = writer.wait()
        let wroteIn = result.lastWriteAt - began

        var expected = 0
        var stored = 0
        var holes = 0
        for (source, lastSequence) in lastSequences {
            let first = try trace.scalar("SELECT MIN(sequence) FROM envelope WHERE source = ?", arguments: [source])
            let rows = try trace.scalar("SELECT COUNT(*) FROM envelope WHERE source = ?", arguments: [source])
            let distinct = try trace.scalar("SELECT COUNT(DISTINCT sequence) FROM envelope WHERE source = ?", arguments: [source])
            expected += Int(lastSequence) - first + 1
            stored += rows
            holes += (Int(lastSequence) - first + 1) - distinct
        }
        let gaps = try trace.scalar("SELECT COUNT(*) FROM gap")
        let restarts = try trace.scalar("SELECT COUNT(*) FROM restart")
        let lost = refused.load(ordering: .relaxed)
        print("(b) end to end over ZeroMQ: \(publishers.count) publishers → subscriber → TraceQueue → TraceDatabase.write")
        print(
            String(
                format: "    %d envelopes published at full speed in %.2f s (%.0f/s, outbound queue full %d times), all written %.2f s after the first: %.0f envelopes/s",
                published, Double(publishedIn) / 1e9, Double(published) / (Double(publishedIn) / 1e9), outboxFull,
                Double(wroteIn) / 1e9, Double(published) / (Double(wroteIn) / 1e9)))
        let (median, slow) = Self.summary(result.rates)
        print(
            String(
                format: "    recorder batches: %d, median %.0f envelopes/s, p99 %.0f/s, largest batch %d", result.rates.count, median,
                slow, result.largest))
        let nothingLost = stored == expected && holes == 0 && gaps == 0 && lost == 0 && restarts == 0
        print(
            "    nothing lost: \(nothingLost ? "yes" : "NO"): \(stored) rows in the trace for \(expected) envelopes sequenced "
                + "since each publisher was first heard (\(published) of them the benchmark's), \(holes) missing sequences, "
                + "\(gaps) gaps, \(restarts) restarts, \(lost) refused by a full backlog")
        if !nothingLost { throw ExitCode(1) }
    }
}

/// The recorder's writer loop without the service around it (fills, ledger, metrics): take a batch
/// from the queue every 50 ms or at `maxBatch`, write it, until the queue is finished and empty.
final class BatchWriter: @unchecked Sendable {
    struct Result {
        var rates: [Double] = []
        var largest = 0
        var lastWriteAt: Int64 = 0
        var error: (any Error)?
    }
    private var result = Result()
    private let done = DispatchSemaphore(value: 0)

    init(queue: TraceQueue, trace: TraceDatabase) {
        let thread = Thread { [self] in
            while true {
                let (batch, finished) = queue.next(within: .milliseconds(50))
                if !batch.isEmpty {
                    let began = monotonicNanos()
                    do {
                        try trace.write(batch)
                    } catch {
                        result.error = error
                        break
                    }
                    result.lastWriteAt = monotonicNanos()
                    result.rates.append(Double(batch.count) / (Double(result.lastWriteAt - began) / 1e9))
                    result.largest = max(result.largest, batch.count)
                }
                if finished && queue.count == 0 { break }
            }
            done.signal()
        }
        thread.name = "trace-writer"
        thread.start()
    }

    /// After `queue.finish()`: what the thread measured.
    func wait() -> Result {
        done.wait()
        return result
    }
}

/// The baseline: each envelope's JSON in a table of its own with no index, one INSERT per row
/// through GRDB, one transaction per batch, in WAL with synchronous NORMAL like the trace.
struct PlainTrace {
    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in try db.execute(sql: "CREATE TABLE envelope (id INTEGER PRIMARY KEY, json BLOB NOT NULL)") }
    }

    func write(_ batch: TraceBatch) throws {
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO envelope (json) VALUES (?)")
            for item in batch.envelopes { try insert.execute(arguments: [Data(item.envelope.bytes)]) }
        }
    }
}

/// CPU time of the calling thread: what a write costs whatever else the machine runs.
func threadCPUNanos() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// Nanoseconds since the epoch, for publish and receive times.
@Sendable func wallNanos() -> EpochNanos {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// A bus-like mix, deterministic from its seed. One decision cycle of one symbol: six book updates,
/// three trades, a bar and its signal (one in twenty approved: an entry intent, a risk decision, one
/// in five refused; the rest an order, then an ack and a fill, or one in ten an exchange reject);
/// every tenth cycle a heartbeat. Books and trades have trace ids of their own, like the feed's.
struct BusMix {
    static let sources = ["feed-handler", "signal-generator", "risk-gate", "executor"]
    static let symbols = ["BTC", "ETH", "SOL", "XRP"]
    private var random: SplitMix64
    private var cycle = 0
    private var sequences: [String: UInt64] = [:]
    private let start: EpochNanos = 1_767_225_600_000_000_000  // 2026-01-01

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    struct Message {
        var body: any BusMessage
        var source: String
        var traceId: String
    }

    /// One cycle's messages in publish order.
    mutating func nextCycle() throws -> [Message] {
        var messages: [Message] = []
        func emit(_ body: any BusMessage, _ source: String, _ traceId: String) {
            messages.append(Message(body: body, source: source, traceId: traceId))
        }
        defer { cycle += 1 }
        let index = cycle
        let at = start + Int64(index) * 250_000_000
        let symbol = Self.symbols[index % Self.symbols.count]
        let mid = 10_000 + Double(index % 500)
        for book in 0..<6 {
            let levels = (1...5).map { Amount(mid - Double($0 + book % 2)) }
            emit(
                BookUpdate(
                    symbol: symbol, bids: levels.map { BookLevel(price: $0, size: "1.5") },
                    asks: levels.map { BookLevel(price: $0 + 10, size: "2.25") }, exchangeTime: at + Int64(book) * 40_000_000),
                "feed-handler", Identifier.timeOrdered(at: at, using: &random))
        }
        for trade in 0..<3 {
            emit(
                Trade(
                    symbol: symbol, price: Amount(mid), size: "0.01", side: trade % 2 == 0 ? .buy : .sell, tradeId: "t\(index)-\(trade)",
                    exchangeTime: at + Int64(trade) * 70_000_000),
                "feed-handler", Identifier.timeOrdered(at: at, using: &random))
        }
        let trace = Identifier.timeOrdered(at: at, using: &random)
        let price = Amount(mid)
        emit(
            Bar(symbol: symbol, intervalSeconds: 60, openTime: at, open: price, high: price, low: price, close: price, volume: 1),
            "feed-handler", trace)
        let approved = index % 20 == 0
        let strategy = index % 3 == 0 ? "sma_fast" : "rsi_standard"
        let reasons: [Reason] = [
            Reason("rsi_neutral", "rsi 48.2 inside 30…70"), Reason("warming_up", "RSI(14) needs 15 closes"),
            Reason("no_crossover", "sma 10 still below sma 30"),
        ]
        emit(
            Signal(
                signalId: "s\(index)", symbol: symbol, strategy: strategy, direction: .long, confidence: 0.6, referencePrice: price,
                barTime: at, indicators: ["rsi": 28.5, "sma_fast": mid, "sma_slow": mid - 3],
                decision: approved ? .approved : .rejected,
                reasons: [approved ? Reason(.approved, "rsi 28.5 < 30") : reasons[index % reasons.count]]),
            "signal-generator", trace)
        if approved {
            let intent = OrderIntent(
                intentId: "i\(index)", symbol: symbol, side: .buy, size: 1, orderType: .market, price: price, purpose: .entry,
                reduceOnly: false, strategy: strategy, origin: "s\(index)", createdAt: at, expiresAt: at + 5_000_000_000)
            emit(intent, "signal-generator", trace)
            let refused = (index / 20) % 5 == 4
            emit(
                RiskDecision(
                    intentId: "i\(index)", symbol: symbol, outcome: refused ? .rejected : .approved,
                    reasons: [refused ? Reason(.maxOpenPositions, "8 of 8") : Reason(.withinLimits, "slots 1 of 8")],
                    requestedSize: 1, approvedSize: refused ? 0 : 1, clientOrderId: refused ? nil : "c\(index)"),
                "risk-gate", trace)
            if !refused {
                emit(
                    OrderCommand(
                        action: .place, clientOrderId: "c\(index)", intentId: "i\(index)", symbol: symbol, side: .buy, size: 1,
                        orderType: .market, price: price, timeInForce: .ioc, reduceOnly: false, purpose: .entry, strategy: strategy,
                        ackDeadline: at + 5_000_000_000),
                    "risk-gate", trace)
                if (index / 20) % 10 == 3 {
                    emit(
                        OrderReject(clientOrderId: "c\(index)", symbol: symbol, reason: Reason("exchange_rejected", "insufficient margin")),
                        "executor", trace)
                } else {
                    emit(
                        OrderAck(clientOrderId: "c\(index)", venueOrderId: "\(index)", symbol: symbol, action: .place), "executor", trace)
                    emit(
                        Fill(
                            fillId: "f\(index)", clientOrderId: "c\(index)", symbol: symbol, side: .buy, price: price, size: 1,
                            fee: "0.5", liquidity: .taker, purpose: .entry, strategy: strategy, time: at + 2_100_000),
                        "executor", trace)
                }
            }
        }
        if index % 10 == 0 {
            let source = Self.sources[(index / 10) % Self.sources.count]
            emit(
                Heartbeat(service: source, health: .ok, uptimeMs: Int64(index) * 250, breakers: [], facts: ["mode": "paper"]),
                source, Identifier.timeOrdered(at: at, using: &random))
        }
        return messages
    }

    /// The envelope `body` goes out in from `source`, as a publisher stamps it, and as the recorder takes it.
    mutating func item(_ body: some BusMessage, source: String, traceId: String) throws -> TraceBatch.Item {
        sequences[source, default: 0] += 1
        let at = start + Int64(cycle) * 250_000_000
        let header = EnvelopeHeader(
            type: type(of: body).messageType.rawValue, source: source, instance: "bench", sequence: sequences[source]!,
            publishTime: at, traceId: traceId, symbol: body.symbol)
        let bytes = try EnvelopeCodec.encode(Envelope(header: header, body: body))
        return TraceBatch.Item(envelope: try RawEnvelope(topic: body.topic, bytes: bytes), receivedAt: at + 20_000)
    }
}
