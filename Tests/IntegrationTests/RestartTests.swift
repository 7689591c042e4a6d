import Foundation
import GRDB
import Schema
import Storage
import Testing
import TestSupport

extension SystemTests {
    @Test("SIGKILL of the executor: restarted alone, nothing lost, no order twice, trading resumes")
    func executorKilledMidRun() async throws {
        var killedAt: ContinuousClock.Instant?
        let busspyOutput = FileManager.default.temporaryDirectory.appendingPathComponent("busspy-\(UUID()).log")
        let system = try await withSystem([
            "exchangeSim": realCandles(from: "2022-01-10 00:00:00"), "signal": busySignals, "risk": looseRisk,
        ]) { system in
            try await system.waitHealthy()
            let spy = try busspy(system, output: busspyOutput)
            defer { spy.terminate() }

            try await system.waitUntil("some fills before the kill", timeout: .seconds(150)) {
                try system.trace().count(type: .fill) >= 3
            }
            let before = try #require(await system.entry("executor"))
            let pid = try #require(before["pid"] as? Int)
            let oldInstance = try #require(before["instance"] as? String)
            let others = try await instances(system, except: "executor")
            kill(Int32(pid), SIGKILL)
            killedAt = .now

            try await system.waitUntil("the executor restarted with a new instance", timeout: .seconds(30)) {
                guard let entry = await system.entry("executor"),
                    let instance = entry["instance"] as? String
                else { return false }
                return instance != oldInstance && entry["health"] as? String == "ok"
            }
            let after = try #require(await system.entry("executor"))
            #expect(after["pid"] as? Int != pid)
            #expect(after["restarts"] as? Int == 1)
            // The other four kept their processes and instances.
            #expect(try await instances(system, except: "executor") == others)

            let restartedAt = ContinuousClock.now
            try await system.waitUntil("fills after the restart", timeout: .seconds(150)) {
                let restart = try system.trace().restarts().first?.detectedAt ?? .max
                return try system.trace().messages(Fill.self).filter { $0.header.publishTime > restart }.count >= 2
            }
            #expect(ContinuousClock.now - restartedAt < .seconds(150))

            // The kill switch: refused without the operator's token, effective with it.
            let engage = #"{"engaged": true, "reason": "drill"}"#
            let (refused, _) = try await system.adminPost("risk-gate", "/kill-switch", body: engage, token: nil)
            #expect(refused == 401)
            let (wrong, _) = try await system.adminPost("risk-gate", "/kill-switch", body: engage, token: "not-the-token-0000")
            #expect(wrong == 401)
            let (accepted, answer) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: engage, token: RunningSystem.adminToken)
            #expect(accepted == 200, "\(answer)")
            try await system.waitUntil("the risk gate halted by the kill switch", timeout: .seconds(10)) {
                try system.trace().messages(RiskStateChange.self).contains {
                    $0.body.state == .halted && $0.body.killSwitch
                }
            }
            try await Task.sleep(for: .seconds(3))
            // Nothing lost across the kill: the ledger is the exchange's.
            try await system.expectLedgerMatchesExchange()
        }
        #expect(killedAt != nil)

        let trace = try TraceDatabase(path: system.traceDatabase)
        // The recorder saw the restart: one row, for the executor.
        let restarts = try trace.restarts()
        #expect(restarts.map(\.source) == ["executor"])
        let restartTime = try #require(restarts.first?.detectedAt)

        // The other four heartbeat without a break, on one instance each.
        let beats = try trace.messages(Heartbeat.self)
        for service in RunningSystem.services where service != "executor" {
            let own = beats.filter { $0.header.source == service }
            #expect(Set(own.map(\.header.instance)).count == 1, "\(service) changed instance")
            let times = own.map(\.header.publishTime)
            let longest = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0
            #expect(longest < 2_500_000_000, "\(service) heartbeat gap of \(longest / 1_000_000) ms")
        }

        // No client order id used twice, on the bus or in the ledger.
        let orders = try trace.messages(OrderCommand.self).map(\.body.clientOrderId)
        #expect(Set(orders).count == orders.count)
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        let ledgerOrders = try ledger.orders().map(\.command.clientOrderId)
        #expect(Set(ledgerOrders).count == ledgerOrders.count)

        // Every fill that was published is in the ledger.
        let published = Set(try trace.messages(Fill.self).map(\.body.fillId))
        let recorded = Set(try ledger.fills().map(\.fillId))
        #expect(published.isSubset(of: recorded), "missing from the ledger: \(published.subtracting(recorded))")

        // Trading resumed: fills after the restart.
        let fillsAfter = try trace.messages(Fill.self).filter { $0.header.publishTime > restartTime }
        #expect(fillsAfter.count >= 2, "only \(fillsAfter.count) fills after the restart")

        // busspy, watching all along, reported the restart as it happened.
        let spied = (try? String(contentsOf: busspyOutput, encoding: .utf8)) ?? ""
        #expect(spied.contains("restart of executor"), "busspy printed:\n\(spied.suffix(2_000))")
    }

    /// pid and instance of every service but one.
    func instances(_ system: RunningSystem, except skipped: String) async throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in await system.status() ?? [] {
            guard let name = entry["name"] as? String, name != skipped else { continue }
            result[name] = "\(entry["pid"] ?? "-")/\(entry["instance"] ?? "-")"
        }
        return result
    }

    func busspy(_ system: RunningSystem, output: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let spy = Process()
        spy.executableURL = Repository.binaries.appendingPathComponent("busspy")
        spy.arguments = [
            "--config", system.configPath, "--var-dir", system.varDirectory.path, "--topic", "svc.hb", "--seconds", "400",
        ]
        spy.standardOutput = handle
        spy.standardError = handle
        try spy.run()
        return spy
    }
}
