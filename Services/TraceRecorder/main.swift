import Bus
import Foundation
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
    /// Envelopes held in memory while the database refuses writes (a full disk).
    var maxBacklog: Int
    var startingCapital: Amount

    static func read(_ settings: inout Settings) -> RecorderConfig {
        RecorderConfig(
            database: settings.traceDatabasePath(),
            flushIntervalMs: settings.int("traceRecorder.flushIntervalMs", default: 50, in: 1...10_000),
            maxBatch: settings.int("traceRecorder.maxBatch", default: 20_000, in: 1...1_000_000),
            retentionDays: settings.int("traceRecorder.retentionDays", default: 30, in: 0...3_650),
            maxBacklog: settings.int("traceRecorder.maxBacklog", default: 2_000_000, in: 1_000...100_000_000),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1))
    }
}

await ServiceMain.run(.traceRecorder, readConfig: RecorderConfig.read) { runtime, config in
    try FileManager.default.createDirectory(
        atPath: (config.database as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let database = try TraceDatabase(path: config.database)
    let recorder = TraceWriter(
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
    let subscriber = try Subscriber(
        context: runtime.context, peers: runtime.peers(ServiceName.allCases), security: runtime.security,
        counters: runtime.subscriberCounters, logger: runtime.logger
    ) { event in
        recorder.accept(event)
    }
    runtime.adopt(subscriber, upstreams: ServiceName.allCases)
    runtime.status.setReady()
    let retention = Task {
        guard config.retentionDays > 0 else { return }
        while !Task.isCancelled {
            let cutoff = runtime.clock.now() - Int64(config.retentionDays) * 86_400 * 1_000_000_000
            if let removed = try? database.prune(before: cutoff), removed > 0 {
                runtime.logger.notice("retention pruned envelopes", metadata: ["removed": "\(removed)"])
            }
            try await Task.sleep(for: .seconds(3_600))
        }
    }
    try? await gracefulShutdown()
    retention.cancel()
    // Stop taking new envelopes, then write everything already taken.
    subscriber.close()
    recorder.finish()
    runtime.logger.notice("trace flushed", metadata: ["written": "\(recorder.statistics["written"] ?? 0)"])
}
