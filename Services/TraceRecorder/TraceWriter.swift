import Bus
import CoreMetrics
import Foundation
import Ledger
import Logging
import Schema
import ServiceKit
import Storage

/// Batches envelopes from the socket thread and writes them on a thread of its own:
/// SQLite calls block, and must not block the subscriber or the cooperative pool.
final class TraceWriter: @unchecked Sendable {
    /// What the socket thread took and the writer has not written yet.
    private let queue: TraceQueue
    // Everything mutable below is guarded by `lock`.
    private var written = 0
    /// P&L of the fills written so far, from the one FIFO ledger every component shares.
    private var ledger: FifoLedger
    private var failures = 0
    /// Every fill id in the trace: a fill is written once, from the bus or from the ledger's backfill.
    private var tracedFills: Set<String>
    private var lastError: String?
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private let database: TraceDatabase
    private let flushInterval: Duration
    private let clock: WallClock
    private let logger: Logger
    private let status: ServiceStatus
    private let writtenCounter: CoreMetrics.Counter
    private let lostCounter: CoreMetrics.Counter
    private let batchTimer: CoreMetrics.Timer
    /// Failed batch writes (a full disk), and envelopes held in memory waiting to be written.
    private let failureCounter: CoreMetrics.Counter
    private let duplicateFills: CoreMetrics.Counter
    private let backlogGauge: CoreMetrics.Gauge
    private let onWriteFailure: @Sendable (String) -> Void
    private let checkpoints: CheckpointThread

    init(
        database: TraceDatabase, flushInterval: Duration, maxBatch: Int, maxBacklog: Int, clock: WallClock,
        logger: Logger, metrics: any MetricsFactory, status: ServiceStatus, startingCapital: Amount,
        onWriteFailure: @escaping @Sendable (String) -> Void
    ) throws {
        self.ledger = FifoLedger(startingCapital: startingCapital)
        // The fills already there (a restart): none is written twice. Unreadable, the recorder
        // does not start, rather than write them again.
        tracedFills = try database.fillIds()
        self.onWriteFailure = onWriteFailure
        self.database = database
        self.flushInterval = flushInterval
        queue = TraceQueue(maxBatch: maxBatch, maxBacklog: maxBacklog)
        self.clock = clock
        self.logger = logger
        self.status = status
        writtenCounter = CoreMetrics.Counter(label: "breakwater_trace_written_total", factory: metrics)
        lostCounter = CoreMetrics.Counter(label: "breakwater_trace_lost_total", factory: metrics)
        batchTimer = CoreMetrics.Timer(label: "breakwater_trace_batch_seconds", factory: metrics)
        duplicateFills = CoreMetrics.Counter(label: "breakwater_trace_duplicate_fills_total", factory: metrics)
        failureCounter = CoreMetrics.Counter(label: "breakwater_trace_write_failures_total", factory: metrics)
        backlogGauge = CoreMetrics.Gauge(label: "breakwater_trace_backlog", factory: metrics)
        backlogGauge.record(0)
        // The writer's commits neither copy pages into the file nor wait for the disk: this thread does.
        checkpoints = CheckpointThread(
            name: "trace-checkpoint", every: .seconds(1), checkpoint: database.checkpoint,
            failed: { [logger] error in logger.warning("trace checkpoint failed", metadata: ["error": "\(error)"]) },
            recovered: { [logger] in logger.notice("trace checkpoints done again") })
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "trace-writer"
        thread.start()
    }

    /// Called on the subscriber's socket thread.
    func accept(_ event: BusEvent) {
        let now = clock.now()
        let kept =
            switch event {
            case .envelope(let raw): queue.add(raw, receivedAt: now)
            case .gap(let gap): queue.add(gap, at: now)
            case .restart(let restart): queue.add(restart, at: now)
            }
        if !kept { lostCounter.increment() }
    }

    /// Whether the trace has this fill, written or waiting to be (a writer behind, a full disk).
    func hasTraced(_ fillId: String) -> Bool {
        lock.lock()
        let traced = tracedFills.contains(fillId)
        lock.unlock()
        if traced { return true }
        return queue.contains {
            $0.envelope.messageType == .fill && (try? $0.envelope.decode(Fill.self))?.fillId == fillId
        }
    }

    /// Writes what is pending and stops the writer thread.
    func finish() {
        queue.finish()
        done.wait()
        checkpoints.stop()
    }

    var statistics: [String: Any] {
        let pending = queue.count
        lock.lock()
        defer { lock.unlock() }
        let account = ledger.account
        return [
            "written": written, "pending": pending, "writeFailures": failures, "lastError": lastError ?? "",
            "pnl": [
                "realized": account.realizedPnl.description, "fees": account.fees.description,
                "closedTrades": ledger.closedTrades.count, "equity": account.realizedEquity.description,
            ],
        ]
    }

    private func run() {
        var backoff = flushInterval
        while true {
            let next = queue.next(within: backoff)
            var batch = next.batch
            let stop = next.finished
            lock.lock()
            let known = tracedFills
            lock.unlock()
            // A fill already in the trace (a backfill and its late bus copy) is not written again.
            var fills: [Fill] = []
            var seen = known
            var duplicates = 0
            batch.envelopes.removeAll { item in
                guard item.envelope.messageType == .fill, let fill = try? item.envelope.decode(Fill.self) else { return false }
                guard seen.insert(fill.fillId).inserted else {
                    duplicates += 1
                    return true
                }
                fills.append(fill)
                return false
            }
            if duplicates > 0 { duplicateFills.increment(by: Int64(duplicates)) }
            if !batch.isEmpty {
                let started = ContinuousClock.now
                do {
                    try database.write(batch)
                    batchTimer.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
                    writtenCounter.increment(by: Int64(batch.count))
                    lock.lock()
                    written += batch.envelopes.count
                    for fill in fills {
                        tracedFills.insert(fill.fillId)
                        _ = try? ledger.apply(fill)
                    }
                    lock.unlock()
                    backlogGauge.record(0)
                    if backoff != flushInterval {
                        backoff = flushInterval
                        status.setDegraded("database", nil)
                        logger.notice("trace database writable again")
                    }
                } catch {
                    // Keep the batch: put it back in front of what arrived since, and retry later.
                    let waiting = queue.putBack(batch)
                    lock.lock()
                    failures += 1
                    lastError = "\(error)"
                    lock.unlock()
                    failureCounter.increment()
                    backlogGauge.record(waiting)
                    status.setDegraded("database", "writes failing: \(error)")
                    logger.error("trace write failed; holding the batch", metadata: ["error": "\(error)"])
                    if backoff == flushInterval { onWriteFailure("\(error)") }
                    backoff = min(backoff * 2, .seconds(5))
                    if stop {
                        logger.critical("stopping with unwritten envelopes", metadata: ["pending": "\(waiting)"])
                        break
                    }
                    continue
                }
            }
            if stop && queue.count == 0 { break }
        }
        done.signal()
    }
}
