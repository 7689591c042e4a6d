import Foundation
import Synchronization
import GRDB
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// A whole Breakwater started with `breakwater up` on free loopback ports in a temp directory.
/// Stopping it (or the test ending) stops every process it started.
final class RunningSystem: @unchecked Sendable {
    let directory: URL
    let configPath: String
    let supervisorPort: Int
    /// exchange-sim's port (paper mode's exchange, run by `breakwater up`).
    let exchangePort: Int
    /// The trace database and the ledger: under `var/` unless the overrides put them elsewhere
    /// (`traceRecorder.database`, `executor.ledger`; the full-disk tests put them on a tmpfs).
    let traceDatabase: String
    let ledgerDatabase: String
    private let process = Process()
    private let output: URL

    static let services = ["feed-handler", "signal-generator", "risk-gate", "executor", "trace-recorder"]
    /// The operator token of every test system (`admin.token`), which the CLI reads from the same config.
    static let adminToken = "test-operator-token-0123456789"
    /// exchange-sim's fault-injection token in every test system.
    static let simToken = "test-exchange-sim-token-0123456789"

    /// `overrides` are merged over the generated config (nested dictionaries).
    init(overrides: [String: Any]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("breakwater-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = freePorts(13)
        supervisorPort = ports[10]
        exchangePort = ports[12]
        let keys = ["feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder"]
        var endpoints: [String: Any] = [:]
        for (index, key) in keys.enumerated() {
            endpoints[key] = ["bus": "tcp://127.0.0.1:\(ports[index])", "admin": "127.0.0.1:\(ports[5 + index])"]
        }
        var config: [String: Any] = [
            "logLevel": "info",
            // One symbol unless a test trades a portfolio (it overrides `symbols`), and one strategy:
            // the tests count signals per bar and steer trades with the RSI's bands.
            "symbols": ["BTC"],
            "signal": ["strategies": "rsi_standard"],
            "endpoints": endpoints,
            "supervisor": ["admin": "127.0.0.1:\(supervisorPort)"],
            "admin": ["token": Self.adminToken],
            // No ChromaDB unless a test starts one: recall answers from its local fallback.
            "recall": ["chroma": ["url": "http://127.0.0.1:\(ports[11])", "managed": false]],
            "exchange": ["url": "http://127.0.0.1:\(exchangePort)"],
            // One-second candles of the seeded synthetic market unless a test replays real ones.
            "exchangeSim": ["candleSeconds": 1, "adminToken": Self.simToken],
        ]
        config = Self.merge(config, overrides)
        let varPath = directory.appendingPathComponent("var").path
        traceDatabase = (config["traceRecorder"] as? [String: Any])?["database"] as? String ?? "\(varPath)/trace.db"
        ledgerDatabase = (config["executor"] as? [String: Any])?["ledger"] as? String ?? "\(varPath)/ledger.db"
        configPath = directory.appendingPathComponent("config.json").path
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: configPath))

        output = directory.appendingPathComponent("breakwater-up.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let log = try FileHandle(forWritingTo: output)
        process.executableURL = Repository.binaries.appendingPathComponent("breakwater")
        process.arguments = ["up", "--config", configPath, "--var-dir", directory.appendingPathComponent("var").path]
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    static func merge(_ base: [String: Any], _ overrides: [String: Any]) -> [String: Any] {
        var result = base
        for (key, value) in overrides {
            if let nested = value as? [String: Any], let existing = result[key] as? [String: Any] {
                result[key] = merge(existing, nested)
            } else {
                result[key] = value
            }
        }
        return result
    }

    var varDirectory: URL { directory.appendingPathComponent("var") }
    var supervisorLog: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    func serviceLog(_ name: String) -> String {
        (try? String(contentsOf: varDirectory.appendingPathComponent("logs/\(name).log"), encoding: .utf8)) ?? ""
    }

    /// The supervisor's `/status` document, or nil while it does not answer.
    func status() async -> [[String: Any]]? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(supervisorPort)/status")!)
        request.timeoutInterval = 2
        guard let (data, _) = try? await URLSession.shared.data(for: request),
            let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return document["services"] as? [[String: Any]]
    }

    func entry(_ service: String) async -> [String: Any]? {
        await status()?.first { $0["name"] as? String == service }
    }

    /// The `risk` part of the risk gate's own `/status`. Throws (records nothing) while it does not
    /// answer, so it can be polled.
    func riskStatus() async throws -> [String: Any] {
        guard let admin = await entry("risk-gate")?["admin"] as? String, let url = URL(string: admin + "/status")
        else { throw HarnessError(description: "the supervisor does not list the risk gate's admin port yet") }
        var request = URLRequest(url: url)
        request.timeoutInterval = 2
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let risk = document["risk"] as? [String: Any]
        else { throw HarnessError(description: "no risk section in the risk gate's /status") }
        return risk
    }

    /// Polls until `condition` holds, failing after `timeout`.
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if process.isRunning == false {
                throw HarnessError(description: "breakwater up exited while waiting for \(what):\n\(supervisorLog)")
            }
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError(description: "timed out waiting for \(what)\n\(supervisorLog)")
    }

    func waitHealthy(timeout: Duration = .seconds(90)) async throws {
        try await waitUntil("every service healthy", timeout: timeout) {
            guard let services = await status() else { return false }
            return services.count >= Self.services.count
                && services.allSatisfy { ($0["health"] as? String) == "ok" }
        }
    }

    /// Runs `breakwater` with arguments against this system; returns its exit code and output.
    func command(_ arguments: [String]) async throws -> (Int32, String) {
        try await run("breakwater", arguments + ["--config", configPath, "--var-dir", varDirectory.path], in: directory)
    }

    func trace() throws -> TraceDatabase { try TraceDatabase(path: traceDatabase) }

    /// POST on a service's admin port, with a bearer token if given; the status code and body.
    func adminPost(_ service: String, _ path: String, body: String, token: String?) async throws -> (Int, String) {
        let entry = try #require(await entry(service))
        var request = URLRequest(url: URL(string: try #require(entry["admin"] as? String) + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Stops everything: `down` first, then signals, then SIGKILL to anything left.
    func stop() async {
        let pids = (await status() ?? []).compactMap { $0["pid"] as? Int }
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for pid in pids where kill(Int32(pid), 0) == 0 { kill(Int32(pid), SIGKILL) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs `body` against a fresh system and always stops it, pass or fail.
/// The stopped system is returned so its databases can be read afterwards.
@discardableResult
func withSystem(
    _ overrides: [String: Any], _ body: (RunningSystem) async throws -> Void
) async throws -> RunningSystem {
    let system = try RunningSystem(overrides: overrides)
    do {
        try await body(system)
    } catch {
        await system.stop()
        for service in RunningSystem.services {
            print("---- \(service) log (tail)\n" + system.serviceLog(service).split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
        throw error
    }
    await system.stop()
    return system
}
