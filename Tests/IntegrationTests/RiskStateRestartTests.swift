import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Schema
import Storage
import Testing

extension SystemTests {
    @Test("SIGKILL of the risk gate with the kill switch engaged: it comes back HALTED with the same cause; resume refused")
    func riskGateKilledKeepsItsKillSwitch() async throws {
        try await withSystem(["risk": looseRisk]) { system in
            try await system.waitHealthy()
            let engage = #"{"engaged": true, "reason": "restart drill", "by": "alice"}"#
            let (accepted, answer) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: engage, token: RunningSystem.adminToken)
            #expect(accepted == 200, "\(answer)")
            try await system.waitUntil("the kill switch's HALTED on the bus", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self).contains { $0.body.state == .halted && $0.body.killSwitch }
            }

            let before = try #require(await system.entry("risk-gate"))
            let pid = try #require(before["pid"] as? Int)
            let oldInstance = try #require(before["instance"] as? String)
            kill(Int32(pid), SIGKILL)
            try await system.waitUntil("the risk gate restarted with a new instance", timeout: .seconds(60)) {
                guard let entry = await system.entry("risk-gate"), let instance = entry["instance"] as? String,
                    instance != oldInstance
                else { return false }
                return try await system.riskStatus()["state"] as? String == "halted"
            }
            let after = try #require(await system.entry("risk-gate"))
            let newInstance = try #require(after["instance"] as? String)
            #expect(after["pid"] as? Int != pid)

            // Its /status: HALTED by the kill switch, as engaged before the kill.
            let risk = try await system.riskStatus()
            #expect(risk["state"] as? String == "halted")
            #expect(risk["killSwitch"] as? Bool == true)
            let detail = try #require(risk["killSwitchDetail"] as? [String: Any])
            #expect(detail["reason"] as? String == "restart drill")
            #expect(detail["by"] as? String == "alice")
            #expect((detail["from"] as? String)?.hasPrefix("127.0.0.1") == true)
            #expect((risk["haltCauses"] as? [String])?.contains("kill_switch: engaged: restart drill") == true)

