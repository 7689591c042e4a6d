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
    // Everything mutable is guarded by `condition`.
    private var pending = TraceBatch()
    private var finished = false
    private var written = 0
    /// P&L of the fills written so far, from the one FIFO ledger every component shares.
    private var ledger: FifoLedger
    private var failures = 0
    /// Every fill id in the trace: a fill is written once, from the bus or from the ledger's backfill.
    private var tracedFills: Set<String>
    private var lastError: String?
    private let condition = NSCondition()
    private let done = DispatchSemaphore(value: 0)
    private let database: TraceDatabase
    private let flushInterval: Duration
    private let maxBatch: Int
    private let maxBacklog: Int
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

    init(
        database: TraceDatabase, flushInterval: Duration, maxBatch: Int, maxBacklog: Int, clock: WallClock,
        logger: Logger, metrics: any MetricsFactory, status: ServiceStatus, startingCapital: Amount,
        onWriteFailure: @escaping @Sendable (String) -> Void
    ) {
        self.ledger = FifoLedger(startingCapital: startingCapital)
        // The fills already there (a restart): none is written twice.
        tracedFills = (try? database.fillIds()) ?? []
        self.onWriteFailure = onWriteFailure
        self.database = database
        self.flushInterval = flushInterval
        self.maxBatch = maxBatch
        self.maxBacklog = maxBacklog
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
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "trace-writer"
        thread.start()
    }

    /// Called on the subscriber's socket thread.
    func accept(_ event: BusEvent) {
        let now = clock.now()
        condition.lock()
        defer { condition.unlock() }
        if pending.count >= maxBacklog {
            lostCounter.increment()
            return
        }
        switch event {
        case .envelope(let raw): pending.envelopes.append(.init(envelope: raw, receivedAt: now))
        case .gap(let gap): pending.gaps.append((gap, now))
        case .restart(let restart): pending.restarts.append((restart, now))
        }
        if pending.count >= maxBatch { condition.signal() }
    }

    /// Whether the trace has this fill, written or waiting to be (a writer behind, a full disk).
    func hasTraced(_ fillId: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if tracedFills.contains(fillId) { return true }
        return pending.envelopes.contains {
            $0.envelope.messageType == .fill && (try? $0.envelope.decode(Fill.self))?.fillId == fillId
        }
    }

    /// Writes what is pending and stops the writer thread.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
        done.wait()
    }

    var statistics: [String: Any] {
        condition.lock()
        defer { condition.unlock() }
        let account = ledger.account
        return [
            "written": written, "pending": pending.count, "writeFailures": failures, "lastError": lastError ?? "",
            "pnl": [
                "realized": account.realizedPnl.description, "fees": account.fees.description,
                "closedTrades": ledger.closedTrades.count, "equity": account.realizedEquity.description,
            ],
        ]
    }

    private func run() {
        var backoff = flushInterval
        while true {
            condition.lock()
            if !finished && pending.count < maxBatch {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Self.seconds(backoff)))
            }
            var batch = pending
            pending = TraceBatch()
            let stop = finished
            let known = tracedFills
            condition.unlock()
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
                    condition.lock()
                    written += batch.envelopes.count
                    for fill in fills {
                        tracedFills.insert(fill.fillId)
                        _ = try? ledger.apply(fill)
                    }
                    condition.unlock()
                    backlogGauge.record(0)
                    if backoff != flushInterval {
                        backoff = flushInterval
                        status.setDegraded("database", nil)
                        logger.notice("trace database writable again")
                    }
                } catch {
                    // Keep the batch: put it back in front of what arrived since, and retry later.
                    condition.lock()
                    var merged = batch
                    merged.envelopes += pending.envelopes
                    merged.gaps += pending.gaps
                    merged.restarts += pending.restarts
                    pending = merged
                    failures += 1
                    lastError = "\(error)"
                    condition.unlock()
                    failureCounter.increment()
                    backlogGauge.record(merged.count)
                    status.setDegraded("database", "writes failing: \(error)")
                    logger.error("trace write failed; holding the batch", metadata: ["error": "\(error)"])
                    if backoff == flushInterval { onWriteFailure("\(error)") }
                    backoff = min(backoff * 2, .seconds(5))
                    if stop {
                        logger.critical("stopping with unwritten envelopes", metadata: ["pending": "\(merged.count)"])
                        break
                    }
                    continue
                }
            }
            if stop {
                condition.lock()
                let empty = pending.isEmpty
                condition.unlock()
                if empty { break }
            }
        }
        done.signal()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.wholeNanoseconds) / 1e9
    }
}
