import CZeroMQ
import Foundation
import Logging
import Schema
import Synchronization

/// What a subscriber sees: envelopes, and the gaps and restarts between them.
public enum BusEvent: Sendable {
    case envelope(RawEnvelope)
    case gap(SequenceGap)
    case restart(PublisherRestart)
}

/// A SUB socket owned by one thread, connected to the publishers it needs.
///
/// It subscribes to everything at the socket and filters topics here, after the
/// sequence check: the sequence is per publisher, so only a subscriber that sees all
/// of a publisher's messages can tell a gap from a message it filtered out.
public final class Subscriber: Sendable {
    public let endpoints: [String]
    public let counters: BusCounters
    /// When each source was last heard, whatever the topic filter kept.
    public let heard = HeardSources()
    private let stopping = StopFlag()
    private let done = DispatchSemaphore(value: 0)
    private let closeHandlers = Mutex<[@Sendable () -> Void]>([])

    public init(
        context: BusContext, endpoints: [String], topics: [String] = [""], options: SocketOptions = .subscriber,
        counters: BusCounters, logger: Logger, handler: @escaping @Sendable (BusEvent) -> Void
    ) throws {
        self.endpoints = endpoints
        self.counters = counters
        let stopping = self.stopping
        let done = self.done
        let filter = TopicFilter(topics)
        let heard = self.heard
        let connectResult: Result<Void, BusError> = SocketThread.start(name: "bus-sub") { started in
            guard let socket = zmq_socket(context.handle, ZMQ_SUB) else {
                started(.failure(.last("socket", endpoints.joined(separator: ","))))
                done.signal()
                return
            }
            ZMQ.apply(options, to: socket, isPublisher: false)
            zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0)
            for endpoint in endpoints where zmq_connect(socket, endpoint) != 0 {
                started(.failure(.last("connect", endpoint)))
                zmq_close(socket)
                done.signal()
                return
            }
            started(.success(()))
            var receiver = Receiver(
                filter: filter, counters: counters, heard: heard, logger: logger, handler: handler)
            var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            while !stopping.isSet {
                // The timeout bounds how long close() waits for this thread.
                guard zmq_poll(&item, 1, 100) > 0 else { continue }
                while let frames = ZMQ.receiveFrames(socket) {
                    receiver.accept(frames)
                }
                receiver.flush()
            }
            zmq_close(socket)
            done.signal()
        }
        try connectResult.get()
    }

    /// Stops the socket thread and closes the socket, then finishes its stream. Idempotent.
    public func close() {
        if stopping.set() {
            done.wait()
            for handler in closeHandlers.withLock({ $0 }) { handler() }
        }
    }

    private func onClose(_ handler: @escaping @Sendable () -> Void) {
        closeHandlers.withLock { $0.append(handler) }
    }

    deinit { close() }

    /// A subscriber whose events arrive as an async sequence. Events beyond
    /// `bufferLimit` waiting to be consumed are dropped and counted.
    public static func stream(
        context: BusContext, endpoints: [String], topics: [String] = [""], options: SocketOptions = .subscriber,
        counters: BusCounters, logger: Logger, bufferLimit: Int = 100_000
    ) throws -> (Subscriber, AsyncStream<BusEvent>) {
        let (stream, continuation) = AsyncStream<BusEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let subscriber = try Subscriber(
            context: context, endpoints: endpoints, topics: topics, options: options, counters: counters,
            logger: logger
        ) { event in
            if case .dropped = continuation.yield(event) { counters.add(.dropped) }
        }
        subscriber.onClose { continuation.finish() }
        return (subscriber, stream)
    }
}

/// Prefix filter over topic frames; `""` matches everything.
public struct TopicFilter: Sendable {
    private let prefixes: [[UInt8]]
    public init(_ topics: [String]) { prefixes = topics.map { Array($0.utf8) } }
    public func matches(_ topic: [UInt8]) -> Bool {
        prefixes.contains { topic.starts(with: $0) }
    }
}

/// Socket-thread state: parse, check sequence, filter, deliver.
struct Receiver {
    let filter: TopicFilter
    let counters: BusCounters
    let heard: HeardSources
    let logger: Logger
    let handler: @Sendable (BusEvent) -> Void
    var tracker = SequenceTracker()
    var complaints = 0
    /// Counted per drained batch, not per message: the counters take a lock.
    var received: UInt64 = 0
    var heardInBatch: Set<String> = []

    mutating func flush() {
        if received > 0 { counters.add(.received, received) }
        received = 0
        for source in heardInBatch { heard.record(source) }
        heardInBatch.removeAll(keepingCapacity: true)
    }

    mutating func accept(_ frames: [[UInt8]]) {
        received += 1
        guard frames.count == 2 else {
            reject(.malformed("expected 2 frames, got \(frames.count)"), topic: frames.first ?? [])
            return
        }
        let raw: RawEnvelope
        do {
            raw = try RawEnvelope(topic: String(decoding: frames[0], as: UTF8.self), bytes: frames[1])
        } catch {
            reject(error, topic: frames[0])
            return
        }
        heardInBatch.insert(raw.header.source)
        let key = EnvelopeHeaderKey(
            source: raw.header.source, instance: raw.header.instance, sequence: raw.header.sequence)
        switch tracker.observe(key) {
        case .inOrder, .firstContact: break
        case .gap(let gap):
            counters.add(.gaps)
            counters.add(.missing, gap.missing)
            logger.warning("bus gap", metadata: ["gap": "\(gap)"])
            handler(.gap(gap))
        case .restart(let restart):
            counters.add(.restarts)
            logger.notice("publisher restarted", metadata: ["restart": "\(restart)"])
            handler(.restart(restart))
        case .stale(let last, let received):
            // A repeated envelope (a duplicated order command, say) must not act twice.
            counters.add(.duplicates)
            logger.warning(
                "dropped a repeated sequence",
                metadata: ["source": "\(key.source)", "last": "\(last)", "received": "\(received)"])
            return
        }
        if filter.matches(frames[0]) {
            handler(.envelope(raw))
        }
    }

    private mutating func reject(_ error: EnvelopeError, topic: [UInt8]) {
        if case .unsupportedVersion = error {
            counters.add(.unknownVersion)
        } else {
            counters.add(.decodeErrors)
        }
        // Log the first few and then a sample, so a misbehaving peer cannot flood the log.
        complaints += 1
        if complaints <= 10 || complaints % 1000 == 0 {
            logger.warning(
                "dropped undecodable message",
                metadata: [
                    "topic": "\(String(decoding: topic.prefix(80), as: UTF8.self))", "error": "\(error)",
                    "count": "\(complaints)",
                ])
        }
    }
}

/// Set once by `close`, read by the socket thread.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    /// True the first time.
    func set() -> Bool { !flag.exchange(true, ordering: .acquiringAndReleasing) }
}

/// The last time each publishing service was heard, for readiness: a service that does
/// not hear its upstreams is not ready to trade.
public final class HeardSources: Sendable {
    private let last = Mutex<[String: ContinuousClock.Instant]>([:])

    public init() {}

    func record(_ source: String) {
        let now = ContinuousClock.now
        last.withLock { $0[source] = now }
    }

    /// Sources heard within `window`.
    public func recent(within window: Duration) -> Set<String> {
        let cutoff = ContinuousClock.now - window
        return Set(last.withLock { $0 }.filter { $0.value >= cutoff }.keys)
    }
}
