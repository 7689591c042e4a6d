import Foundation
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// The trace database and the ledger each on a small tmpfs of their own, filled to the last byte
/// while the system trades, then given their space back.
@Suite(.serialized, .enabled(if: SmallVolume.available, "needs root to mount a tmpfs (CI runs as root)"))
struct FullDiskTests {
    @Test("trace database on a full disk: the recorder degrades and alerts, trading goes on, nothing is lost after")
    func traceDiskFull() async throws {
        try await SmallVolume.with(megabytes: 24) { volume in
            var overrides = FaultMatrix.overrides(chromaURL: nil)
            overrides["traceRecorder"] = ["database": volume.path + "/trace.db"]
            try await withSystem(overrides) { system in
                var matrix = FaultMatrix(system: system)
                try await matrix.settle()
                let ledger = try LedgerStore(path: system.ledgerDatabase)

                volume.fill()
                let fullAt = wallNanos()
                try await system.waitUntil("the recorder degraded, its write failures counted", timeout: .seconds(60)) {
                    let metrics = try await system.adminGet("trace-recorder", "/metrics")
                    return await system.entry("trace-recorder")?["health"] as? String == "degraded"
                        && (metricValue("breakwater_trace_write_failures_total", in: metrics) ?? 0) >= 1
                }
                let failingAt = wallNanos()
                // Trading does not notice: fills go on, the risk gate and the executor stay healthy.
                try await system.waitUntil("fills while the trace disk is full", timeout: .seconds(60)) {
                    try ledger.fills().filter { $0.time > failingAt }.count >= 2
                }
                for service in ["risk-gate", "executor", "signal-generator", "feed-handler"] {
                    #expect(await system.entry(service)?["health"] as? String == "ok", "\(service) while the trace disk is full")
                }
                #expect(try await system.riskStatus()["state"] as? String == "active")
                let status = try await system.adminGet("trace-recorder", "/status")
                #expect(status.contains("writes failing"), "\(status.prefix(2_000))")

                volume.free()
                try await system.waitUntil("the recorder healthy again", timeout: .seconds(60)) {
                    await system.entry("trace-recorder")?["health"] as? String == "ok"
                }
                // What it held is written: its own alert and every fill, nothing lost.
                try await system.waitUntil("the recorder's alert in the trace", timeout: .seconds(30)) {
                    try system.trace().messages(Alert.self).contains {
                        $0.body.code == "trace_write_failed" && $0.header.publishTime >= fullAt
                    }
                }
                let lost = try await system.adminGet("trace-recorder", "/metrics")
                #expect(metricValue("breakwater_trace_lost_total", in: lost) ?? 0 == 0)
                let (broken, _) = await matrix.converged(timeout: .seconds(60))
                #expect(broken.isEmpty, "\(broken)")
            }
        }
    }

    @Test("ledger on a full disk: the executor refuses new entries with a reason and an alert, sends none, and resumes")
    func ledgerDiskFull() async throws {
        try await SmallVolume.with(megabytes: 24) { volume in
            var overrides = FaultMatrix.overrides(chromaURL: nil)
            overrides["executor"] = ["ledger": volume.path + "/ledger.db", "ledgerReserveMB": 4]
            try await withSystem(overrides) { system in
                var matrix = FaultMatrix(system: system)
                try await matrix.settle()
                let ledger = try LedgerStore(path: system.ledgerDatabase)

                volume.fill()
                let fullAt = wallNanos()
                try await system.waitUntil("the executor's alert and a refused entry", timeout: .seconds(60)) {
                    let trace = try system.trace()
                    let alerted = try trace.messages(Alert.self, since: fullAt).contains { $0.body.code == "ledger_space_low" }
                    let refused = try trace.messages(OrderReject.self, since: fullAt).contains {
                        $0.body.reason.code == .ledgerWriteFailed && $0.body.reason.detail.contains("no new exposure")
                    }
                    return alerted && refused
                }
                let alertAt = try #require(
                    try system.trace().messages(Alert.self, since: fullAt).first { $0.body.code == "ledger_space_low" })
                    .header.publishTime
                #expect(await system.entry("executor")?["health"] as? String == "degraded")
                let metrics = try await system.adminGet("executor", "/metrics")
                #expect((metricValue("breakwater_exec_ledger_refusals_total", in: metrics) ?? 0) >= 1)
                #expect(metricValue("breakwater_exec_ledger_free_bytes", in: metrics).map { $0 < 4 * 1_048_576 } == true)
                // Full for a while longer: no entry reaches the exchange, and every order it has is in the ledger.
                try await Task.sleep(for: .seconds(8))
                let user = try system.paperWallet().address.lowercased
                let venue = try #require(
                    try await ExchangeStopsTests().info(system, ["type": "historicalOrders", "user": user]) as? [[String: Any]])
                let entriesSince = venue.compactMap { $0["order"] as? [String: Any] }.filter {
                    ($0["reduceOnly"] as? Bool) == false && (($0["timestamp"] as? Int).map { Int64($0) * 1_000_000 } ?? 0) > alertAt
                }
                #expect(entriesSince.isEmpty, "entries sent while the ledger was full: \(entriesSince)")
                let known = Set(try ledger.orders().map { $0.command.clientOrderId.lowercased() })
                let unknown = try await matrix.venueOrderIds().filter { !known.contains($0) }
                #expect(unknown.isEmpty, "orders on the exchange the ledger does not know: \(unknown)")

                volume.free()
                let freedAt = wallNanos()
                try await system.waitUntil("the executor recovered and trading again", timeout: .seconds(60)) {
                    let recovered = try system.trace().messages(Alert.self, since: freedAt).contains { $0.body.code == "ledger_recovered" }
                    let trading = try ledger.fills().contains { $0.time > freedAt }
                    let healthy = await system.entry("executor")?["health"] as? String == "ok"
                    return recovered && trading && healthy
                }
                let (broken, _) = await matrix.converged(timeout: .seconds(60))
                #expect(broken.isEmpty, "\(broken)")
            }
        }
    }
}
