import Synchronization

/// Thrown when a bulkhead's calls and queue are both full.
public struct BulkheadFull: Error, Sendable, Equatable, CustomStringConvertible {
    public let maxConcurrentCalls: Int
    public let maxQueuedCalls: Int

    public init(maxConcurrentCalls: Int, maxQueuedCalls: Int) {
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxQueuedCalls = maxQueuedCalls
    }

    public var description: String {
        "bulkhead full: \(maxConcurrentCalls) calls running and \(maxQueuedCalls) queued"
    }
}

/// Limits concurrent calls to a dependency. Calls beyond the limit wait in a bounded FIFO queue; beyond
/// the queue they are rejected at once with `BulkheadFull`. A queued call that is cancelled leaves the queue.
public final class Bulkhead: Sendable {
    public let maxConcurrentCalls: Int
    public let maxQueuedCalls: Int
    private let state: Mutex<State>

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var queue: [Waiter] = []
        var nextID: UInt64 = 0
    }

    public init(maxConcurrentCalls: Int, maxQueuedCalls: Int) {
        precondition(maxConcurrentCalls >= 1, "a bulkhead needs at least one concurrent call")
        precondition(maxQueuedCalls >= 0, "maxQueuedCalls must not be negative")
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxQueuedCalls = maxQueuedCalls
        state = Mutex(State())
    }

    public var runningCalls: Int { state.withLock { $0.running } }
    public var queuedCalls: Int { state.withLock { $0.queue.count } }

    /// Runs `operation` once a slot is free.
    public func run<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> T
    ) async throws -> T {
        try await acquire()
        defer { release() }
        return try await operation()
    }

    /// Takes a slot, waiting in the queue if needed. Every successful `acquire()` needs one `release()`.
    public func acquire() async throws {
        let admitted = state.withLock { state in
            guard state.running < maxConcurrentCalls && state.queue.isEmpty else { return false }
            state.running += 1
            return true
        }
        if admitted { return }
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Admission { case admitted, queued, full, cancelled }
                // Admission and enqueueing happen in one critical section, shared with `onCancel` and
                // `release()`, so the queue bound, FIFO order and cancellation all hold under races.
                let admission: Admission = state.withLock { state in
                    if Task.isCancelled { return .cancelled }
                    if state.running < maxConcurrentCalls && state.queue.isEmpty {
                        state.running += 1
                        return .admitted
                    }
                    guard state.queue.count < maxQueuedCalls else { return .full }
                    state.queue.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch admission {
                case .admitted: continuation.resume()
                case .queued: break
                case .full:
                    continuation.resume(
                        throwing: BulkheadFull(maxConcurrentCalls: maxConcurrentCalls, maxQueuedCalls: maxQueuedCalls))
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Frees a slot, handing it straight to the longest-waiting call if there is one.
    public func release() {
        let next: Waiter? = state.withLock { state in
            guard !state.queue.isEmpty else {
                precondition(state.running > 0, "bulkhead released more often than acquired")
                state.running -= 1
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume()
    }
}
