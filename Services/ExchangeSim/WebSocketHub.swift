import Foundation
import Synchronization

/// The open `/ws` connections and what each subscribed to. Publishing only yields into each
/// connection's outbound stream, so it never waits on a socket.
final class WebSocketHub: Sendable {
    enum Outbound: Sendable {
        case text(String)
        case close
    }

    private struct Connection {
        let continuation: AsyncStream<Outbound>.Continuation
        var subscriptions: Set<String> = []
    }

    private let connections = Mutex<[UUID: Connection]>([:])

    func register() -> (UUID, AsyncStream<Outbound>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: Outbound.self, bufferingPolicy: .bufferingNewest(10_000))
        connections.withLock { $0[id] = Connection(continuation: continuation) }
        return (id, stream)
    }

    func unregister(_ id: UUID) {
        let removed = connections.withLock { $0.removeValue(forKey: id) }
        removed?.continuation.finish()
    }

    func subscribe(_ id: UUID, key: String) { connections.withLock { _ = $0[id]?.subscriptions.insert(key) } }

    func unsubscribe(_ id: UUID, key: String) { connections.withLock { _ = $0[id]?.subscriptions.remove(key) } }

    func send(_ id: UUID, _ text: String) {
        let continuation = connections.withLock { $0[id]?.continuation }
        continuation?.yield(.text(text))
    }

    func hasSubscribers(_ key: String) -> Bool {
        connections.withLock { $0.values.contains { $0.subscriptions.contains(key) } }
    }

    func publish(key: String, _ text: String) {
        let targets = connections.withLock { $0.values.filter { $0.subscriptions.contains(key) }.map(\.continuation) }
        for target in targets { target.yield(.text(text)) }
    }

    /// Closes every connection (fault injection); returns how many there were.
    @discardableResult
    func closeAll() -> Int {
        let all = connections.withLock { connections in
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for connection in all {
            connection.continuation.yield(.close)
            connection.continuation.finish()
        }
        return all.count
    }

    var count: Int { connections.withLock { $0.count } }
}
