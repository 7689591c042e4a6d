public enum BreakerState: String, Codable, Sendable, Hashable, CaseIterable {
    case closed, open, halfOpen = "half_open", forcedOpen = "forced_open", disabled
}

public struct BreakerStatus: Codable, Sendable, Equatable {
    public var dependency: String
    public var state: BreakerState
    public init(dependency: String, state: BreakerState) {
        self.dependency = dependency
        self.state = state
    }
}

public enum ServiceHealth: String, Codable, Sendable, Hashable {
    case starting, ok, degraded, stopping
}

/// 1 Hz proof of life, with the state of every breaker.
public struct Heartbeat: BusMessage {
    public static let messageType = MessageType.heartbeat
    public var service: String
    public var health: ServiceHealth
    public var uptimeMs: Int64
    public var breakers: [BreakerStatus]
    /// Short facts an operator wants at a glance ("mode": "paper", "state": "active").
    public var facts: [String: String]
    public var topic: String { Topic.join("svc", "hb", service) }

    public init(
        service: String, health: ServiceHealth, uptimeMs: Int64, breakers: [BreakerStatus], facts: [String: String]
    ) {
        self.service = service
        self.health = health
        self.uptimeMs = uptimeMs
        self.breakers = breakers
        self.facts = facts
    }
}

/// A circuit breaker changed state.
public struct BreakerTransition: BusMessage {
    public static let messageType = MessageType.breakerTransition
    public var service: String
    public var dependency: String
    public var from: BreakerState
    public var to: BreakerState
    public var reason: String
    /// Percent of recorded calls that failed; nil while too few calls were recorded.
    public var failureRate: Double?
    /// Percent of recorded calls slower than the slow-call threshold; nil like `failureRate`.
    public var slowCallRate: Double?
    public var topic: String { Topic.join("svc", "breaker", service) }

    public init(
        service: String, dependency: String, from: BreakerState, to: BreakerState, reason: String,
        failureRate: Double?, slowCallRate: Double?
    ) {
        self.service = service
        self.dependency = dependency
        self.from = from
        self.to = to
        self.reason = reason
        self.failureRate = failureRate
        self.slowCallRate = slowCallRate
    }
}

/// Something an operator must look at.
public struct Alert: BusMessage {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }
    public static let messageType = MessageType.alert
    public var severity: Severity
    public var code: String
    public var message: String
    public var service: String
    public var symbol: String?
    public var topic: String { Topic.join("alert", code) }

    public init(severity: Severity, code: String, message: String, service: String, symbol: String? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.service = service
        self.symbol = symbol
    }
}
