import Bus
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Prometheus
import Schema
import ServiceKit
import Synchronization

/// A process the supervisor runs: one of the five services, or a dependency such as a
/// database server.
struct ChildSpec: Sendable {
    var name: String
    var executable: String
    var arguments: [String]
    var environment: [String: String] = [:]
    /// Its PUB endpoint, if it is on the bus.
    var bus: String?
    /// Its admin (or health) base URL.
    var admin: String?
    /// Path polled for readiness when it publishes no heartbeat.
    var healthPath: String = "/health/ready"
    var publishesHeartbeats: Bool = true
}

/// Runs every child as its own process, restarts a crashed one with backoff, and keeps
/// what the bus says about each (instance, heartbeat age, health).
final class Supervisor: Sendable {
    struct ChildState: Sendable {
        var spec: ChildSpec
        var pid: Int32?
        var startedAt: ContinuousClock.Instant?
        var restarts = 0
        var consecutiveCrashes = 0
        var restartRequested = false
        var lastExit: String?
        var instance: String?
        var lastHeartbeat: ContinuousClock.Instant?
        var heartbeatHealth: ServiceHealth?
        var probeHealthy = false
    }

    let specs: [ChildSpec]
    let logDirectory: String
    let logger: Logger
    private let children: Mutex<[String: ChildState]>
    private let stopping = Mutex(false)
    /// Children whose exit has not been reaped yet.
    private let running = Mutex<Set<String>>([])

