import Synchronization

/// Thrown by `withDeadline` when the operation did not finish in time.
public struct DeadlineExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    public let timeout: Duration

    public init(timeout: Duration) { self.timeout = timeout }

    public var description: String { "deadline of \(timeout) exceeded" }
}

/// Runs `operation` and gives control back at the deadline even if the operation never answers and
/// ignores cancellation: the caller gets `DeadlineExceeded` and the operation is cancelled (it may keep
/// running in the background until it notices, which is why it must be `@Sendable` and escaping).
///
/// Cancelling the caller cancels the operation and throws `CancellationError` at once.
public func withDeadline<C: Clock<Duration>, T: Sendable>(
    _ timeout: Duration,
    clock: C,
    operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    // Fixed before anything runs so that a manual clock advanced right after the call still fires.
    let deadline = clock.now.advanced(by: timeout)
    guard timeout > .zero else { throw DeadlineExceeded(timeout: timeout) }
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.wait(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                // Cancelled when the operation wins.
                guard (try? await clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
                race.finish(.failure(DeadlineExceeded(timeout: timeout)))
            }
            race.track(work: work, timer: timer)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of operation, timer and caller cancellation to finish resumes the caller and cancels the rest.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        // The caller was cancelled before it started waiting.
        if let early { continuation.resume(with: early) }
    }

    func track(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let finished = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.result != nil
        }
        if finished {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let winner: (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?)? = state.withLock {
            state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        guard let (continuation, work, timer) = winner else { return }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(with: result)
    }
}
