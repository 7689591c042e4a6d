import Bus
import CZeroMQ
import CoreMetrics
import Foundation
import Logging
import Schema
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import TestSupport
#endif

let quietLogger = Logger(label: "bus-tests") { _ in SwiftLogNoOpLogHandler() }

/// Long enough for a loaded 2-core machine; a failure costs this much, a pass much less.
let patience: Duration = .seconds(15)

/// Polls `condition` until it holds or the deadline passes. It never asserts on time: the
/// deadline only keeps a broken implementation from hanging the suite.
func eventually(within timeout: Duration = patience, _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

/// Everything a subscriber delivered, in delivery order.
final class EventLog: Sendable {
    private let events = Mutex<[BusEvent]>([])

    func append(_ event: BusEvent) { events.withLock { $0.append(event) } }

    var all: [BusEvent] { events.withLock { $0 } }

    var envelopes: [RawEnvelope] {
        all.compactMap { if case .envelope(let envelope) = $0 { envelope } else { nil } }
    }
    var gaps: [SequenceGap] {
        all.compactMap { if case .gap(let gap) = $0 { gap } else { nil } }
    }
    var restarts: [PublisherRestart] {
        all.compactMap { if case .restart(let restart) = $0 { restart } else { nil } }
    }

    func contains(trace: String) -> Bool { envelopes.contains { $0.header.traceId == trace } }

    /// A one-line summary of an event, to compare whole sequences of events.
    static func describe(_ event: BusEvent) -> String {
        switch event {
        case .envelope(let envelope): "envelope \(envelope.header.traceId) #\(envelope.header.sequence)"
        case .gap(let gap): "gap \(gap.after)->\(gap.received)"
        case .restart(let restart): "restart \(restart.previousInstance)->\(restart.instance)"
        }
    }
}

/// Publishes `probe` until `arrived` says the subscriber has seen one, so the test starts only once
/// the subscription has propagated (the slow-joiner problem), without a fixed sleep.
/// Returns the headers of every probe published.
@discardableResult
func join(_ publisher: Publisher, until arrived: () -> Bool) async throws -> [EnvelopeHeader] {
    // Topic `svc.hb.probe`: a test that filters on `md.` sees probes only in its counters.
    let probe = Heartbeat(service: "probe", health: .ok, uptimeMs: 0, breakers: [], facts: [:])
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: patience)
    var headers: [EnvelopeHeader] = []
    while clock.now < deadline {
        headers.append(try publisher.publish(probe, traceId: "probe-\(headers.count + 1)"))
        if await eventually(within: .milliseconds(50), arrived) { return headers }
    }
    throw TestFailure("no probe from \(publisher.endpoint) arrived within \(patience)")
}

/// A clock that hands out 1_000, 2_000, … so every envelope's time is known.
final class CountingClock: Sendable {
    private let value = Atomic<Int64>(0)
    var now: @Sendable () -> EpochNanos { { [self] in value.add(1_000, ordering: .relaxed).newValue } }
}

func bar(_ symbol: String, _ index: Int) -> Bar {
    Bar(
        symbol: symbol, intervalSeconds: 60, openTime: 1_700_000_000_000_000_000 + Int64(index) * 60_000_000_000,
        open: Amount(index), high: Amount(index + 2), low: "0.5", close: "1.25", volume: "1000.125")
}

func trade(_ symbol: String, _ index: Int) -> Trade {
    Trade(symbol: symbol, price: "105055.5", size: "0.001", side: .buy, tradeId: "t\(index)", exchangeTime: 1)
}

// MARK: - Raw libzmq

/// A PUB socket driven by hand, to send what a well-behaved `Publisher` never would:
/// skipped sequences, wrong frame counts, garbage. Calls are serialised by a lock (libzmq
/// allows a socket to move between threads behind a full barrier) and never block.
final class RawPublisher: @unchecked Sendable {
    private let lock = NSLock()
    private let context: UnsafeMutableRawPointer
    // Guarded by `lock`.
    private var socket: UnsafeMutableRawPointer?
    let endpoint: String
    let source: String
    var instance: String {
        get { lock.withLock { _instance } }
        set { lock.withLock { _instance = newValue } }
    }
    private var _instance: String
    // Guarded by `lock`.
    private var _lastSequence: UInt64 = 0
    /// The last sequence sent through `sendEnvelope`.
    var lastSequence: UInt64 { lock.withLock { _lastSequence } }

