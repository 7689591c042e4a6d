import Foundation
import Schema
import Synchronization

/// Runs a WAL database's checkpoints on a thread of its own, every `interval`: a checkpoint copies
/// pages into the database file and waits for the disk, which must not land in a writer's commit
/// (the trace recorder's batch, exchange-sim's answer to an order).
public final class CheckpointThread: Sendable {
    private final class Flag: Sendable {
        let raised = Atomic<Bool>(false)
    }
    private let stopping = Flag()
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    /// `failed` is told the first failure of a run of them, `recovered` the success that ends it.
    public init(
        name: String, every interval: Duration, checkpoint: @escaping @Sendable () throws -> Void,
        failed: @escaping @Sendable (any Error) -> Void = { _ in }, recovered: @escaping @Sendable () -> Void = {}
    ) {
        let thread = Thread { [stopping, wake, done] in
            var failing = false
            while !stopping.raised.load(ordering: .acquiring) {
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(max(0, interval.wholeNanoseconds))))
                guard !stopping.raised.load(ordering: .acquiring) else { break }
                do {
                    try checkpoint()
                    if failing { recovered() }
                    failing = false
                } catch {
                    if !failing { failed(error) }
                    failing = true
                }
            }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the thread after the checkpoint under way, if any. Idempotent.
    public func stop() {
        guard !stopping.raised.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        done.wait()
    }

    deinit { stop() }
}
