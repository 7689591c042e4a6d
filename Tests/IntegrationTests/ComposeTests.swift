import Bus
import Foundation
import GRDB
import Logging
import Metrics
import Schema
import ServiceKit
import Synchronization
import Testing
import TestSupport

/// compose/docker-compose.yml on a real Docker engine: Debian's dockerd, started here with only host
/// networking and every path under a temp directory (compose_engine.sh), a base image made offline by
/// debootstrap, the runtime image built from the executables `make test` built (Dockerfile target
/// runtime-from-host: no Swift image can be pulled here), then `docker-compose up -d`.
///
/// The engine cannot pull Prometheus, Alertmanager or Grafana: the override gives them a profile that is not
/// enabled (AlertingTests and DashboardTests run Debian's binaries of those on the same configs). ChromaDB
/// runs in the image's /opt/chroma with the site-packages of the repository's .venv (the same requirements
/// file the image's pip install reads) instead of downloading them again.
@Suite("compose on a real Docker engine", .serialized)
struct ComposeTests {
    static let tools = ["/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/docker", "/usr/bin/docker-compose", "/usr/sbin/debootstrap"]
    static var canRun: Bool { getuid() == 0 && tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }

    @Test(
        "docker-compose up: every Breakwater container healthy and trading on exchange-sim; `restart executor` leaves the others beating; live mode without the key refused",
        .enabled(if: canRun, "needs root and Debian's docker.io, docker-compose and debootstrap (`make test` installs them: .ci/deps.sh test)"))
    func composeUp() async throws {
        let rig = try ComposeRig()
        do {
            try await rig.run()
        } catch {
            await rig.printLogs()
            await rig.tearDown()
            throw error
        }
        await rig.tearDown()
        try rig.expectNothingLeft()
        rig.printTimings()
    }
}

/// One compose project on one private engine, and what the test saw of it.
final class ComposeRig: @unchecked Sendable {
    static let project = "bwtest"
    static let services = ["trace-recorder", "executor", "risk-gate", "signal-generator", "feed-handler"]
    static let engineScript = Repository.root.appendingPathComponent("Tests/IntegrationTests/compose_engine.sh")
    static let composeFolder = Repository.root.appendingPathComponent("compose")

    /// Short, under /tmp: the engine's socket paths must stay under the 108 bytes of a Unix socket address.
    let directory = URL(fileURLWithPath: "/tmp/breakwater-compose-\(UUID().uuidString.prefix(8).lowercased())")
    let ports = freePorts(12)
    var busEndpoints: [String: String] = [:]
    var withChroma = false
    private var timings: [(String, Duration)] = []
    private var engineStarted = false
    private let context = BusContext()
    private var subscriber: Subscriber?
    private var plainSubscriber: Subscriber?
    /// Every heartbeat seen: service, instance, when.
    final class Heartbeats: Sendable {
        let seen = Mutex<[(service: String, instance: String, at: ContinuousClock.Instant)]>([])
        func withLock<T>(_ body: (inout [(service: String, instance: String, at: ContinuousClock.Instant)]) -> T) -> T {
            seen.withLock { body(&$0) }
        }
    }
    let beats = Heartbeats()
    /// What a subscriber without keys heard: nothing, on an authenticated bus.
    let plainBeats = Heartbeats()

    init() throws {
        for (index, service) in Self.services.enumerated() { busEndpoints[service] = "tcp://127.0.0.1:\(ports[index])" }
    }

    var environment: [String: String] {
        [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
            "DOCKER_HOST": "unix://\(directory.path)/docker.sock", "DOCKER_BUILDKIT": "1",
        ]
    }

    // MARK: the steps

