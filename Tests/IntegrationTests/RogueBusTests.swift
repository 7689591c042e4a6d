import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Schema
import Storage
import Testing
import TestSupport

/// The value of a Prometheus counter line (`name{labels} value`) in a `/metrics` text, 0 when absent.
func metricValue(_ text: String, _ series: String) -> Double {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.split(separator: " ").last ?? "") ?? 0
    }
    return 0
}

extension SystemTests {
    @Test(
        "a rogue publisher with its own key binds the risk gate's port while it restarts: the executor sends nothing and counts it",
        .enabled(if: FileManager.default.isExecutableFile(atPath: Repository.python.path), "needs .venv with pyzmq: run `make test`"))
    func rogueOnRiskGatePort() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rogue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // Valid order commands from "risk-gate", as the real one would publish them: only the key is wrong.
        let intents = (1...20).map { "rogue-\($0)-\(UUID().uuidString)" }
        let cloids = intents.map(Identifier.clientOrderId(forIntent:))
        var lines: [String] = []
        for (index, intent) in intents.enumerated() {
            let command = limitBuy(intent, price: "20000")
            let header = EnvelopeHeader(
                type: OrderCommand.messageType.rawValue, source: "risk-gate", instance: "rogue-instance",
                sequence: UInt64(index + 1), publishTime: wallNanos(), traceId: "rogue-trace-\(index)", symbol: "BTC")
            let bytes = EnvelopeCodec.encode(header: header, body: try EnvelopeCodec.encodeBody(command))
            // The subscriber's own parser takes them: the envelopes are sound.
            #expect(try RawEnvelope(topic: command.topic, bytes: bytes).decode(OrderCommand.self) == command)
            lines.append("\(command.topic)\t" + bytes.map { String(format: "%02x", $0) }.joined())
        }
        let envelopes = directory.appendingPathComponent("envelopes.tsv")
        try lines.joined(separator: "\n").write(to: envelopes, atomically: true, encoding: .utf8)

        try await withSystem([:]) { system in
            try await system.waitHealthy()
            let executorAdmin = try #require(await system.entry("executor")?["admin"] as? String)
            func executorMetrics() async -> String {
                guard let (data, _) = try? await URLSession.shared.data(from: URL(string: executorAdmin + "/metrics")!)
                else { return "" }
                return String(decoding: data, as: UTF8.self)
            }
            let series = #"breakwater_bus_rejected_total{reason="handshake_failed"}"#
            let before = metricValue(await executorMetrics(), series)
            let riskGateBus = try #require(await system.entry("risk-gate")?["bus"] as? String)
            let riskGatePid = try #require(await system.entry("risk-gate")?["pid"] as? Int)

            // The rogue waits for the port; the risk gate dies; the supervisor restarts it half a second later.
            let rogueLog = directory.appendingPathComponent("rogue.log")
            _ = FileManager.default.createFile(atPath: rogueLog.path, contents: nil)
            let rogue = Process()
            rogue.executableURL = Repository.python
            rogue.arguments = [
                Repository.root.appendingPathComponent("Tests/IntegrationTests/rogue_publisher.py").path,
                riskGateBus.replacingOccurrences(of: "localhost", with: "127.0.0.1"), envelopes.path, "8",
            ]
            let handle = try FileHandle(forWritingTo: rogueLog)
            rogue.standardOutput = handle
            rogue.standardError = handle
            try rogue.run()
            defer { if rogue.isRunning { kill(rogue.processIdentifier, SIGKILL) } }
            try await Task.sleep(for: .milliseconds(500))  // python is up and trying to bind
            kill(Int32(riskGatePid), SIGKILL)

            func rogueOutput() -> String { (try? String(contentsOf: rogueLog, encoding: .utf8)) ?? "" }
            try await system.waitUntil("the rogue to bind the risk gate's port", timeout: .seconds(20)) {
                rogueOutput().contains("bound ")
            }
            try await system.waitUntil("the executor to count failed handshakes", timeout: .seconds(30)) {
                metricValue(await executorMetrics(), series) > before
            }
            try await system.waitUntil("the rogue to finish", timeout: .seconds(30)) { !rogue.isRunning }
            #expect(rogueOutput().contains("sent "), "the rogue did not publish: \(rogueOutput())")

            // The real risk gate gets its port back and the system is whole again.
            try await system.waitHealthy(timeout: .seconds(90))

            // Nothing of the rogue's reached the executor's ledger or anyone's trace.
            let ledger = try DatabaseQueue(path: system.ledgerDatabase)
            let ledgered = try await ledger.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM ledger_order WHERE client_order_id IN (\(cloids.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(cloids)) ?? 0
            }
            #expect(ledgered == 0, "the executor ledgered a rogue order")
            let trace = try system.trace()
            #expect(try trace.scalar("SELECT COUNT(*) FROM envelope WHERE instance = 'rogue-instance'") == 0)
            for cloid in cloids {
                #expect(
                    try trace.scalar("SELECT COUNT(*) FROM envelope WHERE CAST(json AS TEXT) LIKE ?", arguments: ["%\(cloid)%"]) == 0,
                    "an envelope mentions the rogue's order \(cloid)")
            }
            // The executor's log names the refusal (sampled, so at least the first).
            #expect(system.serviceLog("executor").contains("handshake_failed"))
        }
    }
}
