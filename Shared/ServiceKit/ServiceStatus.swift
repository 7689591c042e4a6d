import Foundation
import Schema
import Synchronization

/// What a service says about itself: on `/health/ready`, `/status` and in its heartbeat.
public final class ServiceStatus: Sendable {
    struct State {
        var ready = false
        var stopping = false
        /// Why the service is degraded, by condition; empty when healthy.
        var degraded: [String: String] = [:]
        var facts: [String: String] = [:]
        var breakers: [String: BreakerState] = [:]
    }

    public let service: String
    public let instance: String
    public let startedAt: EpochNanos
    private let state = Mutex(State())
    private let details = Mutex<[String: @Sendable () -> Any]>([:])

    public init(service: String, instance: String, startedAt: EpochNanos) {
        self.service = service
        self.instance = instance
        self.startedAt = startedAt
    }

    public func setReady(_ ready: Bool = true) { state.withLock { $0.ready = ready } }
    public func setStopping() { state.withLock { $0.stopping = true } }

    /// Marks one condition degraded (with the reason) or clears it (nil).
    public func setDegraded(_ condition: String, _ reason: String?) {
        state.withLock { $0.degraded[condition] = reason }
    }

    public func setFact(_ key: String, _ value: String) { state.withLock { $0.facts[key] = value } }

    public func setBreaker(_ dependency: String, _ breaker: BreakerState) {
        state.withLock { $0.breakers[dependency] = breaker }
    }

    /// A named section of `/status`, computed when asked (must return JSON-serialisable values).
    public func addDetail(_ name: String, _ provider: @escaping @Sendable () -> Any) {
        details.withLock { $0[name] = provider }
    }

    public var health: ServiceHealth {
        state.withLock { state in
            if state.stopping { return .stopping }
            if !state.ready { return .starting }
            return state.degraded.isEmpty ? .ok : .degraded
        }
    }

    public var isReady: Bool { state.withLock { $0.ready && !$0.stopping } }
    public var degradedReasons: [String: String] { state.withLock { $0.degraded } }

    public func heartbeat(now: EpochNanos) -> Heartbeat {
        let snapshot = state.withLock { $0 }
        return Heartbeat(
            service: service, health: health, uptimeMs: (now - startedAt) / 1_000_000,
            breakers: snapshot.breakers.sorted { $0.key < $1.key }.map {
                BreakerStatus(dependency: $0.key, state: $0.value)
            },
            facts: snapshot.degraded.isEmpty
                ? snapshot.facts
                : snapshot.facts.merging(["degraded": snapshot.degraded.keys.sorted().joined(separator: ",")]) { $1 })
    }

    public func statusDocument(now: EpochNanos) -> [String: Any] {
        let snapshot = state.withLock { $0 }
        var document: [String: Any] = [
            "service": service,
            "instance": instance,
            "health": health.rawValue,
            "uptimeMs": (now - startedAt) / 1_000_000,
            "degraded": snapshot.degraded,
            "facts": snapshot.facts,
            "breakers": snapshot.breakers.mapValues(\.rawValue),
        ]
        for (name, provider) in details.withLock({ $0 }) {
            document[name] = provider()
        }
        return document
    }
}
