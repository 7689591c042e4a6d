import ArgumentParser
import Bus
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import Prometheus
import Schema
import ServiceLifecycle
import Synchronization

/// The command line every service shares.
public struct ServiceOptions: ParsableArguments {
    @Option(help: "The JSON config file; BREAKWATER_… environment variables override it.")
    public var config: String?

    @Flag(help: "Validate the config, print every problem, and exit (non-zero if any).")
    public var checkConfig = false

    public init() {}
}

/// Everything a service shell needs, built once in `main`.
public final class ServiceRuntime: Sendable {
    public let name: ServiceName
    public let topology: Topology
    public let identity: PublisherIdentity
    public let logger: Logger
    public let clock: WallClock
    public let context: BusContext
    public let publisher: Publisher
    public let status: ServiceStatus
    public let registry: PrometheusCollectorRegistry
    public let metrics: PrometheusMetricsFactory
    public let subscriberCounters: BusCounters
    /// CURVE keys and rules for every socket; nil on a plain-text bus (paper mode only).
    public let security: BusSecurity?
    /// Every subscriber, and whether graceful shutdown has ended them.
    private let subscribers = Mutex((all: [Subscriber](), ended: false))
    /// Services this one subscribes to; it is degraded while it does not hear one of them.
    private let upstreams = Mutex<Set<String>>([])
    private let publishFailures: CoreMetrics.Counter

    init(
        name: ServiceName, topology: Topology, authentication: BusAuthentication, logger: Logger, clock: WallClock,
        instance: String, registry: PrometheusCollectorRegistry
    ) throws {
        self.name = name
        self.topology = topology
        self.logger = logger
        self.clock = clock
        self.registry = registry
        self.metrics = PrometheusMetricsFactory(registry: registry)
        self.identity = PublisherIdentity(service: name.rawValue, instance: instance)
        self.context = BusContext()
        self.status = ServiceStatus(service: name.rawValue, instance: instance, startedAt: clock.now())
        self.subscriberCounters = BusCounters(factory: metrics, role: "sub")
        self.publishFailures = CoreMetrics.Counter(label: "breakwater_publish_failures_total", factory: metrics)
        // Refusals are alerted at most once a minute per reason: a rogue peer retries ten times a second.
        let alerts = RejectionAlerts(service: name.rawValue, clock: clock)
        let rejections = BusRejections(factory: metrics, logger: logger) { alerts.raise($0) }
        self.security = authentication.security(rejections: rejections)
        self.publisher = try Publisher(
            context: context, endpoint: topology.bind(name), identity: identity, security: security,
            counters: BusCounters(factory: metrics, role: "pub"), clock: clock.now, logger: logger)
        let publisher = self.publisher
        alerts.setPublish { [weak publisher] alert in
            var generator = SystemRandomNumberGenerator()
            _ = try? publisher?.publish(alert, traceId: Identifier.timeOrdered(at: clock.now(), using: &generator))
        }
        let subscriberCounters = self.subscriberCounters
        let secure = security != nil
        status.addDetail("bus") {
            [
                "endpoint": publisher.endpoint,
                "curve": secure,
                "published": Self.countersDocument(publisher.counters.snapshot),
                "subscribed": Self.countersDocument(subscriberCounters.snapshot),
                "rejected": rejections.snapshot,
            ]
        }
        if let warning = authentication.warning { logger.warning("\(warning)") }
    }

    /// Where the publishers of `services` are, and whose keys to pin.
    public func peers(_ services: [ServiceName]) -> [BusPeer] { BusAuthentication.peers(services, in: topology) }

    static func countersDocument(_ snapshot: BusCounters.Snapshot) -> [String: UInt64] {
        [
            "sent": snapshot.sent, "received": snapshot.received, "dropped": snapshot.dropped,
            "gaps": snapshot.gaps, "missing": snapshot.missing, "restarts": snapshot.restarts,
            "decodeErrors": snapshot.decodeErrors, "unknownVersion": snapshot.unknownVersion,
            "duplicates": snapshot.duplicates,
        ]
    }

    /// Subscribes to the publishers of `services`, keeping `topics` (prefixes). Unless
    /// `readiness` is false, the service is degraded while it does not hear one of them.
    public func subscribe(
        to services: [ServiceName], topics: [String] = [""], readiness: Bool = true
    ) throws -> AsyncStream<BusEvent> {
        let (subscriber, stream) = try Subscriber.stream(
            context: context, peers: peers(services), security: security, topics: topics,
            counters: subscriberCounters, logger: logger)
        keep(subscriber, upstreams: services, readiness: readiness)
        return stream
    }