    init(endpoint: String, source: String = "raw-feed", instance: String = "raw-instance-1") throws {
        self.endpoint = endpoint
        self.source = source
        self._instance = instance
        context = zmq_ctx_new()
        guard let socket = zmq_socket(context, ZMQ_PUB) else { throw TestFailure("zmq_socket failed") }
        var linger: Int32 = 0
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        guard zmq_bind(socket, endpoint) == 0 else {
            let why = String(cString: zmq_strerror(zmq_errno()))
            zmq_close(socket)
            zmq_ctx_term(context)
            throw TestFailure("raw bind \(endpoint): \(why)")
        }
        self.socket = socket
    }

    /// Sends the frames as one multipart message; false if libzmq refused.
    @discardableResult
    func send(_ frames: [[UInt8]]) -> Bool {
        lock.withLock {
            guard let socket else { return false }
            for (index, frame) in frames.enumerated() {
                let more = index < frames.count - 1 ? ZMQ_SNDMORE : 0
                let sent = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, more | ZMQ_DONTWAIT) }
                if sent < 0 { return false }
            }
            return true
        }
    }

    /// Sends a well-formed envelope with a chosen sequence (and optionally schema version).
    @discardableResult
    func sendEnvelope(
        sequence: UInt64, trace: String, body: Bar = bar("BTC", 0), schemaVersion: Int = SchemaVersion.major
    ) throws -> EnvelopeHeader {
        let header = EnvelopeHeader(
            schemaVersion: schemaVersion, type: Bar.messageType.rawValue, source: source, instance: instance,
            sequence: sequence, publishTime: Int64(sequence), traceId: trace, symbol: body.symbol)
        let bytes = EnvelopeCodec.encode(header: header, body: try EnvelopeCodec.encodeBody(body))
        guard send([Array(body.topic.utf8), bytes]) else { throw TestFailure("raw send of #\(sequence) refused") }
        lock.withLock { _lastSequence = sequence }
        return header
    }

    /// Sends envelopes numbered on from `lastSequence` until `arrived` holds.
    func join(until arrived: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: patience)
        while clock.now < deadline {
            try sendEnvelope(sequence: lastSequence + 1, trace: "probe-\(lastSequence + 1)")
            if await eventually(within: .milliseconds(50), arrived) { return }
        }
        throw TestFailure("no raw probe from \(endpoint) arrived within \(patience)")
    }

    func close() {
        let closed: Bool = lock.withLock {
            guard let socket else { return false }
            zmq_close(socket)
            self.socket = nil
            return true
        }
        if closed { zmq_ctx_term(context) }
    }

    deinit { close() }
}

// MARK: - Metrics

/// Records every counter the code under test creates, by label and dimensions.
final class RecordingMetricsFactory: MetricsFactory {
    final class CounterBox: CounterHandler {
        let total = Atomic<Int64>(0)
        func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
        func reset() { total.store(0, ordering: .relaxed) }
    }
    final class RecorderBox: RecorderHandler {
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }
    final class TimerBox: TimerHandler {
        func recordNanoseconds(_ duration: Int64) {}
    }

    struct Key: Hashable, CustomStringConvertible {
        var label: String
        var dimensions: [String]
        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions.map { "\($0.0)=\($0.1)" }.sorted()
        }
        var description: String { "\(label)\(dimensions)" }
    }

    private let counters = Mutex<[Key: CounterBox]>([:])

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { counters in
            let key = Key(label, dimensions)
            if let existing = counters[key] { return existing }
            let box = CounterBox()
            counters[key] = box
            return box
        }
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        RecorderBox()
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { TimerBox() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    var labels: Set<Key> { counters.withLock { Set($0.keys) } }

    /// The value of a counter, or nil if it was never created.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64? {
        counters.withLock { $0[Key(label, dimensions)]?.total.load(ordering: .relaxed) }
    }
}

extension BusCounters.Snapshot {
    func value(_ kind: BusCounters.Kind) -> UInt64 {
        switch kind {
        case .sent: sent
        case .received: received
        case .dropped: dropped
        case .missing: missing
        case .gaps: gaps
        case .restarts: restarts
        case .decodeErrors: decodeErrors
        case .unknownVersion: unknownVersion
        case .duplicates: duplicates
        }
    }
}