            // On the bus: the new instance restates HALTED with the kill-switch cause.
            try await system.waitUntil("the new instance's HALTED restatement on the bus", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self, source: "risk-gate").contains {
                    $0.header.instance == newInstance && $0.body.state == .halted && $0.body.killSwitch
                        && $0.body.reasons.contains(Reason(.killSwitch, "engaged: restart drill"))
                }
            }
            try await system.waitUntil("the new instance's restore restatement on the bus", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self, source: "risk-gate").contains {
                    $0.header.instance == newInstance && $0.body.reasons.first?.code == .riskStateRestored
                        && $0.body.reasons.first?.detail.contains("kill switch engaged by alice: restart drill") == true
                }
            }
            // Never anything but HALTED from the new instance: no moment ACTIVE, not even SYNCING.
            let restarted = try system.trace().messages(RiskStateChange.self, source: "risk-gate")
                .filter { $0.header.instance == newInstance }
            #expect(restarted.allSatisfy { $0.body.state == .halted }, "\(restarted.map(\.body.state))")

            // Resume is still refused: the kill switch is engaged.
            let (refused, why) = try await system.adminPost("risk-gate", "/resume", body: "{}", token: RunningSystem.adminToken)
            #expect(refused == 409, "\(why)")
            #expect(why.contains("kill_switch"), "\(why)")

            // The peak rebase: refused without the token (and logged with the caller), on the bus with it.
            let rebase = #"{"reason": "loss acknowledged", "by": "bob"}"#
            let (unauthorized, _) = try await system.adminPost("risk-gate", "/rebase-peak", body: rebase, token: nil)
            #expect(unauthorized == 401)
            let (wrong, _) = try await system.adminPost("risk-gate", "/rebase-peak", body: rebase, token: "not-the-token-0000")
            #expect(wrong == 401)
            try await system.waitUntil("the refusal logged with the caller", timeout: .seconds(5)) {
                system.serviceLog("risk-gate").split(separator: "\n").contains {
                    $0.contains("operator call refused") && $0.contains("rebase-peak") && $0.contains("127.0.0.1")
                }
            }
            try await system.waitUntil("the restarted gate synced its account", timeout: .seconds(30)) {
                try await system.riskStatus()["accountSynced"] as? Bool == true
            }
            let (rebased, rebaseAnswer) = try await system.adminPost(
                "risk-gate", "/rebase-peak", body: rebase, token: RunningSystem.adminToken)
            #expect(rebased == 200, "\(rebaseAnswer)")
            try await system.waitUntil("the rebase on the bus", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self, source: "risk-gate").contains { envelope in
                    envelope.body.reasons.contains {
                        $0.code == .equityPeakRebased && $0.detail.contains("by bob") && $0.detail.contains("loss acknowledged")
                    }
                }
            }
            // Still HALTED: a rebase does not resume.
            #expect(try await system.riskStatus()["state"] as? String == "halted")
        }
    }

    @Test("a risk state file that does not read back: the gate alerts and stays in SYNCING; flatten still halts it")
    func unreadableRiskStateHoldsSyncing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("risk-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stateFile = directory.appendingPathComponent("risk-state.db")
        let garbage = Data(repeating: 0x5A, count: 8_192)
        try garbage.write(to: stateFile)

        try await withSystem(["risk": looseRisk.merging(["stateFile": stateFile.path]) { $1 }]) { system in
            try await system.waitUntil("the risk gate's account synced", timeout: .seconds(60)) {
                try await system.riskStatus()["accountSynced"] as? Bool == true
            }
            // Synced, and still SYNCING: it cannot know whether it was halted.
            let risk = try await system.riskStatus()
            #expect(risk["state"] as? String == "syncing")
            #expect((risk["unreadableState"] as? String)?.contains(stateFile.path) == true)
            let entry = try #require(await system.entry("risk-gate"))
            #expect(entry["health"] as? String != "ok")
            try await system.waitUntil("the risk_state_unreadable alert on the bus", timeout: .seconds(15)) {
                try system.trace().messages(Alert.self, source: "risk-gate").contains {
                    $0.body.code == "risk_state_unreadable" && $0.body.severity == .critical
                }
            }
            #expect(try system.trace().messages(RiskStateChange.self, source: "risk-gate").allSatisfy {
                $0.body.state == .syncing
            })

            // Flatten: nothing to close, but the kill switch is engaged and HALTED published.
            let (unauthorized, _) = try await system.adminPost(
                "risk-gate", "/flatten", body: #"{"reason": "drill", "by": "carol"}"#, token: nil)
            #expect(unauthorized == 401)
            let (flattened, answer) = try await system.adminPost(
                "risk-gate", "/flatten", body: #"{"reason": "drill", "by": "carol"}"#, token: RunningSystem.adminToken)
            #expect(flattened == 200, "\(answer)")
            #expect(answer.contains("\"orders\":[]"), "\(answer)")
            #expect(answer.contains("\"state\":\"halted\""), "\(answer)")
            let detail = try #require(try await system.riskStatus()["killSwitchDetail"] as? [String: Any])
            #expect(detail["reason"] as? String == "flatten: drill")
            #expect(detail["by"] as? String == "carol")
            try await system.waitUntil("HALTED by the flatten on the bus", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self, source: "risk-gate").contains {
                    $0.body.state == .halted && $0.body.previous == .syncing && $0.body.killSwitch
                }
            }
            // Released and resumed: back to SYNCING, never ACTIVE.
            let (released, _) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: #"{"engaged": false, "reason": "drill over", "by": "carol"}"#,
                token: RunningSystem.adminToken)
            #expect(released == 200)
            let (resumed, resumeAnswer) = try await system.adminPost(
                "risk-gate", "/resume", body: "{}", token: RunningSystem.adminToken)
            #expect(resumed == 200, "\(resumeAnswer)")
            #expect(try await system.riskStatus()["state"] as? String == "syncing")
            // The file is left as found, for the operator.
            #expect(try Data(contentsOf: stateFile) == garbage)
        }
    }

    @Test("/flatten with positions open: HALTED on the bus first, then reduce-only orders that close them")
    func flattenClosesPositions() async throws {
        try await withSystem([
            "exchangeSim": realCandles(from: "2022-01-10 00:00:00"), "signal": busySignals, "risk": looseRisk,
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("an open position", timeout: .seconds(150)) {
                try await (system.riskStatus()["openPositions"] as? Int ?? 0) > 0
            }
            let (status, answer) = try await system.adminPost(
                "risk-gate", "/flatten", body: #"{"reason": "end of drill", "by": "dave"}"#, token: RunningSystem.adminToken)
            #expect(status == 200, "\(answer)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
            #expect(document["state"] as? String == "halted")
            let orders = try #require(document["orders"] as? [[String: Any]])
            #expect(!orders.isEmpty, "\(answer)")
            #expect(orders.allSatisfy { $0["reduceOnly"] as? Bool == true }, "\(answer)")
            let ids = Set(orders.compactMap { $0["clientOrderId"] as? String })

            // The flatten orders fill, and the HALTED they follow was published before them.
            try await system.waitUntil("the flatten orders filled", timeout: .seconds(30)) {
                Set(try system.trace().messages(Fill.self).map(\.body.clientOrderId)).isSuperset(of: ids)
            }
            let trace = try system.trace()
            let commands = try trace.messages(OrderCommand.self, source: "risk-gate").filter { ids.contains($0.body.clientOrderId) }
            #expect(commands.count == ids.count)
            #expect(commands.allSatisfy { $0.body.reduceOnly && $0.body.purpose == .exit })
            let halted = try #require(
                try trace.messages(RiskStateChange.self, source: "risk-gate").first {
                    $0.body.state == .halted && $0.body.previous != .halted && $0.body.killSwitch
                })
            #expect(halted.body.reasons.first == Reason(.killSwitch, "engaged: flatten: end of drill"))
            #expect(commands.allSatisfy { $0.header.sequence > halted.header.sequence })
            let risk = try await system.riskStatus()
            #expect(risk["state"] as? String == "halted")
            let detail = try #require(risk["killSwitchDetail"] as? [String: Any])
            #expect(detail["by"] as? String == "dave")
        }
    }
}