    /// The callback form of `subscribe(to:topics:readiness:)`: `handler` runs on the subscriber's socket
    /// thread, one event at a time, with no hop into the cooperative pool (one thread wake-up less per
    /// message). It may block — on a disk write, say — but never await; events wait in libzmq meanwhile.
    /// The subscription ends at graceful shutdown.
    public func subscribe(
        to services: [ServiceName], topics: [String] = [""], readiness: Bool = true,
        handler: @escaping @Sendable (BusEvent) -> Void
    ) throws -> Subscriber {
        let subscriber = try Subscriber(
            context: context, peers: peers(services), security: security, topics: topics,
            counters: subscriberCounters, logger: logger, handler: handler)
        keep(subscriber, upstreams: services, readiness: readiness)
        return subscriber
    }

    /// Registers a subscriber (one made after graceful shutdown began is ended at once) and, unless
    /// `readiness` is false, its publishers as upstreams the service must hear.
    private func keep(_ subscriber: Subscriber, upstreams services: [ServiceName], readiness: Bool) {
        let ended = subscribers.withLock { subscribers in
            subscribers.all.append(subscriber)
            return subscribers.ended
        }
        if ended { subscriber.close() }
        if readiness { upstreams.withLock { $0.formUnion(services.map(\.rawValue)) } }
    }

    /// Ends every subscription's stream, so that a service's `for await` over its bus events ends at
    /// graceful shutdown. Services iterate their streams directly rather than through
    /// `cancelOnGracefulShutdown()`, whose merge moves every message through one more task (one more
    /// thread wake-up on the order path).
    func endSubscriptions() {
        let all = subscribers.withLock { subscribers in
            subscribers.ended = true
            return subscribers.all
        }
        for subscriber in all { subscriber.close() }
    }

    /// Upstreams heard recently (every service heartbeats once a second), and the silent ones.
    func checkUpstreams(window: Duration = .seconds(3)) {
        let wanted = upstreams.withLock { $0 }
        guard !wanted.isEmpty else { return }
        var heard = Set<String>()
        for subscriber in subscribers.withLock({ $0.all }) { heard.formUnion(subscriber.heard.recent(within: window)) }
        let silent = wanted.subtracting(heard).sorted()
        status.setFact("hears", heard.intersection(wanted).sorted().joined(separator: ","))
        status.setDegraded("upstream", silent.isEmpty ? nil : "not hearing \(silent.joined(separator: ", "))")
    }

    /// Publishes, and on failure logs and counts instead of throwing: the caller has
    /// already done what must not be lost (the ledger, the trace).
    @discardableResult
    public func publish<M: BusMessage>(_ message: M, traceId: String) -> EnvelopeHeader? {
        do {
            return try publisher.publish(message, traceId: traceId)
        } catch {
            publishFailures.increment()
            logger.error(
                "publish failed", metadata: ["type": "\(M.messageType.rawValue)", "error": "\(error)"])
            return nil
        }
    }

    /// A fresh id (trace, intent), ordered by its time for the trace database's index.
    public func newIdentifier() -> String {
        var generator = SystemRandomNumberGenerator()
        return Identifier.timeOrdered(at: clock.now(), using: &generator)
    }

    func shutdown() {
        status.setStopping()
        for subscriber in subscribers.withLock({ $0.all }) { subscriber.close() }
        publisher.close()
        context.terminate()
    }
}

/// The bootstrap every service's `main.swift` calls: parse, validate, build, run until SIGTERM.
public enum ServiceMain {
    public static func run<Config: Sendable>(
        _ name: ServiceName,
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        readConfig: (inout Settings) -> Config,
        body: @escaping @Sendable (ServiceRuntime, Config) async throws -> Void
    ) async -> Never {
        await run(
            name, arguments: arguments, readConfig: readConfig,
            prepare: { runtime, config in Prepared(runtime: runtime, config: config) },
            body: { prepared in try await body(prepared.runtime, prepared.config) })
    }

    /// A struct, not a tuple: generic tuple metadata crashed the release build's runtime.
    struct Prepared<Config: Sendable>: Sendable {
        let runtime: ServiceRuntime
        let config: Config
    }

