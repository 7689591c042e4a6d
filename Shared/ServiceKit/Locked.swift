import Synchronization

/// A value behind a lock, as a class: the bus loop, timers and `/status` closures of a
/// service share it, and a `Mutex` itself cannot be captured by an escaping closure.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try mutex.withLock { try body(&$0) }
    }
}
