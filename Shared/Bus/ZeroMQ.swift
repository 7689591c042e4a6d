import CZeroMQ
import Foundation
import Synchronization

/// One libzmq context per process, made in `main` and passed down.
public final class BusContext: @unchecked Sendable {
    // libzmq contexts are thread-safe; sockets are not: a subscriber's never leaves its thread, a
    // publisher's is used under its lock.
    let handle: UnsafeMutableRawPointer
    /// The ZAP handler of this context's CURVE publishers, once one exists.
    private let authenticator = Mutex<Authenticator?>(nil)

    public init(ioThreads: Int32 = 1) {
        handle = zmq_ctx_new()
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
    }

    /// Starts the context's ZAP handler (or gives it a new keyring); a CURVE publisher calls this before
    /// it binds, because libzmq admits every client while no handler answers.
    func authenticate(with security: BusSecurity) throws(BusError) {
        try authenticator.withLock { (current: inout Authenticator?) throws(BusError) in
            if let current {
                current.update(security)
            } else {
                current = try Authenticator(context: self, security: security)
            }
        }
    }

    /// Blocks until every socket of the context is closed.
    public func terminate() {
        authenticator.withLock { $0 }?.stop()
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

/// A CURVE keypair in Z85 text. Prints without its secret half.
public struct CurveKeyPair: Sendable, Equatable, CustomStringConvertible {
    public let publicKey: String
    public let secretKey: String

    /// Checks that both are Z85 keys and that the secret is the public key's.
    public init(publicKey: String, secretKey: String) throws(KeyringError) {
        guard Z85.isKey(publicKey) else { throw .malformedKey(principal: "this keypair") }
        guard Z85.isKey(secretKey), Curve.publicKey(forSecret: secretKey) == publicKey else { throw .mismatchedSecret }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random keypair from libzmq.
    public static func generate() throws(BusError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw BusError.last("curve_keypair", "-") }
        let pair = (String(cString: publicKey), String(cString: secretKey))
        guard let made = try? CurveKeyPair(publicKey: pair.0, secretKey: pair.1) else {
            throw BusError(operation: "curve_keypair", endpoint: "-", message: "libzmq made an unusable key")
        }
        return made
    }

    public var description: String { "CurveKeyPair(public: \(publicKey), secret: <secret>)" }
}

public enum Curve {
    /// Whether this libzmq was built with CURVE (libsodium or tweetnacl).
    public static var isAvailable: Bool { zmq_has("curve") != 0 }

    /// The public key of a Z85 secret key, or nil if it is not one.
    public static func publicKey(forSecret secret: String) -> String? {
        guard Z85.isKey(secret) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else { return nil }
        return String(cString: publicKey)
    }

    /// The Z85 text of a 32-byte binary key (as a ZAP request carries it).
    static func z85(_ binary: [UInt8]) -> String? {
        guard binary.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard binary.withUnsafeBufferPointer({ zmq_z85_encode(&text, $0.baseAddress, 32) }) != nil else { return nil }
        return String(cString: text)
    }
}

/// What a CURVE socket needs: everyone's public keys and rules, this process's principal and
/// keypair, and where refusals are counted.
public struct BusSecurity: Sendable {
    public var keyring: BusKeyring
    /// This process's name on the bus (its service name, `busspy`, `breakwater`).
    public var principal: String
    public var keyPair: CurveKeyPair
    public var rejections: BusRejections

    public init(keyring: BusKeyring, principal: String, keyPair: CurveKeyPair, rejections: BusRejections) {
        self.keyring = keyring
        self.principal = principal
        self.keyPair = keyPair
        self.rejections = rejections
    }
}

/// Where a subscriber connects, and which service publishes there (whose key it pins).
public struct BusPeer: Sendable, Equatable {
    public var endpoint: String
    /// The publishing principal; nil on a plain-text bus.
    public var service: String?
    public init(endpoint: String, service: String?) {
        self.endpoint = endpoint
        self.service = service
    }
}

/// The ZAP handler (RFC 27): a REP socket on `inproc://zeromq.zap.01` on its own thread. It admits
/// a CURVE client whose public key the keyring knows, with that principal as its User-Id, and
/// refuses (and counts) every other.
final class Authenticator: Sendable {
    private let state: Mutex<BusSecurity>
    private let stopping = StopFlag()
    private let done = DispatchSemaphore(value: 0)

    init(context: BusContext, security: BusSecurity) throws(BusError) {
        self.state = Mutex(security)
        let stopping = self.stopping
        let done = self.done
        let started: Result<Void, BusError> = SocketThread.start(name: "bus-zap") { started in
            guard let socket = zmq_socket(context.handle, ZMQ_REP) else {
                started(.failure(.last("socket", "inproc://zeromq.zap.01")))
                done.signal()
                return
            }
            ZMQ.setInt(socket, ZMQ_LINGER, 0)
            guard zmq_bind(socket, "inproc://zeromq.zap.01") == 0 else {
                started(.failure(.last("bind", "inproc://zeromq.zap.01")))
                zmq_close(socket)
                done.signal()
                return
            }
            started(.success(()))
            var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            while !stopping.isSet {
                guard zmq_poll(&item, 1, 100) > 0, let request = ZMQ.receiveFrames(socket) else { continue }
                let reply = Authenticator.answer(request, security: self.state.withLock { $0 })
                for (index, frame) in reply.enumerated() {
                    _ = frame.withUnsafeBytes {
                        zmq_send(socket, $0.baseAddress, $0.count, index < reply.count - 1 ? ZMQ_SNDMORE : 0)
                    }
                }
            }
            zmq_close(socket)
            done.signal()
        }
        try started.get()
    }

    func update(_ security: BusSecurity) { state.withLock { $0 = security } }

    func stop() {
        if stopping.set() { done.wait() }
    }

    /// The reply frames to one ZAP request: version, request id, status, text, user id, metadata.
    static func answer(_ request: [[UInt8]], security: BusSecurity) -> [[UInt8]] {
        guard request.count >= 6, request[0] == Array("1.0".utf8) else {
            return [Array("1.0".utf8), request.count > 1 ? request[1] : [], Array("500".utf8), Array("bad request".utf8), [], []]
        }
        let id = request[1]
        let address = String(decoding: request[3], as: UTF8.self)
        func refuse(_ why: String) -> [[UInt8]] {
            security.rejections.record(.unknownKey, detail: "subscriber at \(address): \(why)")
            return [Array("1.0".utf8), id, Array("400".utf8), Array(why.utf8), [], []]
        }
        guard request[5] == Array("CURVE".utf8), request.count >= 7, let key = Curve.z85(request[6]) else {
            return refuse("not a CURVE client")
        }
        guard let principal = security.keyring.principal(holding: key) else { return refuse("unknown key \(key)") }
        return [Array("1.0".utf8), id, Array("200".utf8), Array("OK".utf8), Array(principal.utf8), []]
    }
}

/// Thin helpers over the C API, for whichever thread owns the socket at the time.
enum ZMQ {
    static func setInt(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32) {
        var value = value
        zmq_setsockopt(socket, option, &value, MemoryLayout<Int32>.size)
    }

    /// A 40-character Z85 key option.
    static func setKey(_ socket: UnsafeMutableRawPointer, _ option: Int32, _ key: String) -> Bool {
        key.withCString { zmq_setsockopt(socket, option, $0, 40) } == 0
    }

    /// A publisher as a CURVE server: its secret key, and ZAP for every client.
    static func applyServer(_ security: BusSecurity, to socket: UnsafeMutableRawPointer) -> Bool {
        setInt(socket, ZMQ_CURVE_SERVER, 1)
        let domain = "breakwater"
        zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain, domain.utf8.count)
        return setKey(socket, ZMQ_CURVE_SECRETKEY, security.keyPair.secretKey)
    }

    /// A subscriber as a CURVE client of one publisher, whose key it pins.
    static func applyClient(_ security: BusSecurity, serverKey: String, to socket: UnsafeMutableRawPointer) -> Bool {
        setKey(socket, ZMQ_CURVE_SERVERKEY, serverKey)
            && setKey(socket, ZMQ_CURVE_PUBLICKEY, security.keyPair.publicKey)
            && setKey(socket, ZMQ_CURVE_SECRETKEY, security.keyPair.secretKey)
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