    func run() async throws {
        try await step("start dockerd (host networking only)") {
            engineStarted = true
            try await shell(Self.engineScript, ["start", directory.path, "\(getpid())"])
        }
        try await step("base image: the bookworm tarball (a debootstrap made once), docker import") {
            try await shell(Self.engineScript, ["base-image", directory.path, "breakwater-base:bookworm"])
        }
        let context = directory.appendingPathComponent("context")
        try await step("build context from the host's executables") {
            try await shell(
                Repository.root.appendingPathComponent("compose/host-context.sh"), [context.path, Repository.binaries.path])
        }
        try await step("docker build --target runtime-from-host") {
            try await shell(
                URL(fileURLWithPath: "/usr/bin/docker"),
                [
                    "build", "--network", "host", "-f", Self.composeFolder.appendingPathComponent("Dockerfile").path,
                    "--target", "runtime-from-host", "--build-arg", "BASE_IMAGE=breakwater-base:bookworm",
                    "--build-arg", "CHROMADB=none", "-t", "breakwater:latest", context.path,
                ])
        }
        try writeConfig()

        try await step("live mode without the key: refused") {
            let live = try await compose(["-f", Self.composeFolder.appendingPathComponent("live.yml").path, "up", "-d"],
                project: "bwlive", extra: ["BREAKWATER_MODE": "testnet"], check: false)
            #expect(live.status != 0, "compose started live mode without a key:\n\(live.outputText)")
            #expect(live.outputText.contains("live mode needs the exchange signing key"), "\(live.outputText)")
            let created = try await shell(
                URL(fileURLWithPath: "/usr/bin/docker"), ["ps", "-aq", "--filter", "label=com.docker.compose.project=bwlive"])
            #expect(created.outputText.isEmpty, "containers of the refused live start: \(created.outputText)")
        }

        try await step("docker-compose up -d") { try await compose(["up", "-d", "--no-build"]) }
        try await step("every container healthy, every service beating on the bus") {
            try await waitUntil("every container healthy", timeout: .seconds(150)) {
                let containers = try await self.containers()
                let expected = Self.services + ["exchange-sim"] + (self.withChroma ? ["chromadb"] : [])
                guard Set(expected).isSubset(of: Set(containers.keys)) else { return false }
                return expected.allSatisfy { containers[$0]?.health == "healthy" }
            }
            let paperKey = try #require(try await containers()["paper-key"])
            #expect(paperKey.health == "exited" && paperKey.exitCode == 0, "paper-key: \(paperKey)")
            try await listen()
            try await waitUntil("a heartbeat from every service, on the authenticated bus", timeout: .seconds(30)) {
                Set(Self.services).isSubset(of: Set(self.beats.withLock { $0.map(\.service) }))
            }
            // The same publishers give a plain-text subscriber nothing: CURVE is on under compose.
            let plain = plainBeats.withLock { $0.count }
            #expect(plain == 0, "a plain-text subscriber heard \(plain) heartbeats")
        }
        let keyFile = try volume("keys").appendingPathComponent("paper.key")
        #expect(FileManager.default.fileExists(atPath: keyFile.path), "no paper key in the keys volume")
        let paperKey = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let trace = try volume("trace").appendingPathComponent("trace.db").path
        let ledger = try volume("ledger").appendingPathComponent("ledger.db").path
        try await step("trading on exchange-sim: fills in the trace and the ledger volumes") {
            try await waitUntil("fills in the trace and the ledger", timeout: .seconds(150)) {
                try Self.count(trace, "SELECT COUNT(*) FROM envelope WHERE type = 'exec.fill'") >= 2
                    && Self.count(ledger, "SELECT COUNT(*) FROM ledger_fill") >= 2
            }
        }

        try await step("docker-compose restart executor; the others keep beating") { try await restartExecutor(trace: trace, ledger: ledger) }

        try await step("a crashed service (SIGKILL) comes back by itself: restart: unless-stopped") { try await crashSignalGenerator() }

        // The key never leaves its file: no container logged it.
        let logs = try await compose(["logs", "--no-color"])
        #expect(!paperKey.isEmpty && !logs.outputText.contains(paperKey.replacingOccurrences(of: "0x", with: "")))

        try await step("docker-compose down -v") { try await compose(["down", "-v", "--timeout", "15"]) }
        let left = try await shell(URL(fileURLWithPath: "/usr/bin/docker"), ["ps", "-aq"])
        let volumes = try await shell(URL(fileURLWithPath: "/usr/bin/docker"), ["volume", "ls", "-q"])
        #expect(left.outputText.isEmpty && volumes.outputText.isEmpty, "left after down -v: \(left.outputText) \(volumes.outputText)")
    }

