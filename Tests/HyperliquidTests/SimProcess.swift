import AsyncHTTPClient
import Foundation
import Hyperliquid
import Market
import NIOCore
import Resilience
import Schema
import Synchronization
import Testing
import TestSupport

/// A manual clock from Resilience (this target has its own `ManualClock` for nonce tests).
typealias TestClock = Resilience.ManualClock

/// The exchange-sim binary, started as a subprocess on a free port and always stopped.
final class SimProcess: @unchecked Sendable {
    static var binary: URL { Repository.binaries.appendingPathComponent("exchange-sim") }

    /// The account the tests trade with (funded with 100,000 USDC at start).
    static let trader = try! Wallet(privateKeyHex: String(repeating: "5a", count: 32))
    static let adminToken = "T"

    let logFile: URL
    let baseURL: String
    let adminToken: String?
    private let child: Mutex<Process?>

    var endpoint: HyperliquidEndpoint { .paper(baseURL: baseURL) }

    private init(process: Process, logFile: URL, baseURL: String, adminToken: String?) {
        self.child = Mutex(process)
        self.logFile = logFile
        self.baseURL = baseURL
        self.adminToken = adminToken
    }

    /// `--port 0 --fund <trader>=100000 --market synthetic --seed 7`, plus `--admin-token` when asked.
    static func start(admin: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) async throws -> SimProcess
    {
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "exchange-sim is not built at \(binary.path) (swift build, or set BREAKWATER_BIN_DIR)",
            sourceLocation: sourceLocation)
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "exchange-sim-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = binary
        var arguments = [
            "--port", "0", "--fund", "\(trader.address.lowercased)=100000", "--market", "synthetic", "--seed", "7",
            "--log-level", "warning",
        ]
        if admin { arguments += ["--admin-token", adminToken] }
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()

        var url: String?
        let deadline = ContinuousClock.now + .seconds(30)
        while url == nil, ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://[0-9.]+:[0-9]+"#, options: .regularExpression) {
                url = String(text[range].dropFirst("listening on ".count))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let url else {
            Self.kill(process)
            let output = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            Issue.record("exchange-sim did not start:\n\(output)", sourceLocation: sourceLocation)
            throw SimError.didNotStart
        }
        return SimProcess(process: process, logFile: logFile, baseURL: url, adminToken: admin ? adminToken : nil)
    }

    var isRunning: Bool { child.withLock { $0?.isRunning ?? false } }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func stop() {
        guard
            let process = child.withLock({ p -> Process? in
                defer { p = nil }
                return p
            })
        else { return }
        Self.kill(process)
    }

    private static func kill(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// POST /admin/faults with the bearer token.
    func inject(_ json: String) async throws {
        let token = try #require(adminToken, "the sim was started without --admin-token")
        var request = HTTPClientRequest(url: baseURL + "/admin/faults")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 16)
        try #require(response.status.code == 200, "faults refused: \(String(buffer: body))")
    }

    /// Waits until the synthetic market has a two-sided BTC book.
    func waitForMarket(_ client: HyperliquidClient<ContinuousClock>) async throws {
        try await poll("a two-sided BTC book", timeout: .seconds(20)) {
            guard let book = try? await client.l2Book(coin: "BTC") else { return false }
            return !book.bids.isEmpty && !book.asks.isEmpty
        }
    }
}

enum SimError: Error { case didNotStart }

/// Polls `condition` until it holds or `timeout` passes (then records a failure and throws).
func poll(
    _ what: String, timeout: Duration = .seconds(20), interval: Duration = .milliseconds(50),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    Issue.record("timed out after \(timeout) waiting for \(what)", sourceLocation: sourceLocation)
    throw PollTimeout(what: what)
}

struct PollTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A client of `sim` trading as `SimProcess.trader`; shut down by `withClient`.
func makeClient(
    _ sim: SimProcess, configure: (inout HyperliquidClient<ContinuousClock>.Configuration) -> Void = { _ in },
    onTransition: @escaping CircuitBreaker<ContinuousClock.Instant>.Observer = { _ in }
) -> HyperliquidClient<ContinuousClock> {
    var configuration = HyperliquidClient<ContinuousClock>.Configuration(endpoint: sim.endpoint)
    configure(&configuration)
    return HyperliquidClient(
        configuration: configuration, wallet: SimProcess.trader, onBreakerTransition: onTransition)
}

/// Starts a sim and a client, runs `body`, and always shuts both down.
func withSimAndClient(
    admin: Bool = false, waitForMarket: Bool = true,
    configure: (inout HyperliquidClient<ContinuousClock>.Configuration) -> Void = { _ in },
    onTransition: @escaping CircuitBreaker<ContinuousClock.Instant>.Observer = { _ in },
    _ body: (SimProcess, HyperliquidClient<ContinuousClock>) async throws -> Void
) async throws {
    let sim = try await SimProcess.start(admin: admin)
    defer { sim.stop() }
    let client = makeClient(sim, configure: configure, onTransition: onTransition)
    do {
        if waitForMarket { try await sim.waitForMarket(client) }
        try await body(sim, client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

/// Records the breaker transitions a client reports.
final class TransitionLog: Sendable {
    private let entries = Mutex<[(from: BreakerState, to: BreakerState, name: String)]>([])

    var observer: CircuitBreaker<ContinuousClock.Instant>.Observer {
        { transition in self.entries.withLock { $0.append((transition.from, transition.to, transition.name)) } }
    }

    var states: [BreakerState] { entries.withLock { $0.map(\.to) } }

    func contains(_ from: BreakerState, _ to: BreakerState) -> Bool {
        entries.withLock { $0.contains { $0.from == from && $0.to == to } }
    }
}

extension HyperliquidBook {
    var bestBid: Amount? { bids.first?.price }
    var bestAsk: Amount? { asks.first?.price }
}

/// Collects a stream's events in the background; tests wait for the next matching one in order.
final class EventLog: Sendable {
    private final class Storage: Sendable {
        let state = Mutex<(events: [StreamEvent], cursor: Int)>(([], 0))
    }
    private let storage = Storage()
    private let reader: Task<Void, Never>

    init(_ stream: AsyncStream<StreamEvent>) {
        reader = Task { [storage] in
            for await event in stream { storage.state.withLock { $0.events.append(event) } }
        }
    }

    deinit { reader.cancel() }

    var events: [StreamEvent] { storage.state.withLock { $0.events } }

    /// Events consumed so far by `next`.
    var consumed: [StreamEvent] { storage.state.withLock { Array($0.events[..<$0.cursor]) } }

    /// Consumes events in order until one satisfies `match` and returns it; fails after `timeout`.
    @discardableResult
    func next(
        _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
        where match: (StreamEvent) -> Bool
    ) async throws -> StreamEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: StreamEvent? = storage.state.withLock { state in
                while state.cursor < state.events.count {
                    let event = state.events[state.cursor]
                    state.cursor += 1
                    if match(event) { return event }
                }
                return nil
            }
            if let found { return found }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let recent = events.suffix(10).map { String(describing: $0).prefix(160) }
        Issue.record(
            "timed out after \(timeout) waiting for \(what); last events: \(recent)", sourceLocation: sourceLocation)
        throw PollTimeout(what: what)
    }
}
