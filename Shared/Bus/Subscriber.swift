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

    /// A plain-text subscriber of `endpoints`.
    public convenience init(
        context: BusContext, endpoints: [String], topics: [String] = [""], options: SocketOptions = .subscriber,
        counters: BusCounters, logger: Logger, handler: @escaping @Sendable (BusEvent) -> Void
    ) throws {
        try self.init(
            context: context, peers: endpoints.map { BusPeer(endpoint: $0, service: nil) }, security: nil,
            topics: topics, options: options, counters: counters, logger: logger, handler: handler)
    }

    /// One SUB socket per publisher, all on one thread. With `security` each socket is a CURVE client
    /// pinning its publisher's key, so every envelope on it comes from that publisher: one whose `src`
    /// is another, or whose topic its sender may not use, is dropped and counted. Failed handshakes
    /// (a server with the wrong key, a plain-text peer) are seen through a socket monitor and counted.
    public init(
        context: BusContext, peers: [BusPeer], security: BusSecurity?, topics: [String] = [""],
        options: SocketOptions = .subscriber, counters: BusCounters, logger: Logger,
        handler: @escaping @Sendable (BusEvent) -> Void
    ) throws {
        self.endpoints = peers.map(\.endpoint)
        self.counters = counters
        let stopping = self.stopping
        let done = self.done
        let filter = TopicFilter(topics)
        let heard = self.heard
        // Each peer's pinned key, resolved before any socket exists.
        var serverKeys: [String?] = []
        for peer in peers {
            guard let security else {
                serverKeys.append(nil)
                continue
            }
            guard let service = peer.service, let key = security.keyring.publicKey(of: service) else {
                done.signal()  // no socket thread will: deinit's close() must not wait for one
                throw BusError(
                    operation: "connect", endpoint: peer.endpoint,
                    message: "no bus public key for its publisher \(peer.service ?? "(unnamed)")")
            }
            serverKeys.append(key)
        }
        let pinned = serverKeys
        let monitorTag = UInt64.random(in: 0...UInt64.max)
        let connectResult: Result<Void, BusError> = SocketThread.start(name: "bus-sub") { started in
            var sockets: [UnsafeMutableRawPointer] = []
            var monitors: [(socket: UnsafeMutableRawPointer, endpoint: String)] = []
            func closeAll() {
                for socket in sockets {
                    zmq_socket_monitor(socket, nil, 0)
                    zmq_close(socket)
                }
                for monitor in monitors { zmq_close(monitor.socket) }
            }
            for (index, peer) in peers.enumerated() {
                guard let socket = zmq_socket(context.handle, ZMQ_SUB) else {
                    started(.failure(.last("socket", peer.endpoint)))
                    closeAll()
                    done.signal()
                    return
                }
                sockets.append(socket)
                ZMQ.apply(options, to: socket, isPublisher: false)
                if let security, let key = pinned[index] {
                    let address = "inproc://bus-monitor-\(monitorTag)-\(index)"
                    let events =
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                        | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                    guard ZMQ.applyClient(security, serverKey: key, to: socket),
                        zmq_socket_monitor(socket, address, events) == 0,
                        let monitor = zmq_socket(context.handle, ZMQ_PAIR)
                    else {
                        started(.failure(.last("curve client", peer.endpoint)))
                        closeAll()
                        done.signal()
                        return
                    }
                    ZMQ.setInt(monitor, ZMQ_LINGER, 0)
                    monitors.append((monitor, peer.endpoint))
                    guard zmq_connect(monitor, address) == 0 else {
                        started(.failure(.last("monitor", peer.endpoint)))
                        closeAll()
                        done.signal()
                        return
                    }
                }
                zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0)
                guard zmq_connect(socket, peer.endpoint) == 0 else {
                    started(.failure(.last("connect", peer.endpoint)))
                    closeAll()
                    done.signal()
                    return
                }
            }
            started(.success(()))
            let senders = security == nil ? peers.map { _ in nil } : peers.map(\.service)
            var receiver = Receiver(
                filter: filter, counters: counters, heard: heard, logger: logger, security: security,
                handler: handler)
            var items = (sockets + monitors.map(\.socket)).map {
                zmq_pollitem_t(socket: $0, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            }
            while !stopping.isSet {
                // The timeout bounds how long close() waits for this thread.
                guard zmq_poll(&items, Int32(items.count), 100) > 0 else { continue }
                for index in items.indices where items[index].revents & Int16(ZMQ_POLLIN) != 0 {
                    if index < sockets.count {
                        while let frames = ZMQ.receiveFrames(sockets[index]) {
                            receiver.accept(frames, sender: senders[index])
                        }
                    } else {
                        let monitor = monitors[index - sockets.count]
                        while let frames = ZMQ.receiveFrames(monitor.socket) {
                            receiver.handshakeFailed(frames, endpoint: monitor.endpoint)
                        }
                    }
                }
                receiver.flush()
            }
            closeAll()
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
        try stream(
            context: context, peers: endpoints.map { BusPeer(endpoint: $0, service: nil) }, security: nil,
            topics: topics, options: options, counters: counters, logger: logger, bufferLimit: bufferLimit)
    }

    /// The stream form of `init(context:peers:security:…)`.
    public static func stream(
        context: BusContext, peers: [BusPeer], security: BusSecurity?, topics: [String] = [""],
        options: SocketOptions = .subscriber, counters: BusCounters, logger: Logger, bufferLimit: Int = 100_000
    ) throws -> (Subscriber, AsyncStream<BusEvent>) {
        let (stream, continuation) = AsyncStream<BusEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let subscriber = try Subscriber(
            context: context, peers: peers, security: security, topics: topics, options: options,
            counters: counters, logger: logger
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
    /// Set on a CURVE bus: the keyring decides which envelopes each sender may deliver.
    let security: BusSecurity?
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

    /// `sender`: the principal whose pinned key authenticated the socket the frames came in on; nil on
    /// a plain-text bus.
    mutating func accept(_ frames: [[UInt8]], sender: String? = nil) {
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
        // Before the sequence check: a forged envelope must not move another publisher's sequence.
        if let security, let sender,
            case .rejected(let reason) = security.keyring.verdict(
                topic: raw.topic, source: raw.header.source, sender: sender)
        {
            security.rejections.record(
                reason,
                detail: "from \(sender): src \(raw.header.source.prefix(64)), topic \(raw.topic.prefix(80))")
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

    /// A socket monitor's event: `[u16 event, u32 value][endpoint]` (only handshake failures are asked for).
    func handshakeFailed(_ frames: [[UInt8]], endpoint: String) {
        guard let security, frames.count == 2, frames[0].count >= 6 else { return }
        let event = UInt16(frames[0][0]) | UInt16(frames[0][1]) << 8
        let value = frames[0][2..<6].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let kind: String
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: kind = "protocol error 0x\(String(value, radix: 16))"
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: kind = "refused, status \(value)"
        default: kind = "closed during the handshake (wrong server key?)"
        }
        security.rejections.record(.handshakeFailed, detail: "publisher \(endpoint): \(kind)")
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
