import Schema
import CoreMetrics

/// A dependency's resilience metrics, created on an injected factory rather than the global one so that
/// each service (and each test) decides where they go. Every metric carries `dependency=<name>`.
public final class DependencyMetrics: Sendable {
    public enum Label {
        /// Gauge: 0 closed, 1 open, 2 half-open, 3 forced-open, 4 disabled (`BreakerState.gaugeValue`).
        public static let breakerState = "resilience_breaker_state"
        /// Counter with dimension `outcome` = success | failure | slow_success | slow_failure | ignored.
        public static let calls = "resilience_calls_total"
        public static let notPermittedCalls = "resilience_calls_not_permitted_total"
        /// Gauges in percent; -1 while the window holds fewer than the minimum number of calls (as resilience4j).
        public static let failureRate = "resilience_breaker_failure_rate"
        public static let slowCallRate = "resilience_breaker_slow_call_rate"
    }

    public let dependency: String
    private let breakerState: Gauge
    private let calls: [CallOutcome: Counter]
    private let notPermitted: Counter
    private let failureRate: Gauge
    private let slowCallRate: Gauge

    public init(dependency: String, factory: any MetricsFactory) {
        self.dependency = dependency
        let dimensions = [("dependency", dependency)]
        breakerState = Gauge(label: Label.breakerState, dimensions: dimensions, factory: factory)
        // One counter per outcome up front, so every series exists from zero.
        calls = Dictionary(
            uniqueKeysWithValues: CallOutcome.allCases.map { outcome in
                (outcome, Counter(label: Label.calls, dimensions: dimensions + [("outcome", outcome.rawValue)], factory: factory))
            })
        notPermitted = Counter(label: Label.notPermittedCalls, dimensions: dimensions, factory: factory)
        failureRate = Gauge(label: Label.failureRate, dimensions: dimensions, factory: factory)
        slowCallRate = Gauge(label: Label.slowCallRate, dimensions: dimensions, factory: factory)
    }

    public func record(_ outcome: CallOutcome) {
        calls[outcome]?.increment()
    }

    public func recordNotPermitted() {
        notPermitted.increment()
    }

    public func record(state: BreakerState) {
        breakerState.record(state.gaugeValue)
    }

    /// Publishes the rates of a breaker snapshot. The state gauge is fed by transitions instead, which
    /// arrive in order, whereas a snapshot taken by one call may be published after another call's transition.
    public func record(_ snapshot: BreakerSnapshot) {
        failureRate.record(snapshot.failureRate ?? -1)
        slowCallRate.record(snapshot.slowCallRate ?? -1)
    }
}
