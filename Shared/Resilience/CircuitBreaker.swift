import Schema
import Synchronization

// The breaker's states are the bus's `BreakerState` (Schema): one enum from the breaker to
// the heartbeat. `forcedOpen` and `disabled` are operator overrides.
extension BreakerState {
    /// What the state gauge reports.
    public var gaugeValue: Int {
        switch self {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        case .forcedOpen: 3
        case .disabled: 4
        }
    }
}

/// Why a breaker changed state.
public enum TransitionReason: String, Sendable, Codable {
    case failureRateExceeded = "failure_rate_exceeded"
    case slowCallRateExceeded = "slow_call_rate_exceeded"
    case failureAndSlowCallRatesExceeded = "failure_and_slow_call_rates_exceeded"
    /// Open → half-open after the wait in open state.
    case waitElapsed = "wait_elapsed"
    /// Half-open → closed: the trial calls stayed under both thresholds.
    case belowThresholds = "below_thresholds"
    /// An operator (or code acting for one) forced the transition.
    case manual
}

/// How one finished call was classified; the metrics' `outcome` dimension uses the raw values.
public enum CallOutcome: String, Sendable, Codable, CaseIterable {
    case success
    case failure
    case slowSuccess = "slow_success"
    case slowFailure = "slow_failure"
    /// Counted neither way, e.g. an ignored error or a call the caller cancelled.
    case ignored
}

/// A state change, reported to the breaker's observer so a service can publish it.
public struct BreakerTransition<Instant: InstantProtocol>: Sendable, Equatable {
    public let name: String
    public let from: BreakerState
    public let to: BreakerState
    public let reason: TransitionReason
    public let at: Instant
    /// Rates in percent of the window that was current when the transition happened;
    /// nil while it held fewer than the minimum number of calls.
    public let failureRate: Double?
    public let slowCallRate: Double?
}

/// The breaker's figures for `/status` and heartbeats. Counts are those of the current state's window,
/// as in resilience4j: an open breaker still shows the window that tripped it.
public struct BreakerSnapshot: Sendable, Equatable, Codable {
    public let state: BreakerState
    /// Percent, nil while fewer than the minimum number of calls were recorded.
    public let failureRate: Double?
    public let slowCallRate: Double?
    public let bufferedCalls: Int
    public let failedCalls: Int
    public let slowCalls: Int
    public let slowFailedCalls: Int
    public let notPermittedCalls: Int
}

/// Thrown instead of calling a dependency whose breaker does not permit the call.
public struct CallNotPermitted: Error, Sendable, Equatable, CustomStringConvertible {
    public let dependency: String
    public let state: BreakerState

    public init(dependency: String, state: BreakerState) {
        self.dependency = dependency
        self.state = state
    }

    public var description: String { "call to \(dependency) not permitted: circuit breaker is \(state.rawValue)" }
}

