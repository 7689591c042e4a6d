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

/// A bound PUB socket. `publish` may be called from any task: it encodes, stamps the sequence and sends,
/// all under one lock, so the socket is used by one thread at a time and the wire order is the sequence
/// order.
///
/// The publishing task sends itself rather than handing the frames to a socket thread: a hand-off costs
/// a thread wake-up per message (tens to hundreds of µs on an idle or a busy machine), on every hop of the
/// order path. `zmq_send` with `ZMQ_DONTWAIT` on a PUB socket never blocks (a peer beyond its high-water
/// mark loses the message, which libzmq drops), so this is safe on the cooperative pool; the lock is the
/// full memory barrier libzmq asks for when a socket changes threads.
public final class Publisher: Sendable {
    public let identity: PublisherIdentity
    public let endpoint: String
    public let counters: BusCounters

    private let clock: @Sendable () -> EpochNanos
    /// The last sequence sent and the socket; nil once closed.
    private let wire: Mutex<Wire>
    private let logger: Logger

    /// Whether subscribers must authenticate (CURVE); false on a plain-text bus.
    public let isSecure: Bool

    struct Wire {
        var last: UInt64 = 0
        var socket: UnsafeMutableRawPointer?
    }

    /// Binds; throws if the endpoint cannot be bound. With `security` the socket is a CURVE server and the
    /// context's ZAP handler admits only the keyring's keys.
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
        guard let socket = zmq_socket(context.handle, ZMQ_PUB) else { throw BusError.last("socket", endpoint) }
        ZMQ.apply(options, to: socket, isPublisher: true)
        if let security, !ZMQ.applyServer(security, to: socket) {
            let error = BusError.last("curve server", endpoint)
            zmq_close(socket)
            throw error
        }
        guard zmq_bind(socket, endpoint) == 0 else {
            let error = BusError.last("bind", endpoint)
            zmq_close(socket)
            throw error
        }
        self.wire = Mutex(Wire(socket: socket))
    }

    /// Publishes one message; returns the header it went out with. Throws once closed, or when libzmq
    /// refuses the frames (counted as dropped; the sequence is spent, so subscribers see the gap).
    @discardableResult
    public func publish<M: BusMessage>(_ body: M, traceId: String) throws -> EnvelopeHeader {
        let bodyBytes = try EnvelopeCodec.encodeBody(body)
        let topic = Array(body.topic.utf8)
        let symbol = body.symbol
        return try wire.withLock { wire in
            guard let socket = wire.socket else {
                counters.add(.dropped)
                throw BusError(operation: "publish", endpoint: endpoint, message: "publisher closed")
            }
            let header = EnvelopeHeader(
                type: M.messageType.rawValue, source: identity.service, instance: identity.instance,
                sequence: wire.last + 1, publishTime: clock(), traceId: traceId, symbol: symbol)
            let envelope = EnvelopeCodec.encode(header: header, body: bodyBytes)
            wire.last += 1
            guard ZMQ.sendPair(socket, topic: topic, payload: envelope) else {
                counters.add(.dropped)
                throw BusError.last("publish", endpoint)
            }
            counters.add(.sent)
            return header
        }
    }

    /// Closes the socket; libzmq still sends what it holds within the linger (until the context
    /// terminates). Idempotent.
    public func close() {
        let socket = wire.withLock { wire -> UnsafeMutableRawPointer? in
            defer { wire.socket = nil }
            return wire.socket
        }
        if let socket { zmq_close(socket) }
    }

    deinit { close() }
}
