import CZeroMQ
import Foundation
import Logging
import Schema
import Synchronization

/// Who publishes: the service and this process's instance id.
public struct PublisherIdentity: Sendable, Equatable {
    public var service: String
    public var instance: String
    public init(service: String, instance: String) {
        self.service = service
        self.instance = instance
    }
}

/// A bound PUB socket owned by one thread. `publish` may be called from any task: it
/// encodes, stamps the sequence and hands the frames to the socket thread.
public final class Publisher: Sendable {
    public let identity: PublisherIdentity
    public let endpoint: String
    public let counters: BusCounters

    private let outbox: Outbox
    private let clock: @Sendable () -> EpochNanos
    private let sequence = Mutex<UInt64>(0)
    private let done = DispatchSemaphore(value: 0)
    private let logger: Logger

    /// Whether subscribers must authenticate (CURVE); false on a plain-text bus.
    public let isSecure: Bool

    /// Binds on the socket's own thread; throws if the endpoint cannot be bound. With `security` the
    /// socket is a CURVE server and the context's ZAP handler admits only the keyring's keys.
    public init(
        context: BusContext, endpoint: String, identity: PublisherIdentity, options: SocketOptions = .publisher,
        security: BusSecurity? = nil, counters: BusCounters, clock: @escaping @Sendable () -> EpochNanos,
        logger: Logger
    ) throws {
        self.isSecure = security != nil
        if let security { try context.authenticate(with: security) }
        self.identity = identity
        self.endpoint = endpoint
        self.counters = counters
        self.clock = clock
        self.logger = logger
        let outbox = Outbox(limit: options.outboundQueueLimit)
        self.outbox = outbox
        let done = self.done
        let bindResult: Result<Void, BusError> = SocketThread.start(name: "bus-pub \(endpoint)") { started in
            guard let socket = zmq_socket(context.handle, ZMQ_PUB) else {
                started(.failure(.last("socket", endpoint)))
                done.signal()
                return
            }
            ZMQ.apply(options, to: socket, isPublisher: true)
            if let security, !ZMQ.applyServer(security, to: socket) {
                started(.failure(.last("curve server", endpoint)))
                zmq_close(socket)
                done.signal()
                return
            }
            guard zmq_bind(socket, endpoint) == 0 else {
                started(.failure(.last("bind", endpoint)))
                zmq_close(socket)
                done.signal()
                return
            }
            started(.success(()))
            Publisher.run(socket: socket, outbox: outbox, counters: counters)
            zmq_close(socket)
            done.signal()
        }
        try bindResult.get()
    }

    private static func run(socket: UnsafeMutableRawPointer, outbox: Outbox, counters: BusCounters) {
        while let batch = outbox.takeAll() {
            for frames in batch {
                if ZMQ.sendPair(socket, topic: frames.topic, payload: frames.envelope) {
                    counters.add(.sent)
                } else {
                    counters.add(.dropped)
                }
            }
        }
    }

    /// Publishes one message; returns the header it went out with.
    @discardableResult
    public func publish<M: BusMessage>(_ body: M, traceId: String) throws -> EnvelopeHeader {
        let bodyBytes = try EnvelopeCodec.encodeBody(body)
        let topic = Array(body.topic.utf8)
        let symbol = body.symbol
        // Sequence and enqueue under one lock, so the wire order is the sequence order.
        return try sequence.withLock { last in
            let header = EnvelopeHeader(
                type: M.messageType.rawValue, source: identity.service, instance: identity.instance,
                sequence: last + 1, publishTime: clock(), traceId: traceId, symbol: symbol)
            let envelope = EnvelopeCodec.encode(header: header, body: bodyBytes)
            guard outbox.put(Frames(topic: topic, envelope: envelope)) else {
                counters.add(.dropped)
                throw BusError(operation: "publish", endpoint: endpoint, message: "outbound queue full or closed")
            }
            last += 1
            return header
        }
    }

    /// Sends what is queued (within the linger) and closes the socket. Idempotent.
    public func close() {
        if outbox.close() {
            done.wait()
        }
    }

    deinit { close() }
}

struct Frames: Sendable {
    var topic: [UInt8]
    var envelope: [UInt8]
}

/// The hand-off between publishing tasks and the socket thread.
final class Outbox: @unchecked Sendable {
    // Guarded by `condition`.
    private var queue: [Frames] = []
    private var closed = false
    private let condition = NSCondition()
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func put(_ frames: Frames) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, queue.count < limit else { return false }
        queue.append(frames)
        if queue.count == 1 { condition.signal() }
        return true
    }

    /// Waits for work; nil once closed and drained.
    func takeAll() -> [Frames]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        if queue.isEmpty { return nil }
        let batch = queue
        queue.removeAll(keepingCapacity: true)
        return batch
    }

    /// True the first time.
    func close() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if closed { return false }
        closed = true
        condition.signal()
        return true
    }
}
