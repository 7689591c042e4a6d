import Foundation
import Testing

/// Runs one of the built executables to its end, without an exchange key or mode in its
/// environment; exit code and everything it printed.
func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = Repository.binaries.appendingPathComponent(executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "BREAKWATER_EXCHANGE_PRIVATE_KEY")
    environment.removeValue(forKey: "BREAKWATER_MODE")
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("The exchange key")
struct KeySafetyTests {
    @Test("testnet or mainnet without a key: the executor and `breakwater up` refuse to start, with one clear message", arguments: ["testnet", "mainnet"])
    func refusesWithoutKey(mode: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyless-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"mode": "\#(mode)", "supervisor": {"admin": "127.0.0.1:1"}}"#.utf8).write(to: config)

        let (code, output) = try run("executor", ["--config", config.path, "--check-config"], in: directory)
        #expect(code == 2, "\(output)")
        #expect(output.contains("\(mode) mode needs the exchange signing key"), "\(output)")
        #expect(output.contains("BREAKWATER_EXCHANGE_PRIVATE_KEY"))

        let (upCode, upOutput) = try run(
            "breakwater", ["up", "--config", config.path, "--var-dir", directory.appendingPathComponent("var").path],
            in: directory)
        #expect(upCode == 2, "\(upOutput)")
        #expect(upOutput.contains("\(mode) mode needs the exchange signing key"), "\(upOutput)")
        #expect(!upOutput.contains("started (pid"), "nothing may start without the key")

        // The feed needs no key: market data is public.
        let (feedCode, feedOutput) = try run("feed-handler", ["--config", config.path, "--check-config"], in: directory)
        #expect(feedCode == 0, "\(feedOutput)")
    }

    @Test("a key that is not a key is refused without being printed")
    func badKeyIsNotEchoed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("badkey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = "0xnot-a-key-but-secret-anyway-1234567890"
        try Data(secret.utf8).write(to: directory.appendingPathComponent("key"))
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"mode": "testnet", "exchange": {"keyFile": "\#(directory.path)/key"}}"#.utf8).write(to: config)
        let (code, output) = try run("executor", ["--config", config.path, "--check-config"], in: directory)
        #expect(code == 2)
        #expect(output.contains("is not a valid secp256k1 private key"), "\(output)")
        #expect(!output.contains(secret))
    }
}
