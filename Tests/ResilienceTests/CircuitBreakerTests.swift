import Schema
import Resilience
import Testing

/// Transitions and edges in the manner of resilience4j's CircuitBreakerStateMachineTest.
struct CircuitBreakerTests {
    let clock = ManualClock()
    let log = TransitionLog()
    var now: Instant { clock.now }

    func makeBreaker(
        window: CircuitBreakerConfiguration.SlidingWindow = .countBased(calls: 4),
        minimumNumberOfCalls: Int = 4,
        failureRateThreshold: Double = 50,
        slowCallRateThreshold: Double = 100,
        slowCallDurationThreshold: Duration = .seconds(1),
        permittedCallsInHalfOpenState: Int = 2,
        waitInOpenState: CircuitBreakerConfiguration.OpenStateWait = .fixed(.seconds(10)),
        isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true },
        isIgnored: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) -> Breaker {
        let configuration = CircuitBreakerConfiguration(
            failureRateThreshold: failureRateThreshold,
            slowCallRateThreshold: slowCallRateThreshold,
            slowCallDurationThreshold: slowCallDurationThreshold,
            slidingWindow: window,
            minimumNumberOfCalls: minimumNumberOfCalls,
            permittedCallsInHalfOpenState: permittedCallsInHalfOpenState,
            waitInOpenState: waitInOpenState,
            isFailure: isFailure,
            isIgnored: isIgnored)
        return Breaker(name: "hyperliquid-exchange", configuration: configuration, onTransition: log.append)
    }

    /// Opens a breaker configured with the defaults above (4 calls, 50 %).
    func trip(_ breaker: Breaker) {
        breaker.fail(4, at: now)
        #expect(breaker.state == .open)
    }

    // MARK: Closed

    @Test func startsClosedAndPermitsCalls() {
        let breaker = makeBreaker()
        #expect(breaker.state == .closed)
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(breaker.snapshot(now: now).notPermittedCalls == 0)
    }

    @Test func doesNotOpenBelowMinimumNumberOfCalls() {
        let breaker = makeBreaker(window: .countBased(calls: 10), minimumNumberOfCalls: 5)
        breaker.fail(4, at: now)
        let snapshot = breaker.snapshot(now: now)
        #expect(breaker.state == .closed)
        #expect(snapshot.failureRate == nil)
        #expect(snapshot.bufferedCalls == 4)
        #expect(snapshot.failedCalls == 4)
        breaker.fail(at: now)
        #expect(breaker.state == .open)
    }

    @Test func opensAtExactlyTheFailureRateThreshold() {
        let breaker = makeBreaker()
        breaker.succeed(2, at: now)
        breaker.fail(1, at: now)
        #expect(breaker.state == .closed)
        breaker.fail(1, at: now)
        #expect(breaker.state == .open)
        #expect(log.all.count == 1)
        let transition = log.all[0]
        #expect(transition.from == .closed && transition.to == .open)
        #expect(transition.reason == .failureRateExceeded)
        #expect(transition.failureRate == 50)
        #expect(transition.slowCallRate == 0)
        #expect(transition.name == "hyperliquid-exchange")
        #expect(transition.at == now)
    }

    @Test func staysClosedJustBelowTheThreshold() {
        let breaker = makeBreaker(window: .countBased(calls: 5), minimumNumberOfCalls: 5)
        breaker.succeed(3, at: now)
        breaker.fail(2, at: now)
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot(now: now).failureRate == 40)
    }

    @Test func countWindowEvictsTheOldestCall() {
        let breaker = makeBreaker()
        breaker.fail(at: now)
        breaker.succeed(3, at: now)
        #expect(breaker.snapshot(now: now).failureRate == 25)
        breaker.succeed(at: now)  // evicts the failure
        #expect(breaker.snapshot(now: now).failureRate == 0)
        #expect(breaker.snapshot(now: now).bufferedCalls == 4)
        breaker.fail(at: now)
        #expect(breaker.state == .closed)
        breaker.fail(at: now)
        #expect(breaker.state == .open)
    }

    @Test func minimumNumberOfCallsIsCappedAtTheCountWindowSize() {
        let breaker = makeBreaker(window: .countBased(calls: 3), minimumNumberOfCalls: 10)
        breaker.fail(3, at: now)
        #expect(breaker.state == .open)
    }

    @Test func slowCallRateOpensTheBreaker() {
        let breaker = makeBreaker(failureRateThreshold: 100, slowCallRateThreshold: 50)
        breaker.succeed(2, taking: .milliseconds(10), at: now)
        breaker.succeed(1, taking: .seconds(2), at: now)
        #expect(breaker.state == .closed)
        breaker.fail(1, taking: .seconds(2), at: now)
        #expect(breaker.state == .open)
        #expect(log.all.map(\.reason) == [.slowCallRateExceeded])
        #expect(log.all.first?.slowCallRate == 50)
        #expect(log.all.first?.failureRate == 25)
    }

    @Test func callTakingExactlyTheSlowThresholdIsNotSlow() {
        let breaker = makeBreaker(slowCallRateThreshold: 50)
        #expect(breaker.onSuccess(duration: .seconds(1), now: now) == .success)
        #expect(breaker.onSuccess(duration: .seconds(1) + .nanoseconds(1), now: now) == .slowSuccess)
        #expect(breaker.onError(duration: .seconds(1), error: Boom(), now: now) == .failure)
        #expect(breaker.onError(duration: .seconds(2), error: Boom(), now: now) == .slowFailure)
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.slowCalls == 2)
        #expect(snapshot.slowFailedCalls == 1)
        #expect(snapshot.failedCalls == 2)
    }

    @Test func bothThresholdsExceededIsReportedAsSuch() {
        let breaker = makeBreaker(slowCallRateThreshold: 50)
        breaker.fail(2, taking: .seconds(5), at: now)
        breaker.succeed(2, at: now)
        #expect(breaker.state == .open)
        #expect(log.all.map(\.reason) == [.failureAndSlowCallRatesExceeded])
    }

    @Test func failurePredicateDecidesWhatCounts() {
        struct Rejected: Error {}
        let breaker = makeBreaker(isFailure: { !($0 is Rejected) })
        #expect(breaker.onError(duration: .zero, error: Rejected(), now: now) == .success)
        #expect(breaker.onError(duration: .zero, error: Boom(), now: now) == .failure)
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.bufferedCalls == 2)
        #expect(snapshot.failedCalls == 1)
    }

    @Test func ignoredErrorsCountNeitherWay() {
        struct InvalidOrder: Error {}
        let breaker = makeBreaker(isIgnored: { $0 is InvalidOrder })
        for _ in 0..<10 {
            #expect(breaker.tryAcquirePermission(now: now))
            #expect(breaker.onError(duration: .zero, error: InvalidOrder(), now: now) == .ignored)
        }
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
        #expect(breaker.state == .closed)
    }

    // MARK: Open

    @Test func openRejectsAndCountsNotPermittedCalls() {
        let breaker = makeBreaker()
        trip(breaker)
        #expect(!breaker.tryAcquirePermission(now: now))
        #expect(!breaker.tryAcquirePermission(now: now))
        #expect(throws: CallNotPermitted(dependency: "hyperliquid-exchange", state: .open)) {
            try breaker.acquirePermission(now: now)
        }
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.notPermittedCalls == 3)
        // The open state keeps the window that tripped it.
        #expect(snapshot.failureRate == 100)
        #expect(snapshot.bufferedCalls == 4)
    }

    @Test func opensToHalfOpenOnlyOnceTheWaitHasStrictlyElapsed() {
        let breaker = makeBreaker()
        trip(breaker)
        clock.advance(by: .seconds(10))
        #expect(!breaker.tryAcquirePermission(now: now))
        #expect(breaker.state == .open)
        clock.advance(by: .nanoseconds(1))
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(breaker.state == .halfOpen)
        #expect(log.pairs == ["closed->open", "open->half_open"])
        #expect(log.all.last?.reason == .waitElapsed)
    }

    @Test func callsFinishingAfterTheBreakerOpenedAreStillRecorded() {
        let breaker = makeBreaker()
        trip(breaker)
        breaker.onError(duration: .zero, error: Boom(), now: now)
        breaker.onSuccess(duration: .zero, now: now)
        #expect(breaker.state == .open)
        #expect(breaker.snapshot(now: now).failureRate == 75)
        #expect(log.all.count == 1)
    }

    // MARK: Half-open

    @Test func halfOpenPermitsExactlyTheConfiguredCalls() {
        let breaker = makeBreaker(permittedCallsInHalfOpenState: 3)
        trip(breaker)
        clock.advance(by: .seconds(11))
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(!breaker.tryAcquirePermission(now: now))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.snapshot(now: now).notPermittedCalls == 1)
    }

    @Test func halfOpenClosesWhenTrialCallsStayUnderThresholds() {
        let breaker = makeBreaker(permittedCallsInHalfOpenState: 3)
        trip(breaker)
        clock.advance(by: .seconds(11))
        breaker.succeed(2, at: now)
        #expect(breaker.state == .halfOpen)
        breaker.fail(at: now)  // 33 % < 50 %
        #expect(breaker.state == .closed)
        #expect(log.pairs == ["closed->open", "open->half_open", "half_open->closed"])
        #expect(log.all.last?.reason == .belowThresholds)
        // A fresh closed window.
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
    }

    @Test func halfOpenReopensAtTheThreshold() {
        let breaker = makeBreaker(permittedCallsInHalfOpenState: 2)
        trip(breaker)
        clock.advance(by: .seconds(11))
        breaker.succeed(at: now)
        breaker.fail(at: now)  // exactly 50 %
        #expect(breaker.state == .open)
        #expect(log.pairs == ["closed->open", "open->half_open", "half_open->open"])
        #expect(log.all.last?.reason == .failureRateExceeded)
        #expect(log.all.last?.failureRate == 50)
    }

    @Test func halfOpenDecidesAfterFewerCallsWhenTheMinimumIsLower() {
        // resilience4j sizes the half-open minimum as min(minimumNumberOfCalls, permitted calls).
        let breaker = makeBreaker(minimumNumberOfCalls: 2, permittedCallsInHalfOpenState: 5)
        breaker.fail(2, at: now)
        #expect(breaker.state == .open)
        clock.advance(by: .seconds(11))
        breaker.succeed(at: now)
        #expect(breaker.state == .halfOpen)
        breaker.succeed(at: now)
        #expect(breaker.state == .closed)
    }

    @Test func releasedPermissionIsGivenBackInHalfOpen() {
        struct InvalidOrder: Error {}
        let breaker = makeBreaker(permittedCallsInHalfOpenState: 1, isIgnored: { $0 is InvalidOrder })
        trip(breaker)
        clock.advance(by: .seconds(11))
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(!breaker.tryAcquirePermission(now: now))
        breaker.onError(duration: .zero, error: InvalidOrder(), now: now)
        #expect(breaker.tryAcquirePermission(now: now))
        breaker.releasePermission()
        #expect(breaker.tryAcquirePermission(now: now))
        #expect(breaker.state == .halfOpen)
    }

    // MARK: Wait in open state

    /// Expects the breaker, opened at the current instant, to reject at exactly `wait` and admit a
    /// trial call one nanosecond later.
    func expectOpen(_ breaker: Breaker, for wait: Duration, sourceLocation: SourceLocation = #_sourceLocation) {
        let openedAt = now
        clock.advance(to: openedAt.advanced(by: wait))
        #expect(!breaker.tryAcquirePermission(now: now), sourceLocation: sourceLocation)
        clock.advance(by: .nanoseconds(1))
        #expect(breaker.tryAcquirePermission(now: now), sourceLocation: sourceLocation)
        #expect(breaker.state == .halfOpen, sourceLocation: sourceLocation)
    }

    @Test func waitInOpenStateGrowsExponentiallyUpToTheMaximum() {
        let breaker = makeBreaker(
            permittedCallsInHalfOpenState: 1,
            waitInOpenState: .exponential(initial: .seconds(10), multiplier: 2, maximum: .seconds(30)))
        trip(breaker)
        expectOpen(breaker, for: .seconds(10))
        breaker.onError(duration: .zero, error: Boom(), now: now)
        expectOpen(breaker, for: .seconds(20))
        breaker.onError(duration: .zero, error: Boom(), now: now)
        expectOpen(breaker, for: .seconds(30))
        breaker.onError(duration: .zero, error: Boom(), now: now)
        expectOpen(breaker, for: .seconds(30))
        // Closing forgets the openings.
        breaker.onSuccess(duration: .zero, now: now)
        #expect(breaker.state == .closed)
        trip(breaker)
        expectOpen(breaker, for: .seconds(10))
    }

    @Test func openStateWaitFormula() {
        let wait = CircuitBreakerConfiguration.OpenStateWait.exponential(
            initial: .milliseconds(500), multiplier: 1.5, maximum: .seconds(2))
        #expect(wait.duration(forOpening: 1) == .milliseconds(500))
        #expect(wait.duration(forOpening: 2) == .milliseconds(750))
        #expect(wait.duration(forOpening: 3) == .milliseconds(1125))
        #expect(wait.duration(forOpening: 4) == .milliseconds(1687.5))
        #expect(wait.duration(forOpening: 5) == .seconds(2))
        #expect(wait.duration(forOpening: 1000) == .seconds(2))
        #expect(CircuitBreakerConfiguration.OpenStateWait.fixed(.seconds(7)).duration(forOpening: 9) == .seconds(7))
    }

    // MARK: Time-based window

    @Test func timeBasedWindowDropsBucketsOlderThanTheWindow() {
        let breaker = makeBreaker(window: .timeBased(seconds: 5), minimumNumberOfCalls: 2, failureRateThreshold: 60)
        breaker.fail(at: now)
        clock.advance(by: .milliseconds(4500))
        breaker.succeed(at: now)
        #expect(breaker.snapshot(now: now).bufferedCalls == 2)
        #expect(breaker.snapshot(now: now).failureRate == 50)
        clock.advance(by: .milliseconds(499))
        #expect(breaker.snapshot(now: now).bufferedCalls == 2)
        clock.advance(by: .milliseconds(1))  // second 5: the bucket of second 0 leaves the window
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.bufferedCalls == 1)
        #expect(snapshot.failedCalls == 0)
        #expect(snapshot.failureRate == nil)
        clock.advance(by: .seconds(60))
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
    }

    @Test func timeBasedWindowOpensOnFailuresWithinTheWindow() {
        // Unlike a count window, the minimum is not capped by the window's size.
        let breaker = makeBreaker(window: .timeBased(seconds: 2), minimumNumberOfCalls: 3)
        breaker.fail(at: now)
        clock.advance(by: .seconds(1))
        breaker.fail(at: now)
        #expect(breaker.state == .closed)
        clock.advance(by: .milliseconds(900))
        breaker.succeed(at: now)
        #expect(breaker.state == .open)
        #expect(log.all.first?.failureRate.map { Int($0) } == 66)
    }

    @Test func timeBasedWindowForgetsFailuresSpreadWiderThanTheWindow() {
        let breaker = makeBreaker(window: .timeBased(seconds: 2), minimumNumberOfCalls: 3)
        for _ in 0..<10 {
            breaker.fail(at: now)
            clock.advance(by: .seconds(2))
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
    }

    // MARK: Operator overrides

    @Test func forcedOpenRejectsEverything() {
        let breaker = makeBreaker()
        breaker.transitionToForcedOpen(now: now)
        for _ in 0..<5 {
            clock.advance(by: .seconds(3600))
            #expect(!breaker.tryAcquirePermission(now: now))
        }
        breaker.onSuccess(duration: .zero, now: now)
        #expect(breaker.state == .forcedOpen)
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.notPermittedCalls == 5)
        #expect(snapshot.bufferedCalls == 0)
        #expect(throws: CallNotPermitted(dependency: "hyperliquid-exchange", state: .forcedOpen)) {
            try breaker.acquirePermission(now: now)
        }
        #expect(log.pairs == ["closed->forced_open"])
        #expect(log.all.first?.reason == .manual)
    }

    @Test func disabledPermitsEverythingAndNeverTransitions() {
        let breaker = makeBreaker()
        breaker.transitionToDisabled(now: now)
        for _ in 0..<100 {
            #expect(breaker.tryAcquirePermission(now: now))
            breaker.onError(duration: .seconds(100), error: Boom(), now: now)
        }
        #expect(breaker.state == .disabled)
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
        #expect(log.pairs == ["closed->disabled"])
    }

    @Test func resetClosesFromAnyStateWithAFreshWindow() {
        let breaker = makeBreaker()
        breaker.transitionToForcedOpen(now: now)
        breaker.reset(now: now)
        #expect(breaker.state == .closed)
        breaker.fail(3, at: now)
        breaker.reset(now: now)
        #expect(breaker.snapshot(now: now).bufferedCalls == 0)
        // Same-state transitions are not reported.
        #expect(log.pairs == ["closed->forced_open", "forced_open->closed"])
    }

    @Test func manualTransitionsReachEveryState() {
        let breaker = makeBreaker()
        breaker.transitionToOpen(now: now)
        breaker.transitionToHalfOpen(now: now)
        breaker.transitionToClosed(now: now)
        #expect(log.pairs == ["closed->open", "open->half_open", "half_open->closed"])
        #expect(log.all.allSatisfy { $0.reason == .manual })
    }

    // MARK: Observer

    @Test func everyTransitionOfAFullCycleIsReportedOnce() {
        let breaker = makeBreaker(permittedCallsInHalfOpenState: 2)
        trip(breaker)
        for _ in 0..<5 { _ = breaker.tryAcquirePermission(now: now) }
        clock.advance(by: .seconds(11))
        for _ in 0..<5 { _ = breaker.tryAcquirePermission(now: now) }
        breaker.onSuccess(duration: .zero, now: now)
        breaker.onSuccess(duration: .zero, now: now)
        breaker.onSuccess(duration: .zero, now: now)
        #expect(log.pairs == ["closed->open", "open->half_open", "half_open->closed"])
        #expect(log.all.map(\.reason) == [.failureRateExceeded, .waitElapsed, .belowThresholds])
    }

    // MARK: Concurrency and configuration

    @Test func manyTasksShareOneBreaker() async {
        let breaker = makeBreaker(window: .countBased(calls: 1000), minimumNumberOfCalls: 1000)
        let start = now
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<2000 {
                group.addTask {
                    guard breaker.tryAcquirePermission(now: start) else { return }
                    if index.isMultiple(of: 4) {
                        breaker.onError(duration: .zero, error: Boom(), now: start)
                    } else {
                        breaker.onSuccess(duration: .zero, now: start)
                    }
                }
            }
        }
        let snapshot = breaker.snapshot(now: now)
        #expect(snapshot.bufferedCalls == 1000)
        #expect(breaker.state == .closed)
    }

    @Test func invalidConfigurationIsReported() {
        let valid = CircuitBreakerConfiguration()
        #expect(valid.problems.isEmpty)
        let invalid = CircuitBreakerConfiguration(
            failureRateThreshold: 0, slidingWindow: .countBased(calls: 0), minimumNumberOfCalls: 0,
            permittedCallsInHalfOpenState: 0,
            waitInOpenState: .exponential(initial: .seconds(2), multiplier: 0.5, maximum: .seconds(1)))
        #expect(invalid.problems.count == 6)
    }
}

extension CircuitBreaker where Instant == ManualClock.Instant {
    /// `count` permitted calls that succeed after `duration`.
    func succeed(_ count: Int = 1, taking duration: Duration = .milliseconds(10), at now: Instant) {
        for _ in 0..<count {
            #expect(tryAcquirePermission(now: now))
            onSuccess(duration: duration, now: now)
        }
    }

    /// `count` permitted calls that fail after `duration`.
    func fail(_ count: Int = 1, taking duration: Duration = .milliseconds(10), at now: Instant) {
        for _ in 0..<count {
            #expect(tryAcquirePermission(now: now))
            onError(duration: duration, error: Boom(), now: now)
        }
    }
}
