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

/// A bound PUB socket. `publish` may be called from any task: it encodes the body, then stamps the
/// sequence and sends under one lock, so the wire order is the sequence order and the socket is used
/// by one thread at a time (libzmq allows a socket to move between threads across a full memory
/// barrier, which the lock is). Sending never blocks: a PUB socket drops at its high-water mark, and
/// the publish then throws. No hand-off to a socket thread of its own: one thread wake-up less per
/// message (see the README's bus hop).
public final class Publisher: Sendable {
    public let identity: PublisherIdentity
    public let endpoint: String
    public let counters: BusCounters

    private let state: Mutex<SocketState>
    private let clock: @Sendable () -> EpochNanos
    private let logger: Logger

    /// Whether subscribers must authenticate (CURVE); false on a plain-text bus.
    public let isSecure: Bool

    /// Binds; throws if the endpoint cannot be bound. With `security` the socket is a CURVE server and
    /// the context's ZAP handler admits only the keyring's keys.
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
        state = Mutex(SocketState(socket: socket))
    }

    /// Publishes one message; returns the header it went out with.
    @discardableResult
    public func publish<M: BusMessage>(_ body: M, traceId: String) throws -> EnvelopeHeader {
        let bodyBytes = try EnvelopeCodec.encodeBody(body)
        let topic = Array(body.topic.utf8)
        let symbol = body.symbol
        return try state.withLock { state in
            guard let socket = state.socket else {
                counters.add(.dropped)
                throw BusError(operation: "publish", endpoint: endpoint, message: "publisher closed")
            }
            let header = EnvelopeHeader(
                type: M.messageType.rawValue, source: identity.service, instance: identity.instance,
                sequence: state.sequence + 1, publishTime: clock(), traceId: traceId, symbol: symbol)
            let envelope = EnvelopeCodec.encode(header: header, body: bodyBytes)
            guard ZMQ.sendPair(socket, topic: topic, payload: envelope) else {
                counters.add(.dropped)
                throw BusError.last("publish", endpoint)
            }
            counters.add(.sent)
            state.sequence += 1
            return header
        }
    }

    /// Closes the socket; libzmq still sends what is queued within the linger, and the context's
    /// `terminate` waits for that. Idempotent.
    public func close() {
        state.withLock { state in
            if let socket = state.socket { zmq_close(socket) }
            state.socket = nil
        }
    }

    deinit { close() }
}

/// The socket and its sequence, guarded together.
private struct SocketState: @unchecked Sendable {
    // Only touched under the publisher's lock.
    var socket: UnsafeMutableRawPointer?
    var sequence: UInt64 = 0
}