    /// The executor restarts (new instance, healthy again, trading again, same ledger); the four others are
    /// neither restarted nor unhealthy, and beat at least every 3 s throughout.
    func restartExecutor(trace: String, ledger: String) async throws {
        let before = try await containers()
        let oldInstance = beats.withLock { $0.last { $0.service == "executor" }?.instance }
        let fillsBefore = try Self.count(ledger, "SELECT COUNT(*) FROM ledger_fill")
        let tracedBefore = try Self.count(trace, "SELECT COUNT(*) FROM envelope WHERE type = 'exec.fill'")
        let others = Self.services.filter { $0 != "executor" } + ["exchange-sim"] + (withChroma ? ["chromadb"] : [])
        let start = ContinuousClock.now
        let unhealthy = Mutex<[String]>([])
        let watching = Mutex(true)
        let watcher = Task {
            while watching.withLock({ $0 }) {
                if let now = try? await self.containers() {
                    for name in others where now[name]?.health != "healthy" {
                        unhealthy.withLock { $0.append("\(name): \(now[name]?.health ?? "gone")") }
                    }
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        defer { watcher.cancel() }
        try await compose(["restart", "executor"])
        try await waitUntil("the executor back: new instance, healthy", timeout: .seconds(90)) {
            let instance = self.beats.withLock { $0.last { $0.service == "executor" }?.instance }
            guard instance != nil, instance != oldInstance else { return false }
            return try await self.containers()["executor"]?.health == "healthy"
        }
        try await Task.sleep(for: .seconds(3))
        watching.withLock { $0 = false }
        _ = await watcher.value
        let end = ContinuousClock.now
        print("[compose-test] executor restarted in \(end - start - .seconds(3)) (instance \(oldInstance?.prefix(8) ?? "-") → new)")

        #expect(unhealthy.withLock { $0 }.isEmpty, "not healthy while the executor restarted: \(unhealthy.withLock { $0 })")
        let after = try await containers()
        for name in others {
            #expect(after[name]?.startedAt == before[name]?.startedAt, "\(name) was restarted")
            #expect(after[name]?.restarts == before[name]?.restarts, "\(name) restarted by its policy")
        }
        let seen = beats.withLock { $0 }
        for service in others where Self.services.contains(service) {
            let times = [start] + seen.filter { $0.service == service && $0.at >= start && $0.at <= end }.map(\.at) + [end]
            let longest = zip(times.dropFirst(), times).map { $0 - $1 }.max() ?? .zero
            #expect(longest <= .seconds(3), "\(service): no heartbeat for \(longest) while the executor restarted")
            let instances = Set(seen.filter { $0.service == service && $0.at >= start }.map(\.instance))
            #expect(instances.count == 1, "\(service) changed instance: \(instances)")
        }
        // The ledger lives in its volume, not in the container: the new executor goes on from it.
        try await waitUntil("a fill after the restart", timeout: .seconds(120)) {
            try Self.count(ledger, "SELECT COUNT(*) FROM ledger_fill") > fillsBefore
                && Self.count(trace, "SELECT COUNT(*) FROM envelope WHERE type = 'exec.fill'") > tracedBefore
        }
    }

    /// SIGKILL to the signal generator's process (under the container's init, which then exits with it): the
    /// restart policy brings the container back, with a new instance on the bus.
    func crashSignalGenerator() async throws {
        let before = try #require(try await containers()["signal-generator"])
        let oldInstance = beats.withLock { $0.last { $0.service == "signal-generator" }?.instance }
        let inspected = try await shell(
            URL(fileURLWithPath: "/usr/bin/docker"), ["inspect", "-f", "{{.State.Pid}}", "\(Self.project)_signal-generator_1"])
        let initPid = inspected.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
        let children = try String(contentsOfFile: "/proc/\(initPid)/task/\(initPid)/children", encoding: .utf8)
        let service = try #require(children.split(separator: " ").first.flatMap { Int32($0) }, "no process under init \(initPid)")
        #expect(kill(service, SIGKILL) == 0)
        try await waitUntil("the signal generator restarted by its policy, healthy, beating", timeout: .seconds(90)) {
            let instance = self.beats.withLock { $0.last { $0.service == "signal-generator" }?.instance }
            guard instance != nil, instance != oldInstance, let now = try await self.containers()["signal-generator"] else { return false }
            return now.restarts > before.restarts && now.health == "healthy"
        }
    }

    /// Subscribes to the services' heartbeats as busspy, with the keys the paper-key one-shot made in the
    /// keys volume (a keyed principal every publisher admits), and once more in plain text, which none should.
    func listen() async throws {
        let keyDirectory = try volume("keys").appendingPathComponent("bus")
        let settingsFile = directory.appendingPathComponent("host-keys.json")
        try JSONSerialization.data(withJSONObject: ["bus": ["keyDir": keyDirectory.path]]).write(to: settingsFile)
        var settings = await Settings.load(file: settingsFile.path, environment: [:])
        let authentication = BusKeys.read(&settings, principal: BusKeys.spy)
        #expect(settings.problems.isEmpty, "the keys volume's bus keys: \(settings.problems)")
        let logger = Logger(label: "compose-test")
        let security = try #require(
            authentication.security(rejections: BusRejections(factory: NOOPMetricsHandler.instance, logger: logger)),
            "no CURVE keys for busspy in \(keyDirectory.path): \(authentication.warning ?? "")")
        let counters = BusCounters(factory: NOOPMetricsHandler.instance, role: "compose-test")
        subscriber = try Subscriber(
            context: context, peers: Self.services.map { BusPeer(endpoint: busEndpoints[$0]!, service: $0) }, security: security,
            topics: ["svc.hb"], counters: counters, logger: logger
        ) { [beats] event in
            guard case .envelope(let raw) = event else { return }
            beats.withLock { $0.append((raw.header.source, raw.header.instance, .now)) }
        }
        plainSubscriber = try Subscriber(
            context: context, endpoints: Self.services.map { busEndpoints[$0]! }, topics: ["svc.hb"], counters: counters,
            logger: logger
        ) { [plainBeats] event in
            guard case .envelope(let raw) = event else { return }
            plainBeats.withLock { $0.append((raw.header.source, raw.header.instance, .now)) }
        }
    }

    // MARK: config

    /// compose/breakwater.json on free ports, one-second candles, one symbol and loose limits (trades within a
    /// minute); mounted over the shipped one by the override, which also turns monitoring off.
    func writeConfig() throws {
        let shipped = try Data(contentsOf: Self.composeFolder.appendingPathComponent("breakwater.json"))
        var config = try #require(try JSONSerialization.jsonObject(with: shipped) as? [String: Any])
        let keys = ["traceRecorder", "executor", "riskGate", "signalGenerator", "feedHandler"]
        var endpoints: [String: Any] = [:]
        for (index, key) in keys.enumerated() {
            endpoints[key] = ["bus": busEndpoints[Self.services[index]]!, "admin": "127.0.0.1:\(ports[5 + index])"]
        }
        config["endpoints"] = endpoints
        var exchange = config["exchange"] as? [String: Any] ?? [:]
        exchange["url"] = "http://127.0.0.1:\(ports[10])"
        config["exchange"] = exchange
        config["exchangeSim"] = ["candleSeconds": 1]
        config["symbols"] = ["BTC"]
        config["signal"] = RunningSystem.merge(busySignals, ["strategies": "rsi_standard"])
        config["risk"] = RunningSystem.merge(config["risk"] as? [String: Any] ?? [:], looseRisk)
        config["recall"] = RunningSystem.merge(
            config["recall"] as? [String: Any] ?? [:], ["chroma": ["url": "http://127.0.0.1:\(ports[11])"]])
        let configPath = directory.appendingPathComponent("breakwater.json").path
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: configPath))

        // ChromaDB from the .venv `make test` made, if its Python is the image's (Debian bookworm's 3.11).
        let venv = Repository.root.appendingPathComponent(".venv")
        let site = venv.appendingPathComponent("lib/python3.11/site-packages")
        withChroma = FileManager.default.fileExists(atPath: site.appendingPathComponent("chromadb").path)
        if !withChroma { print("[compose-test] no ChromaDB in \(site.path): chromadb left out, recall answers from its fallback") }

        var lines = ["services:"]
        for service in Self.services + ["paper-key", "exchange-sim", "chromadb"] {
            lines.append("  \(service):")
            var volumes = ["\(configPath):/etc/breakwater/breakwater.json:ro"]
            if service == "chromadb" { volumes.append("\(site.path):/opt/chroma/lib/python3.11/site-packages:ro") }
            lines.append("    volumes: [\(volumes.map { "\"\($0)\"" }.joined(separator: ", "))]")
            if service != "paper-key" { lines.append("    healthcheck: { interval: 2s }") }
            if service == "chromadb" && !withChroma { lines.append("    profiles: [chromadb]") }
        }
        for service in ["prometheus", "alertmanager", "grafana"] {
            lines += ["  \(service):", "    profiles: [monitoring]"]
        }
        try (lines.joined(separator: "\n") + "\n").write(to: overrideFile, atomically: true, encoding: .utf8)
        try "".write(to: emptyEnvironmentFile, atomically: true, encoding: .utf8)
    }

    var overrideFile: URL { directory.appendingPathComponent("override.yml") }
    /// compose reads compose/.env by itself; a developer's (live settings, say) must not reach the test.
    var emptyEnvironmentFile: URL { directory.appendingPathComponent("empty.env") }

    // MARK: helpers

    struct Container {
        var health: String
        var exitCode: Int
        var startedAt: String
        var restarts: Int
    }

    /// The project's containers by service.
    func containers() async throws -> [String: Container] {
        let docker = URL(fileURLWithPath: "/usr/bin/docker")
        let ids = try await shell(docker, ["ps", "-aq", "--filter", "label=com.docker.compose.project=\(Self.project)"])
            .outputText.split(separator: "\n").map(String.init)
        guard !ids.isEmpty else { return [:] }
        let inspected = try await shell(docker, ["inspect"] + ids)
        let documents = try #require(try JSONSerialization.jsonObject(with: inspected.output) as? [[String: Any]])
        var result: [String: Container] = [:]
        for document in documents {
            let labels = (document["Config"] as? [String: Any])?["Labels"] as? [String: String] ?? [:]
            let state = document["State"] as? [String: Any] ?? [:]
            let health = (state["Health"] as? [String: Any])?["Status"] as? String ?? (state["Status"] as? String ?? "?")
            result[labels["com.docker.compose.service"] ?? "?"] = Container(
                health: health, exitCode: state["ExitCode"] as? Int ?? -1, startedAt: state["StartedAt"] as? String ?? "",
                restarts: document["RestartCount"] as? Int ?? -1)
        }
        return result
    }

    /// A named volume's folder on the host (the engine's data root).
    func volume(_ name: String) throws -> URL {
        directory.appendingPathComponent("data/volumes/\(Self.project)_\(name)/_data")
    }

    /// One number from an SQLite database a container writes; 0 while the file is not there yet.
    static func count(_ path: String, _ sql: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        return try database.read { try Int.fetchOne($0, sql: sql) } ?? 0
    }

    @discardableResult
    func compose(
        _ arguments: [String], project: String = ComposeRig.project, extra: [String: String] = [:], check: Bool = true
    ) async throws -> ProcessResult {
        let files = ["-f", Self.composeFolder.appendingPathComponent("docker-compose.yml").path]
        // A live.yml in `arguments` goes before the test's override, which mounts the test config.
        let live = arguments.first == "-f" ? Array(arguments.prefix(2)) : []
        let rest = arguments.first == "-f" ? Array(arguments.dropFirst(2)) : arguments
        return try await shell(
            URL(fileURLWithPath: "/usr/bin/docker-compose"),
            ["--no-ansi", "-p", project, "--env-file", emptyEnvironmentFile.path] + files + live + ["-f", overrideFile.path] + rest,
            extra: extra, check: check)
    }

    @discardableResult
    func shell(_ executable: URL, _ arguments: [String], extra: [String: String] = [:], check: Bool = true) async throws
        -> ProcessResult
    {
        let result = try await runProcess(
            executable, arguments, directory: Self.composeFolder, environment: environment.merging(extra) { $1 },
            errorsIntoOutput: true)
        if check && result.status != 0 {
            throw TestFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.outputText.suffix(3000))")
        }
        return result
    }

    func step(_ name: String, _ body: () async throws -> Void) async throws {
        let start = ContinuousClock.now
        try await body()
        let took = ContinuousClock.now - start
        timings.append((name, took))
        print("[compose-test] \(name): \(String(format: "%.1f s", seconds(took)))")
    }

    func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do {
                if try await condition() { return }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw TestFailure("timed out after \(timeout) waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
    }

    func printLogs() async {
        guard engineStarted else { return }
        if let status = try? await shell(URL(fileURLWithPath: "/usr/bin/docker"), ["ps", "-a"], check: false) {
            print("[compose-test] containers:\n\(status.outputText)")
        }
        if let logs = try? await compose(["logs", "--no-color", "--tail", "25"], check: false) {
            print("[compose-test] logs:\n\(logs.outputText)")
        }
    }

    /// Always: the project, then the engine and everything under its directory.
    func tearDown() async {
        subscriber?.close()
        plainSubscriber?.close()
        context.terminate()
        guard engineStarted else { return }
        _ = try? await compose(["down", "-v", "--timeout", "10"], check: false)
        let start = ContinuousClock.now
        if let stopped = try? await shell(Self.engineScript, ["stop", directory.path], check: false), stopped.status != 0 {
            print("[compose-test] engine stop: \(stopped.outputText)")
        }
        timings.append(("stop the engine, unmount, remove", ContinuousClock.now - start))
    }

    /// No daemon of this engine, no mount and no file of it.
    func expectNothingLeft() throws {
        #expect(!FileManager.default.fileExists(atPath: directory.path), "\(directory.path) is still there")
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!mounts.contains(directory.path), "mounts left under \(directory.path)")
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in processes where Int(pid) != nil {
            let commandLine = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            #expect(!commandLine.contains(directory.path), "process \(pid) of the engine is still running: \(commandLine)")
        }
    }

    func printTimings() {
        let total = timings.reduce(Duration.zero) { $0 + $1.1 }
        for (name, took) in timings {
            print("[compose-test] \(name.padding(toLength: 62, withPad: " ", startingAt: 0)) \(String(format: "%6.1f s", seconds(took)))")
        }
        print("[compose-test] total \(String(format: "%.1f s", seconds(total)))")
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
