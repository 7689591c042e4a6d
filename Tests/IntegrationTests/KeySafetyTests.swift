import Bus
import Foundation
import Testing
import TestSupport

/// `bus.keys` for a config: a fresh CURVE keypair for every principal (as compose gives them), so that a
/// service checked or started on its own, without `breakwater up`, has its bus keys.
func busKeysConfig() throws -> [String: Any] {
    var keys: [String: Any] = [:]
    for name in ["feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder", "supervisor", "busspy"] {
        let pair = try CurveKeyPair.generate()
        keys[name] = ["public": pair.publicKey, "secret": pair.secretKey]
    }
    return ["keys": keys]
}

/// Runs one of the built executables to its end, without an exchange key or mode in its
/// environment; exit code and everything it printed.
func run(_ executable: String, _ arguments: [String], in directory: URL) async throws -> (Int32, String) {
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "BREAKWATER_EXCHANGE_PRIVATE_KEY")
    environment.removeValue(forKey: "BREAKWATER_MODE")
    let result = try await runProcess(
        Repository.binaries.appendingPathComponent(executable), arguments, directory: directory,
        environment: environment, errorsIntoOutput: true)
    return (result.status, result.outputText)
}

@Suite("The exchange key")
struct KeySafetyTests {
    @Test("testnet or mainnet without a key: the executor and `breakwater up` refuse to start, with one clear message", arguments: ["testnet", "mainnet"])
    func refusesWithoutKey(mode: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyless-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: [
            "mode": mode, "supervisor": ["admin": "127.0.0.1:1"], "bus": try busKeysConfig(),
        ]).write(to: config)

        let (code, output) = try await run("executor", ["--config", config.path, "--check-config"], in: directory)
        #expect(code == 2, "\(output)")
        #expect(output.contains("\(mode) mode needs the exchange signing key"), "\(output)")
        #expect(output.contains("BREAKWATER_EXCHANGE_PRIVATE_KEY"))

        let (upCode, upOutput) = try await run(
            "breakwater", ["up", "--config", config.path, "--var-dir", directory.appendingPathComponent("var").path],
            in: directory)
        #expect(upCode == 2, "\(upOutput)")
        #expect(upOutput.contains("\(mode) mode needs the exchange signing key"), "\(upOutput)")
        #expect(!upOutput.contains("started (pid"), "nothing may start without the key")

        // The feed needs no key: market data is public.
        let (feedCode, feedOutput) = try await run("feed-handler", ["--config", config.path, "--check-config"], in: directory)
        #expect(feedCode == 0, "\(feedOutput)")
    }

    @Test("a key that is not a key is refused without being printed")
    func badKeyIsNotEchoed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("badkey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = "0xnot-a-key-but-secret-anyway-1234567890"
        try Data(secret.utf8).write(to: directory.appendingPathComponent("key"))
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"mode": "testnet", "exchange": {"keyFile": "\#(directory.path)/key"}}"#.utf8).write(to: config)
        let (code, output) = try await run("executor", ["--config", config.path, "--check-config"], in: directory)
        #expect(code == 2)
        #expect(output.contains("is not a valid secp256k1 private key"), "\(output)")
        #expect(!output.contains(secret))
    }
}
