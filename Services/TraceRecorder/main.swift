import Bus
import Foundation
import Ledger
import Logging
import Metrics
import Schema
import ServiceKit
import ServiceLifecycle
import Storage

struct RecorderConfig: Sendable {
    var database: String
    var flushIntervalMs: Int
    var maxBatch: Int
    var retentionDays: Int
    /// Where pruned rows go (one SQLite file per UTC day of the cutoff), or nil to delete them.
    var archiveDirectory: String?
    /// Envelopes held in memory while the database refuses writes (a full disk).
    var maxBacklog: Int
    var startingCapital: Amount
    /// The executor's ledger, read for fills the bus did not bring (published while the recorder was down).
    var ledger: String
    var backfillSeconds: Int

    static func read(_ settings: inout Settings) -> RecorderConfig {
        RecorderConfig(
            database: settings.traceDatabasePath(),
            flushIntervalMs: settings.int("traceRecorder.flushIntervalMs", default: 50, in: 1...10_000),
            maxBatch: settings.int("traceRecorder.maxBatch", default: 20_000, in: 1...1_000_000),
            retentionDays: settings.int("traceRecorder.retentionDays", default: 30, in: 0...3_650),
            archiveDirectory: settings.optionalString("traceRecorder.archiveDirectory"),
            maxBacklog: settings.int("traceRecorder.maxBacklog", default: 2_000_000, in: 1_000...100_000_000),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            ledger: settings.dataPath("executor.ledger", file: "ledger.db"),
            backfillSeconds: settings.int("traceRecorder.backfillSeconds", default: 5, in: 1...3_600))
    }
}

await ServiceMain.run(.traceRecorder, readConfig: RecorderConfig.read) { runtime, config in
    try FileManager.default.createDirectory(
        atPath: (config.database as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let database = try TraceDatabase(path: config.database)
    let recorder = try TraceWriter(
        database: database, flushInterval: .milliseconds(config.flushIntervalMs), maxBatch: config.maxBatch,
        maxBacklog: config.maxBacklog, clock: runtime.clock, logger: runtime.logger, metrics: runtime.metrics,
        status: runtime.status, startingCapital: config.startingCapital
    ) { error in
        runtime.publish(
            Alert(
                severity: .critical, code: "trace_write_failed",
                message: "trace database refuses writes, holding envelopes in memory: \(error)",
                service: runtime.name.rawValue),
            traceId: runtime.newIdentifier())
    }
    runtime.status.setFact("database", config.database)
    runtime.status.addDetail("recorder") { recorder.statistics }
    let subscriber = try runtime.subscribe(to: ServiceName.allCases) { event in recorder.accept(event) }
    runtime.status.setReady()
    // Fills published while this recorder was down never reach it over the bus: the ledger has
    // them (written before published), so they are written from there, once.
    let backfilled = Counter(label: "breakwater_trace_backfilled_fills_total", factory: runtime.metrics)
    let backfill = Task {
        var plan = FillBackfill()
        var ledger: LedgerStore?
        while !Task.isCancelled {
            if ledger == nil, FileManager.default.fileExists(atPath: config.ledger) {
                ledger = try? LedgerStore(readingOnly: config.ledger)
            }
            if let ledger {
                do {
                    let fresh = try ledger.fills(afterSeq: plan.watermark)
                    for fill in plan.pass(fresh: fresh, traced: recorder.hasTraced) {
                        let traceId = (try? ledger.order(fill.clientOrderId))??.traceId
                        let (topic, bytes) = try FillBackfill.envelope(fill, traceId: traceId)
                        recorder.accept(.envelope(try RawEnvelope(topic: topic, bytes: bytes)))
                        backfilled.increment()
                        runtime.logger.notice(
                            "fill missing from the trace written from the ledger", metadata: ["fill": "\(fill.fillId)"])
                    }
                } catch {
                    runtime.logger.warning("cannot read the ledger for missing fills", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .seconds(config.backfillSeconds))
        }
    }
    let retention = Task {
        guard config.retentionDays > 0 else { return }
        while !Task.isCancelled {
            let cutoff = runtime.clock.now() - Int64(config.retentionDays) * 86_400 * 1_000_000_000
            let archive = config.archiveDirectory.map { "\($0)/trace-\(TraceDatabase.day(of: cutoff)).db" }
            do {
                if let directory = config.archiveDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
                let pruned = try database.prune(before: cutoff, archive: archive)
                if pruned.total > 0 {
                    runtime.logger.notice(
                        "retention pruned the trace", metadata: [
                            "envelopes": "\(pruned.envelopes)", "cycles": "\(pruned.cycles)", "archive": "\(archive ?? "none")",
                        ])
                }
            } catch {
                runtime.logger.error("retention failed", metadata: ["error": "\(error)"])
                runtime.publish(
                    Alert(
                        severity: .warning, code: "trace_retention_failed",
                        message: "pruning the trace before \(config.retentionDays) days failed: \(error)",
                        service: runtime.name.rawValue),
                    traceId: runtime.newIdentifier())
            }
            try await Task.sleep(for: .seconds(3_600))
        }
    }
    try? await gracefulShutdown()
    retention.cancel()
    backfill.cancel()
    // Stop taking new envelopes, then write everything already taken.
    subscriber.close()
    recorder.finish()
    runtime.logger.notice("trace flushed", metadata: ["written": "\(recorder.statistics["written"] ?? 0)"])
}
