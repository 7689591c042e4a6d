import Foundation
import Hyperliquid
import Testing
import TestSupport

/// Runs sdk/test_official_sdk.py (the official hyperliquid-python-sdk) against a real exchange-sim
/// process: this test starts the simulator on a free port with the SDK test key funded, runs
/// `<root>/.venv/bin/python3 -m pytest` with EXCHANGE_SIM_URL, and always stops the simulator.
@Suite(.serialized) struct OfficialSDKTests {
    /// The key test_official_sdk.py signs with.
    static let sdkKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

    static var binary: URL { Repository.binaries.appendingPathComponent("exchange-sim") }

    static var python: URL { Repository.python }

    @Test(.timeLimit(.minutes(5)))
    func officialPythonSDKWorksAgainstTheSimulator() async throws {
        let fm = FileManager.default
        try #require(
            fm.isExecutableFile(atPath: Self.binary.path),
            "exchange-sim is not built at \(Self.binary.path) (swift build, or set BREAKWATER_BIN_DIR)")
        try #require(
            fm.isExecutableFile(atPath: Self.python.path),
            "\(Self.python.path) is missing: `make test` creates .venv with hyperliquid-python-sdk and pytest")

        let address = try Wallet(privateKeyHex: Self.sdkKey).address.lowercased
        let logs = fm.temporaryDirectory.appendingPathComponent("exchange-sim-sdk-\(UUID().uuidString)")
        try fm.createDirectory(at: logs, withIntermediateDirectories: true)
        let simLog = logs.appendingPathComponent("exchange-sim.log")
        let pytestLog = logs.appendingPathComponent("pytest.log")
        _ = fm.createFile(atPath: simLog.path, contents: nil)
        _ = fm.createFile(atPath: pytestLog.path, contents: nil)

        let sim = Process()
        sim.executableURL = Self.binary
        // The admin routes move the mark and pay funding for the trigger and funding tests.
        let adminToken = "sdk-test-\(UUID().uuidString)"
        sim.arguments = [
            "--port", "0", "--fund", "\(address)=100000", "--log-level", "warning", "--admin-token", adminToken,
        ]
        sim.currentDirectoryURL = Repository.root
        let simOut = try FileHandle(forWritingTo: simLog)
        sim.standardOutput = simOut
        sim.standardError = simOut
        try sim.run()
        defer {
            // Always stop the simulator, whatever happened above.
            if sim.isRunning {
                sim.terminate()
                let deadline = Date().addingTimeInterval(5)
                while sim.isRunning && Date() < deadline { usleep(50_000) }
                if sim.isRunning { kill(sim.processIdentifier, SIGKILL) }
            }
            try? simOut.close()
        }

        // Wait for "exchange-sim listening on http://127.0.0.1:PORT".
        var url: String?
        let startDeadline = Date().addingTimeInterval(30)
        while url == nil && Date() < startDeadline && sim.isRunning {
            let text = (try? String(contentsOf: simLog, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on (http://[0-9.]+:[0-9]+)"#, options: .regularExpression) {
                url = String(text[range].dropFirst("listening on ".count))
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let simOutput = (try? String(contentsOf: simLog, encoding: .utf8)) ?? ""
        let base = try #require(url, "exchange-sim did not start:\n\(simOutput)")

        let pytest = Process()
        pytest.executableURL = Self.python
        pytest.arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "Tests/ExchangeSimTests/sdk/test_official_sdk.py"]
        pytest.currentDirectoryURL = Repository.root
        var environment = ProcessInfo.processInfo.environment
        environment["EXCHANGE_SIM_URL"] = base
        environment["EXCHANGE_SIM_ADMIN_TOKEN"] = adminToken
        pytest.environment = environment
        let pytestOut = try FileHandle(forWritingTo: pytestLog)
        pytest.standardOutput = pytestOut
        pytest.standardError = pytestOut
        try pytest.run()
        defer {
            if pytest.isRunning { pytest.terminate() }
            try? pytestOut.close()
        }
        let deadline = Date().addingTimeInterval(240)
        while pytest.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let output = (try? String(contentsOf: pytestLog, encoding: .utf8)) ?? ""
        try #require(!pytest.isRunning, "pytest did not finish in time:\n\(output)")
        #expect(pytest.terminationStatus == 0, "official SDK tests failed:\n\(output)")
        #expect(output.contains("passed"), "\(output)")
        #expect(sim.isRunning, "exchange-sim died during the SDK tests:\n\((try? String(contentsOf: simLog, encoding: .utf8)) ?? "")")
    }
}