/// A circuit breaker with resilience4j's CircuitBreakerStateMachine semantics, driven by instants the
/// caller passes in so that it is synchronous and deterministic.
///
/// Usage per call: `tryAcquirePermission(now:)`; if permitted, run the call and report it with
/// `onSuccess`, `onError` or `onTimeout` (or `releasePermission()` if it never ran).
/// Open → half-open happens lazily, on the first permission request after the wait.
public final class CircuitBreaker<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias Observer = @Sendable (BreakerTransition<Instant>) -> Void

    public let name: String
    public let configuration: CircuitBreakerConfiguration
    private let observer: Observer
    private let machine: Mutex<Machine>

    private struct Machine: Sendable {
        var state: BreakerState = .closed
        /// Successive openings since the breaker last closed; drives the exponential wait.
        var attempts = 0
        var openUntil: Instant?
        var halfOpenPermits = 0
        var window: BreakerWindow<Instant>
    }

    /// - Parameter onTransition: called once per state change, while the breaker's lock is held so that
    ///   transitions arrive in order; it must be quick and must not call back into this breaker.
    public init(
        name: String,
        configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        onTransition: @escaping Observer = { _ in }
    ) {
        configuration.validate()
        self.name = name
        self.configuration = configuration
        observer = onTransition
        machine = Mutex(Machine(window: .closed(configuration)))
    }

    public var state: BreakerState { machine.withLock { $0.state } }

    public func snapshot(now: Instant) -> BreakerSnapshot {
        machine.withLock { machine in
            let tally = machine.window.tally(now: now)
            let rates = machine.window.rates(of: tally)
            return BreakerSnapshot(
                state: machine.state,
                failureRate: rates?.failure,
                slowCallRate: rates?.slow,
                bufferedCalls: tally.calls,
                failedCalls: tally.failed,
                slowCalls: tally.slow,
                slowFailedCalls: tally.slowFailed,
                notPermittedCalls: machine.window.notPermittedCalls)
        }
    }

    // MARK: Calls

    /// Whether a call may go ahead. A refused call is counted as not permitted.
    public func tryAcquirePermission(now: Instant) -> Bool {
        refusal(now: now) == nil
    }

    /// Throwing form of `tryAcquirePermission(now:)`.
    public func acquirePermission(now: Instant) throws(CallNotPermitted) {
        if let state = refusal(now: now) { throw CallNotPermitted(dependency: name, state: state) }
    }

    /// nil when the call is permitted, otherwise the state that refused it.
    private func refusal(now: Instant) -> BreakerState? {
        machine.withLock { machine in
            if machine.state == .open, let openUntil = machine.openUntil, now > openUntil {
                // resilience4j's `isAfter`: the wait must have strictly elapsed.
                move(&machine, to: .halfOpen, reason: .waitElapsed, now: now)
            }
            switch machine.state {
            case .closed, .disabled:
                return nil
            case .halfOpen where machine.halfOpenPermits > 0:
                machine.halfOpenPermits -= 1
                return nil
            case .open, .halfOpen, .forcedOpen:
                machine.window.notPermittedCalls += 1
                return machine.state
            }
        }
    }

    /// Gives back a permission whose call never ran (or whose outcome is ignored).
    public func releasePermission() {
        machine.withLock { machine in
            if machine.state == .halfOpen { machine.halfOpenPermits += 1 }
        }
    }

    @discardableResult
    public func onSuccess(duration: Duration, now: Instant) -> CallOutcome {
        let slow = isSlow(duration)
        record(RecordedCall(isFailure: false, isSlow: slow), now: now)
        return slow ? .slowSuccess : .success
    }

    /// Classifies `error` with the configuration's predicates: ignored errors release the permission and
    /// count neither way; errors that are not failures count as successes (resilience4j's semantics).
    @discardableResult
    public func onError(duration: Duration, error: any Error, now: Instant) -> CallOutcome {
        if configuration.isIgnored(error) {
            releasePermission()
            return .ignored
        }
        guard configuration.isFailure(error) else { return onSuccess(duration: duration, now: now) }
        let slow = isSlow(duration)
        record(RecordedCall(isFailure: true, isSlow: slow), now: now)
        return slow ? .slowFailure : .failure
    }

    /// A call that overran its deadline: always a failure and always slow, whatever its duration.
    @discardableResult
    public func onTimeout(duration: Duration, now: Instant) -> CallOutcome {
        record(RecordedCall(isFailure: true, isSlow: true), now: now)
        return .slowFailure
    }

    private func isSlow(_ duration: Duration) -> Bool { duration > configuration.slowCallDurationThreshold }

    private func record(_ call: RecordedCall, now: Instant) {
        machine.withLock { machine in
            switch machine.state {
            case .disabled, .forcedOpen:
                return
            case .open:
                // A call permitted before the breaker opened still belongs to the window.
                _ = machine.window.record(call, now: now)
            case .closed:
                let tally = machine.window.record(call, now: now)
                if let rates = machine.window.rates(of: tally), let reason = exceeded(rates) {
                    move(&machine, to: .open, reason: reason, now: now)
                }
            case .halfOpen:
                let tally = machine.window.record(call, now: now)
                guard let rates = machine.window.rates(of: tally) else { return }
                if let reason = exceeded(rates) {
                    move(&machine, to: .open, reason: reason, now: now)
                } else {
                    move(&machine, to: .closed, reason: .belowThresholds, now: now)
                }
            }
        }
    }

    private func exceeded(_ rates: (failure: Double, slow: Double)) -> TransitionReason? {
        let failing = rates.failure >= configuration.failureRateThreshold
        let slow = rates.slow >= configuration.slowCallRateThreshold
        switch (failing, slow) {
        case (true, true): return .failureAndSlowCallRatesExceeded
        case (true, false): return .failureRateExceeded
        case (false, true): return .slowCallRateExceeded
        case (false, false): return nil
        }
    }

    // MARK: Operator overrides

    /// Rejects every call until another transition; for an operator taking a dependency out of service.
    public func transitionToForcedOpen(now: Instant) { transition(to: .forcedOpen, now: now) }
    /// Permits every call, records nothing and never transitions on its own.
    public func transitionToDisabled(now: Instant) { transition(to: .disabled, now: now) }
    public func transitionToClosed(now: Instant) { transition(to: .closed, now: now) }
    public func transitionToOpen(now: Instant) { transition(to: .open, now: now) }
    public func transitionToHalfOpen(now: Instant) { transition(to: .halfOpen, now: now) }

    /// Back to a fresh closed state with no history of openings.
    public func reset(now: Instant) { transition(to: .closed, now: now) }

    private func transition(to target: BreakerState, now: Instant) {
        machine.withLock { machine in move(&machine, to: target, reason: .manual, now: now) }
    }

    /// Enters `target` with resilience4j's bookkeeping: open keeps the window that tripped it and counts
    /// one more opening; half-open and closed start fresh windows; closing forgets past openings.
    private func move(_ machine: inout Machine, to target: BreakerState, reason: TransitionReason, now: Instant) {
        let from = machine.state
        let rates = machine.window.rates(of: machine.window.tally(now: now))
        machine.openUntil = nil
        switch target {
        case .closed:
            machine.attempts = 0
            machine.window = .closed(configuration)
        case .open:
            machine.attempts += 1
            machine.openUntil = now.advanced(by: configuration.waitInOpenState.duration(forOpening: machine.attempts))
        case .halfOpen:
            machine.halfOpenPermits = configuration.permittedCallsInHalfOpenState
            machine.window = .halfOpen(configuration)
        case .forcedOpen:
            machine.attempts += 1
            machine.window = .empty
        case .disabled:
            machine.attempts = 0
            machine.window = .empty
        }
        machine.state = target
        guard from != target else { return }
        observer(
            BreakerTransition(
                name: name, from: from, to: target, reason: reason, at: now,
                failureRate: rates?.failure, slowCallRate: rates?.slow))
    }
}