    /// For services with operator routes: `prepare` builds the state that both the routes
    /// and the main loop use, before the admin port opens.
    public static func run<Config: Sendable, State: Sendable>(
        _ name: ServiceName,
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        readConfig: (inout Settings) -> Config,
        prepare: (ServiceRuntime, Config) async throws -> State,
        routes: (State) -> AdminServer.Routes = { _ in { _ in } },
        body: @escaping @Sendable (State) async throws -> Void
    ) async -> Never {
        let options: ServiceOptions
        do {
            options = try ServiceOptions.parse(arguments)
        } catch {
            ServiceOptions.exit(withError: error)
        }
        var settings = await Settings.load(file: options.config)
        let logLevel = settings.oneOf(
            "logLevel", default: "info", allowed: Logger.Level.allCases.map(\.rawValue))
        let topology = Topology.read(&settings)
        let authentication = BusKeys.read(&settings, principal: name.rawValue)
        let config = readConfig(&settings)
        if !settings.problems.isEmpty {
            for problem in settings.problems {
                FileHandle.standardError.write(Data("config problem: \(problem)\n".utf8))
            }
            FileHandle.standardError.write(
                Data("\(name.rawValue): \(settings.problems.count) config problem(s) in \(settings.sourceDescription)\n".utf8))
            exit(2)
        }
        if options.checkConfig {
            print("\(name.rawValue): config OK (\(settings.sourceDescription))")
            exit(0)
        }

        let clock = WallClock.system
        let level = Logger.Level(rawValue: logLevel) ?? .info
        var generator = SystemRandomNumberGenerator()
        let instance = Identifier.random(using: &generator)
        var logger = Logger(label: name.rawValue) { label in JSONLogHandler(label: label, level: level, clock: clock) }
        logger[metadataKey: "instance"] = "\(instance.prefix(8))"

        let runtime: ServiceRuntime
        do {
            runtime = try ServiceRuntime(
                name: name, topology: topology, authentication: authentication, logger: logger, clock: clock,
                instance: instance,
                registry: PrometheusCollectorRegistry())
        } catch {
            logger.critical("cannot start: \(error)")
            FileHandle.standardError.write(Data("\(name.rawValue): cannot start: \(error)\n".utf8))
            exit(1)
        }
        logger.notice(
            "starting", metadata: ["bus": "\(topology.bus(name))", "admin": "\(topology.admin(name))"])
        let state: State
        do {
            state = try await prepare(runtime, config)
        } catch {
            logger.critical("cannot start: \(error)")
            FileHandle.standardError.write(Data("\(name.rawValue): cannot start: \(error)\n".utf8))
            runtime.shutdown()
            exit(1)
        }

        let admin = AdminServer.make(
            address: topology.admin(name), status: runtime.status, registry: runtime.registry, clock: clock,
            logger: logger, routes: routes(state))
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: admin),
                    .init(service: HeartbeatService(runtime: runtime)),
                    .init(
                        // Graceful shutdown ends the bus streams, and with them the body's event loop.
                        service: ServiceBody {
                            try await withGracefulShutdownHandler {
                                try await body(state)
                            } onGracefulShutdown: {
                                runtime.endSubscriptions()
                            }
                        },
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        var exitCode: Int32 = 0
        do {
            try await group.run()
        } catch {
            logger.critical("stopped on error: \(error)")
            exitCode = 1
        }
        runtime.shutdown()
        logger.notice("stopped")
        exit(exitCode)
    }
}

/// Adapts a service's main loop to the service group.
struct ServiceBody: Service {
    let run: @Sendable () async throws -> Void
    init(_ run: @escaping @Sendable () async throws -> Void) { self.run = run }
    func run() async throws { try await run() }
}

/// `svc.hb` once a second, with health, breakers and facts. Also stops the service when
/// the supervisor that started it is gone, so that no orphan keeps a port bound.
struct HeartbeatService: Service {
    let runtime: ServiceRuntime
    let supervisor = ProcessInfo.processInfo.environment["BREAKWATER_SUPERVISOR_PID"].flatMap { Int32($0) }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let supervisor, getppid() != supervisor {
                runtime.logger.warning("supervisor \(supervisor) is gone; stopping")
                kill(getpid(), SIGTERM)
            }
            runtime.checkUpstreams()
            runtime.publish(runtime.status.heartbeat(now: runtime.clock.now()), traceId: runtime.newIdentifier())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }
}

/// Turns bus refusals into `alert.bus_rejected`, at most one per reason a minute.
final class RejectionAlerts: @unchecked Sendable {
    let service: String
    let clock: WallClock
    private let lock = NSLock()
    // Guarded by `lock`.
    private var throttle = RejectionThrottle(interval: 60_000_000_000)
    // Guarded by `lock`; set once the publisher exists.
    private var publish: (@Sendable (Alert) -> Void)?

    init(service: String, clock: WallClock) {
        self.service = service
        self.clock = clock
    }

    func setPublish(_ publish: @escaping @Sendable (Alert) -> Void) { lock.withLock { self.publish = publish } }

    func raise(_ rejection: BusRejections.Rejection) {
        let due = lock.withLock { throttle.shouldAlert(rejection.reason, now: clock.now()) }
        guard due, let publish = lock.withLock({ publish }) else { return }
        publish(
            Alert(
                // A forged envelope is an attack; a failed handshake may be a peer restarting mid-handshake.
                severity: [.handshakeFailed, .unknownKey].contains(rejection.reason) ? .warning : .critical,
                code: "bus_rejected",
                message: "the bus refused \(rejection.reason.rawValue): \(rejection.detail) "
                    + "(breakwater_bus_rejected_total counts every one)",
                service: service))
    }
}
