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

    @Test("`breakwater paper-key` makes the paper key once (owner-only, never printed); paper mode signs with it, live mode never reads it")
    func paperKeyStaysPaper() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paperkey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("keys/paper.key").path
        let paper = directory.appendingPathComponent("paper.json")
        try Data(#"{"exchange": {"paperKeyFile": "\#(keyFile)"}}"#.utf8).write(to: paper)

        let (code, output) = try await run("breakwater", ["paper-key", "--config", paper.path], in: directory)
        #expect(code == 0, "\(output)")
        #expect(output.contains("new key in \(keyFile)"), "\(output)")
        let key = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!output.contains(key.replacingOccurrences(of: "0x", with: "")))
        let permissions = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let (again, second) = try await run("breakwater", ["paper-key", "--config", paper.path], in: directory)
        #expect(again == 0 && second.contains("key in \(keyFile)") && !second.contains("new key"), "\(second)")
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8).contains(key), "the key changed")
        // The bus keys, as the compose one-shot makes them beside the paper key.
        let (keysCode, keysOutput) = try await run("breakwater", ["keys", "--config", paper.path], in: directory)
        #expect(keysCode == 0, "\(keysOutput)")
        let (paperCode, paperOutput) = try await run("executor", ["--config", paper.path, "--check-config"], in: directory)
        #expect(paperCode == 0, "\(paperOutput)")

        // The same config in testnet mode: the paper key is not a live key, and there is no paper venue.
        let live = directory.appendingPathComponent("live.json")
        try Data(#"{"mode": "testnet", "exchange": {"paperKeyFile": "\#(keyFile)"}}"#.utf8).write(to: live)
        let (liveCode, liveOutput) = try await run("executor", ["--config", live.path, "--check-config"], in: directory)
        #expect(liveCode == 2, "\(liveOutput)")
        #expect(liveOutput.contains("testnet mode needs the exchange signing key"), "\(liveOutput)")
        let (simCode, simOutput) = try await run("breakwater", ["serve", "exchange-sim", "--config", live.path], in: directory)
        #expect(simCode == 2 && simOutput.contains("exchange-sim serves paper mode only"), "\(simOutput)")
        let (keyCode, keyOutput) = try await run("breakwater", ["paper-key", "--config", live.path], in: directory)
        #expect(keyCode == 0 && keyOutput.contains("no paper key needed"), "\(keyOutput)")
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
