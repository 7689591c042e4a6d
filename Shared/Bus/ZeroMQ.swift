import CZeroMQ
import Foundation

/// One libzmq context per process, made in `main` and passed down.
public final class BusContext: @unchecked Sendable {
    // libzmq contexts are thread-safe; sockets are not and never leave their thread.
    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) {
        handle = zmq_ctx_new()
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
    }

    /// Blocks until every socket of the context is closed.
    public func terminate() {
        zmq_ctx_term(handle)
    }

    public static var libzmqVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}

/// Socket options, set deliberately (DESIGN.md, "The bus").
public struct SocketOptions: Sendable, Equatable {
    /// Messages queued per peer before libzmq drops (PUB) or stops reading (SUB).
    public var highWaterMark: Int32 = 100_000
    /// How long close waits to flush: a publisher's last fills must leave; a subscriber has nothing to flush.
    public var lingerMilliseconds: Int32 = 1_000
    public var reconnectMilliseconds: Int32 = 100
    public var reconnectMaxMilliseconds: Int32 = 500
    /// Messages held in process between a publishing task and the socket thread.
    public var outboundQueueLimit: Int = 100_000

    public init() {}

    public static var publisher: SocketOptions { SocketOptions() }
    public static var subscriber: SocketOptions {
        var options = SocketOptions()
        options.lingerMilliseconds = 0
        return options
    }
}

public struct BusError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var endpoint: String
    public var message: String
    public var description: String { "\(operation) \(endpoint): \(message)" }

    static func last(_ operation: String, _ endpoint: String) -> BusError {
        BusError(operation: operation, endpoint: endpoint, message: String(cString: zmq_strerror(zmq_errno())))
    }
}

/// Thin, socket-thread-only helpers over the C API.
enum ZMQ {
    static func setInt(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) {
        var value = value
        zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size)
    }

    static func apply(_ options: SocketOptions, to socket: UnsafeMutableRawPointer, isPublisher: Bool) {
        setInt(socket, isPublisher ? ZMQ_SNDHWM : ZMQ_RCVHWM, options.highWaterMark)
        setInt(socket, ZMQ_LINGER, options.lingerMilliseconds)
        setInt(socket, ZMQ_RECONNECT_IVL, options.reconnectMilliseconds)
        setInt(socket, ZMQ_RECONNECT_IVL_MAX, options.reconnectMaxMilliseconds)
        setInt(socket, ZMQ_TCP_KEEPALIVE, 1)
    }

    /// Sends `[topic][payload]` without blocking; false when libzmq refused it.
    static func sendPair(_ socket: UnsafeMutableRawPointer, topic: [UInt8], payload: [UInt8]) -> Bool {
        let first = topic.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, ZMQ_SNDMORE | ZMQ_DONTWAIT) }
        guard first >= 0 else { return false }
        let second = payload.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, ZMQ_DONTWAIT) }
        return second >= 0
    }

    /// Receives every frame of one multipart message, or nil when none is waiting.
    static func receiveFrames(_ socket: UnsafeMutableRawPointer) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let received = zmq_msg_recv(&message, socket, frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if received < 0 { return frames.isEmpty ? nil : frames }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)
            if let data, size > 0 {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}

/// Runs a closure on a dedicated thread and waits for what it reports at start.
enum SocketThread {
    static func start<T: Sendable>(
        name: String, _ body: @escaping @Sendable (_ started: @Sendable (T) -> Void) -> Void
    ) -> T {
        let ready = DispatchSemaphore(value: 0)
        let box = StartBox<T>()
        let thread = Thread {
            body { value in
                box.value = value
                ready.signal()
            }
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        ready.wait()
        return box.value!
    }

    private final class StartBox<T>: @unchecked Sendable {
        // Written once before the semaphore signals, read after it: ordered by the semaphore.
        var value: T?
    }
}