    /// The supervisor's own metrics (refused operator calls), on its admin port's `/metrics`.
    let registry = PrometheusCollectorRegistry()
    var metrics: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: registry) }

    func metricsText() -> String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }

    init(specs: [ChildSpec], logDirectory: String, logger: Logger) {
        self.specs = specs
        self.logDirectory = logDirectory
        self.logger = logger
        children = Mutex(Dictionary(uniqueKeysWithValues: specs.map { ($0.name, ChildState(spec: $0)) }))
    }

    func say(_ text: String) {
        print("[breakwater] \(text)")
        fflush(nil)
    }

    /// Starts every child in order; after each of `first`, waits (up to `patience`) until it
    /// answers its health probe, so that the services do not meet an exchange still loading.
    func startAll(waitingFor first: Set<String> = [], patience: Duration = .seconds(60)) async {
        for spec in specs {
            start(spec.name)
            guard first.contains(spec.name), spec.admin != nil else { continue }
            let deadline = ContinuousClock.now + patience
            while ContinuousClock.now < deadline, !stopping.withLock({ $0 }) {
                if await answersHealthProbe(spec) {
                    say("\(spec.name) is up")
                    break
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func start(_ name: String) {
        guard let spec = specs.first(where: { $0.name == name }), !stopping.withLock({ $0 }) else { return }
        let logPath = "\(logDirectory)/\(name).log"
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_SUPERVISOR_PID"] = "\(getpid())"
        for (key, value) in spec.environment { environment[key] = value }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: spec.executable, arguments: spec.arguments, environment: environment, log: logPath
            ) { [weak self] status in
                self?.exited(name, status: status)
            }
        } catch {
            say("\(name): \(error)")
            scheduleRestart(name)
            return
        }
        _ = running.withLock { $0.insert(name) }
        children.withLock {
            $0[name]?.pid = child.pid
            $0[name]?.startedAt = .now
            $0[name]?.instance = nil
            $0[name]?.lastHeartbeat = nil
            $0[name]?.probeHealthy = false
        }
        say("\(name) started (pid \(child.pid), log \(logPath))")
    }

    private func exited(_ name: String, status: Int32) {
        let how = ChildProcess.describe(status)
        let (requested, ranFor) = children.withLock { children -> (Bool, Duration) in
            let state = children[name]
            let ranFor = state?.startedAt.map { ContinuousClock.now - $0 } ?? .zero
            children[name]?.pid = nil
            children[name]?.lastExit = how
            let requested = state?.restartRequested ?? false
            children[name]?.restartRequested = false
            return (requested, ranFor)
        }
        running.withLock { _ = $0.remove(name) }
        if stopping.withLock({ $0 }) {
            say("\(name) stopped (\(how))")
            return
        }
        if requested {
            say("\(name) stopped for restart (\(how))")
            children.withLock { $0[name]?.restarts += 1 }
            start(name)
            return
        }
        say("\(name) exited unexpectedly (\(how)) after \(ranFor.formatted(.units(allowed: [.seconds, .milliseconds])))")
        children.withLock {
            if ranFor > .seconds(30) { $0[name]?.consecutiveCrashes = 0 }
            $0[name]?.consecutiveCrashes += 1
        }
        scheduleRestart(name)
    }

    /// 0.5 s, 1 s, 2 s … at most 30 s; a child that ran 30 s starts the series again.
    private func scheduleRestart(_ name: String) {
        let crashes = children.withLock { $0[name]?.consecutiveCrashes ?? 1 }
        let delay = min(0.5 * pow(2, Double(max(crashes - 1, 0))), 30)
        say("restarting \(name) in \(delay) s")
        Task {
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            self.children.withLock { $0[name]?.restarts += 1 }
            self.start(name)
        }
    }

    /// Stops one child and starts it again at once; false if it is unknown.
    func restart(_ name: String) -> Bool {
        guard specs.contains(where: { $0.name == name }) else { return false }
        let pid = children.withLock { children -> Int32? in
            children[name]?.restartRequested = true
            return children[name]?.pid
        }
        if let pid {
            kill(pid, SIGTERM)
            Task {
                try? await Task.sleep(for: .seconds(10))
                if self.children.withLock({ $0[name]?.pid == pid }) { kill(pid, SIGKILL) }
            }
        } else {
            children.withLock {
                $0[name]?.restartRequested = false
                $0[name]?.restarts += 1
            }
            start(name)
        }
        return true
    }

    /// Stops every child, last started first; SIGKILL after the grace period.
    func stopAll(grace: Duration = .seconds(10)) async {
        stopping.withLock { $0 = true }
        for spec in specs.reversed() {
            guard let pid = children.withLock({ $0[spec.name]?.pid }) else { continue }
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while children.withLock({ $0[spec.name]?.pid }) != nil, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if let pid = children.withLock({ $0[spec.name]?.pid }) {
                say("\(spec.name) did not stop in time; killing")
                kill(pid, SIGKILL)
            }
        }
        // Wait for the termination handlers so no child outlives us.
        let deadline = ContinuousClock.now + .seconds(5)
        while running.withLock({ !$0.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls the health URL of every child that publishes no heartbeat (a database server).
    func probeDependencies() async {
        let probed = specs.filter { !$0.publishesHeartbeats && $0.admin != nil }
        guard !probed.isEmpty else { return }
        while !Task.isCancelled {
            for spec in probed { setProbe(spec.name, healthy: await answersHealthProbe(spec)) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// A 2xx from the child's health URL within a second.
    func answersHealthProbe(_ spec: ChildSpec) async -> Bool {
        guard let admin = spec.admin, let url = URL(string: admin + spec.healthPath) else { return false }
        var request = URLRequest(url: url)
        request.timeoutInterval = 1
        guard let (_, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse
        else { return false }
        return (200..<300).contains(http.statusCode)
    }

    func heartbeat(_ heartbeat: Heartbeat, instance: String) {
        children.withLock {
            $0[heartbeat.service]?.instance = instance
            $0[heartbeat.service]?.lastHeartbeat = .now
            $0[heartbeat.service]?.heartbeatHealth = heartbeat.health
        }
    }

    func setProbe(_ name: String, healthy: Bool) {
        children.withLock { $0[name]?.probeHealthy = healthy }
    }

    var states: [ChildState] {
        let snapshot = children.withLock { $0 }
        return specs.compactMap { snapshot[$0.name] }
    }

    /// The `status --json` document: one entry per process.
    func statusDocument() -> [String: Any] {
        let now = ContinuousClock.now
        let services: [[String: Any]] = states.map { state in
            let age = state.lastHeartbeat.map { now - $0 }
            let ageMs = age.map { Int($0.wholeNanoseconds / 1_000_000) }
            var health = "down"
            if state.pid != nil {
                if state.spec.publishesHeartbeats {
                    if let ageMs, ageMs <= 3_000 {
                        health = state.heartbeatHealth == .ok ? "ok" : "degraded"
                    } else if state.probeHealthy {
                        health = "degraded"
                    }
                } else {
                    health = state.probeHealthy ? "ok" : "degraded"
                }
            }
            var entry: [String: Any] = [
                "name": state.spec.name,
                "pid": state.pid.map { Int($0) } ?? NSNull(),
                "instance": state.instance ?? NSNull(),
                "bus": state.spec.bus ?? NSNull(),
                "admin": state.spec.admin ?? NSNull(),
                "health": health,
                "heartbeatAgeMs": ageMs ?? NSNull(),
                "restarts": state.restarts,
            ]
            if let exit = state.lastExit { entry["lastExit"] = exit }
            return entry
        }
        return ["services": services, "supervisorPid": Int(getpid())]
    }
}
