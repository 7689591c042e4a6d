import Foundation
import Schema

/// What waits for the trace writer: envelopes, gaps and restarts taken on the bus's socket thread,
/// handed to a writer thread a batch at a time (SQLite calls block; the socket thread must not).
/// Holds at most `maxBacklog` items: beyond that an item is refused, and the caller counts it lost.
public final class TraceQueue: @unchecked Sendable {
    // Everything mutable is guarded by `condition`.
    private var pending = TraceBatch()
    private var finished = false
    private let condition = NSCondition()
    /// Items that wake the writer before its flush interval is up.
    public let maxBatch: Int
    public let maxBacklog: Int

    public init(maxBatch: Int, maxBacklog: Int) {
        self.maxBatch = max(1, maxBatch)
        self.maxBacklog = max(1, maxBacklog)
    }

    /// False when the backlog is full: the envelope is not kept.
    public func add(_ envelope: RawEnvelope, receivedAt: EpochNanos) -> Bool {
        insert { $0.envelopes.append(.init(envelope: envelope, receivedAt: receivedAt)) }
    }

    public func add(_ gap: SequenceGap, at: EpochNanos) -> Bool {
        insert { $0.gaps.append((gap, at)) }
    }

    public func add(_ restart: PublisherRestart, at: EpochNanos) -> Bool {
        insert { $0.restarts.append((restart, at)) }
    }

    private func insert(_ append: (inout TraceBatch) -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard pending.count < maxBacklog else { return false }
        append(&pending)
        if pending.count >= maxBatch { condition.signal() }
        return true
    }

    /// Everything waiting, once `maxBatch` items wait, `finish` was called, or `within` has passed
    /// (then possibly nothing); `finished` says no more will come.
    public func next(within: Duration) -> (batch: TraceBatch, finished: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if !finished && pending.count < maxBatch && within > .zero {
            let seconds = Double(within.components.seconds) + Double(within.components.attoseconds) / 1e18
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        let batch = pending
        pending = TraceBatch()
        return (batch, finished)
    }

    /// A batch that could not be written goes back in front of what arrived since; returns what now waits.
    /// It is kept whatever the backlog: it was accepted already.
    @discardableResult
    public func putBack(_ batch: TraceBatch) -> Int {
        condition.lock()
        defer { condition.unlock() }
        var merged = batch
        merged.envelopes += pending.envelopes
        merged.gaps += pending.gaps
        merged.restarts += pending.restarts
        pending = merged
        return pending.count
    }

    /// Wakes the writer: take what is left, then stop.
    public func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return pending.count
    }

    /// Whether a waiting envelope matches (the recorder's look-up of a fill not yet written).
    public func contains(where matches: (TraceBatch.Item) -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return pending.envelopes.contains(where: matches)
    }
}
