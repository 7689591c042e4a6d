import AsyncHTTPClient
import Foundation
import Recall
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real ChromaDB server (`chroma run`) in a temporary directory on a free loopback port, started from
/// the repository's `.venv` (made by `make test` from `.ci/requirements-test.txt`).
final class ChromaServer: @unchecked Sendable {
    /// `<root>/Tests/RecallTests/ChromaServer.swift` → `<root>`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let executable = packageRoot.appendingPathComponent(".venv/bin/chroma")

    let process: Process
    let port: Int
    let directory: URL
    let arguments: [String]
    var baseURL: String { "http://127.0.0.1:\(port)" }
    private var logURL: URL { directory.appendingPathComponent("chroma.log") }

    private init(process: Process, port: Int, directory: URL, arguments: [String]) {
        self.process = process
        self.port = port
        self.directory = directory
        self.arguments = arguments
    }

    /// Starts the server and waits (up to `readiness`) for its heartbeat.
    static func start(client: HTTPClient, readiness: Duration = .seconds(90)) async throws -> ChromaServer {
        try #require(
            FileManager.default.isExecutableFile(atPath: executable.path),
            "\(executable.path) is missing: run `make test` to create .venv with chromadb")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "recall-chroma-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        let arguments = [
            "run", "--path", directory.appendingPathComponent("data").path, "--host", "127.0.0.1", "--port", "\(port)",
        ]
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ANONYMIZED_TELEMETRY"] = "False"
        process.environment = environment
        let log = directory.appendingPathComponent("chroma.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let server = ChromaServer(process: process, port: port, directory: directory, arguments: arguments)
        do {
            try await server.waitForHeartbeat(client: client, within: readiness)
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// The command line, for reports.
    var commandLine: String { ([Self.executable.path] + arguments).joined(separator: " ") }

    private func waitForHeartbeat(client: HTTPClient, within limit: Duration) async throws {
        let store = ChromaRecallStore(
            client: client, configuration: .init(baseURL: baseURL, requestTimeout: .seconds(1)), logger: testLogger)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            guard process.isRunning else {
                throw ChromaServerError(message: "chroma exited with status \(process.terminationStatus): \(logTail())")
            }
            if (try? await store.heartbeat()) != nil { return }
            // Waiting for a real process to come up: real time is the point here.
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChromaServerError(message: "no heartbeat from chroma within \(limit): \(logTail())")
    }

    /// Suspends the server (SIGSTOP): it keeps its socket open and answers nothing, like a stalled Chroma.
    func freeze() { suspendProcess(process.processIdentifier) }
    func thaw() { kill(process.processIdentifier, SIGCONT) }

    /// SIGTERM, up to 5 s to exit, then SIGKILL; removes the data directory. Safe to call twice.
    func stop() async {
        if process.isRunning {
            let pid = process.processIdentifier
            kill(pid, SIGCONT)  // a frozen process cannot act on SIGTERM
            process.terminate()
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(5))
            while process.isRunning && clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                kill(pid, SIGKILL)
                while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    func logTail() -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return String(text.suffix(2_000))
    }
}

struct ChromaServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs `body` against a fresh server and an HTTP client, stopping both whatever happens.
func withChromaServer(_ body: (ChromaServer, HTTPClient) async throws -> Void) async throws {
    let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: ChromaRecallStore.makeHTTPClientConfiguration())
    let server: ChromaServer
    do {
        server = try await ChromaServer.start(client: client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    print("chroma started: \(server.commandLine)")
    do {
        try await body(server, client)
    } catch {
        await server.stop()
        try? await client.shutdown()
        throw error
    }
    await server.stop()
    try await client.shutdown()
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw ChromaServerError(message: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw ChromaServerError(message: "bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ChromaServerError(message: "getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
