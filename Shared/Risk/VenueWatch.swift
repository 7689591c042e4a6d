import Schema

/// Whether the exchange can take orders, as the risk gate learns it from the executor: its
/// breakers (`svc.breaker`, and every heartbeat restates them) and its heartbeats. The venue is
/// available while every executor breaker is closed and the executor was heard from recently.
public struct VenueWatch: Sendable, Equatable {
    public let silenceNanos: Int64
    public private(set) var breakers: [String: BreakerState] = [:]
    public private(set) var lastHeard: EpochNanos?

    public init(silenceNanos: Int64) {
        self.silenceNanos = silenceNanos
    }

    /// A breaker of the executor changed state, or a heartbeat restated it.
    public mutating func breaker(_ dependency: String, _ state: BreakerState, now: EpochNanos) {
        breakers[dependency] = state
        lastHeard = now
    }

    /// A heartbeat from the executor, with its breakers.
    public mutating func heartbeat(_ beat: Heartbeat, now: EpochNanos) {
        for breaker in beat.breakers { breakers[breaker.dependency] = breaker.state }
        lastHeard = now
    }

    /// Nil when available; otherwise why not. Before the executor was ever heard the venue counts as
    /// available: the trading state is SYNCING until its first account snapshot anyway.
    public func unavailability(now: EpochNanos) -> String? {
        let open = breakers.filter { $0.value != .closed && $0.value != .disabled }.sorted { $0.key < $1.key }
        if !open.isEmpty {
            return "executor breaker " + open.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", ")
        }
        if let lastHeard, now - lastHeard > silenceNanos {
            return "executor silent for \((now - lastHeard) / 1_000_000) ms"
        }
        return nil
    }
}
