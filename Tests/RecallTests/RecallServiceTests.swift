import Recall
import Resilience
import Schema
import Testing

/// The fallback logic, driven by a manual clock against the scripted store: no server, no sleeping.
@Suite(.timeLimit(.minutes(1)))
struct RecallServiceTests {
    let clock = ManualClock()
    let store = ScriptedStore()
    let metrics = RecordingMetricsFactory()
    let transitions = TransitionLog()

    /// The default policy: 50 ms deadline, first failure opens, 5 s open (doubling), one trial call.
    func makeService(maxPendingWrites: Int = 10_000) -> RecallService<ManualClock> {
        RecallService(
            store: store, settings: .init(maxPendingWrites: maxPendingWrites), clock: clock, logger: testLogger,
            metricsFactory: metrics, random: SeededRandom(seed: 1), onBreakerTransition: transitions.append)
    }

    /// Ten BTC long set-ups with outcomes (wins near x = 0, losses near x = 1), stored in both places.
    func seed(_ service: RecallService<ManualClock>) async {
        for index in 0..<10 {
            let x = Double(index) / 10
            await service.remember(setupId: "seed\(index)", features: vector(x), context: context("BTC", .long))
            await service.recordOutcome(
                setupId: "seed\(index)", outcome: SetupOutcome(pnlFraction: x < 0.5 ? 0.015 : -0.01, holdingBars: 4))
        }
        await service.flushPendingWrites()
    }

    func recall(_ service: RecallService<ManualClock>, _ x: Double = 0) async -> RecallAnswer {
        await service.recall(features: vector(x), symbol: "BTC", direction: .long, k: 5)
    }

    /// Starts a recall against a hanging store and lets the deadline pass.
    func recallThroughAStall(_ service: RecallService<ManualClock>) async -> RecallAnswer {
        let calls = store.nearestCalls
        let pending = Task { await recall(service) }
        await clock.waitForSleepers(count: 1)  // the deadline timer
        #expect(await eventually { store.nearestCalls == calls + 1 })
        clock.advance(by: .milliseconds(50))
        return await pending.value
    }

    /// Starts a recall against a failing store and moves time through the retry's backoff.
    func recallThroughRetries(_ service: RecallService<ManualClock>) async -> RecallAnswer {
        let calls = store.nearestCalls
        let pending = Task { await recall(service) }
        #expect(
            await eventually {
                if clock.sleeperCount >= 2 { clock.advance(by: .milliseconds(20)) }  // backoff is at most 20 ms
                return store.nearestCalls == calls + 2
            })
        return await pending.value
    }

    @Test func healthyChromaAnswers() async {
        let service = makeService()
        await seed(service)
        #expect(store.stored("seed3")?.outcome == SetupOutcome(pnlFraction: 0.015, holdingBars: 4))
        let answer = await recall(service)
        #expect(answer.source == .chroma)
        #expect(answer.fallbackReason == nil)
        #expect(answer.neighbours.map(\.id) == ["seed0", "seed1", "seed2", "seed3", "seed4"])
        #expect(answer.latency == .zero)
        #expect(answer.confidenceAdjustment > 1)  // five wins
        let status = service.status()
        #expect(status.lastSource == .chroma)
        #expect(status.chromaAnswers == 1 && status.fallbacks == 0)
        #expect(status.pendingWrites == 0 && status.writesStored >= 10)
        #expect(status.localSetups == 10 && status.localSetupsWithOutcome == 10)
        #expect(status.breaker == BreakerStatus(dependency: "chroma", state: .closed))
        #expect(metrics.counter("recall_answers_total", [("source", "chroma")]) == 1)
    }

    @Test func stallCostsOneDeadlineThenTheBreakerAnswersAtOnce() async {
        let service = makeService()
        await seed(service)
        store.setReads(.hang)

        let first = await recallThroughAStall(service)
        #expect(first.source == .local)
        #expect(first.fallbackReason == .timeout)
        #expect(first.latency == .milliseconds(50))
        #expect(first.neighbours.map(\.id) == ["seed0", "seed1", "seed2", "seed3", "seed4"])
        #expect(first.confidenceAdjustment > 1)
        #expect(service.dependency.breaker.state == .open)
        #expect(transitions.pairs == ["closed->open"])
        #expect(await eventually { store.hangingCalls == 0 })  // the stalled call was cancelled

        let callsBefore = store.nearestCalls
        let second = await recall(service, 0.95)
        #expect(second.source == .local)
        #expect(second.fallbackReason == .breakerOpen)
        #expect(second.latency == .zero)  // answered without waiting for anything
        #expect(second.neighbours.first?.id == "seed9")
        #expect(second.confidenceAdjustment < 1)
        #expect(store.nearestCalls == callsBefore)  // the store was not called
        #expect(clock.sleeperCount == 0)  // no deadline timer was even started

        let status = service.status()
        #expect(status.fallbacks == 2 && status.lastSource == .local && status.lastFallbackReason == .breakerOpen)
        #expect(status.breaker.state == .open)
        #expect(metrics.counter("recall_fallbacks_total", [("reason", "timeout")]) == 1)
        #expect(metrics.counter("recall_fallbacks_total", [("reason", "breaker_open")]) == 1)
        #expect(metrics.gauge("resilience_breaker_state", [("dependency", "chroma")]) == 1)
    }

    @Test func halfOpenProbeClosesTheBreakerWhenChromaIsBack() async {
        let service = makeService()
        await seed(service)
        store.setReads(.hang)
        _ = await recallThroughAStall(service)

        store.setReads(.healthy)
        clock.advance(by: .seconds(5))
        #expect(await recall(service).fallbackReason == .breakerOpen)  // the wait must strictly elapse
        clock.advance(by: .nanoseconds(1))
        let answer = await recall(service)
        #expect(answer.source == .chroma)
        #expect(service.dependency.breaker.state == .closed)
        #expect(transitions.pairs == ["closed->open", "open->half_open", "half_open->closed"])
        #expect(service.status().lastSource == .chroma)
    }

    @Test func failedProbeReopensForLonger() async {
        let service = makeService()
        await seed(service)
        store.setReads(.hang)
        _ = await recallThroughAStall(service)
        clock.advance(by: .seconds(5) + .nanoseconds(1))
        let probe = await recallThroughAStall(service)  // the one trial call stalls too
        #expect(probe.fallbackReason == .timeout)
        #expect(transitions.pairs == ["closed->open", "open->half_open", "half_open->open"])

        store.setReads(.healthy)
        clock.advance(by: .seconds(5) + .nanoseconds(1))
        #expect(await recall(service).fallbackReason == .breakerOpen)  // second opening waits 10 s
        clock.advance(by: .seconds(5))
        #expect(await recall(service).source == .chroma)
        #expect(service.dependency.breaker.state == .closed)
    }

    @Test func serverErrorsTripTheBreakerButOurBadRequestsDoNot() async {
        let service = makeService()
        await seed(service)
        store.setReads(
            .fail(.rejectedRequest(status: 400, error: "InvalidArgumentError", message: "Invalid where clause")))
        for _ in 0..<3 {
            let answer = await recall(service)
            #expect(answer.source == .local && answer.fallbackReason == .failure)
        }
        #expect(service.dependency.breaker.state == .closed)  // our bug, not Chroma's health
        #expect(store.nearestCalls == 3)  // and not retried

        store.setReads(.fail(.serverError(status: 500, error: "Internal", message: "boom")))
        let answer = await recallThroughRetries(service)
        #expect(answer.fallbackReason == .failure)
        #expect(store.nearestCalls == 5)  // a 5xx read is retried once within the deadline
        #expect(service.dependency.breaker.state == .open)
        #expect(await recall(service).fallbackReason == .breakerOpen)
    }

    @Test func writesAreQueuedWhileOpenAndFlushedAfterRecovery() async {
        let service = makeService()
        await seed(service)
        let writesBefore = store.writeCalls
        store.setReads(.hang)
        _ = await recallThroughAStall(service)

        await service.remember(setupId: "late", features: vector(0.05), context: context("BTC", .long))
        await service.recordOutcome(setupId: "late", outcome: SetupOutcome(pnlFraction: 0.02, holdingBars: 6))
        await service.flushPendingWrites()
        #expect(service.status().pendingWrites >= 1)
        #expect(store.writeCalls == writesBefore)  // nothing reached the store while open
        #expect(store.stored("late") == nil)
        // The local window has it at once, outcome included.
        let local = await recall(service, 0.05)
        #expect(local.source == .local && local.neighbours.first?.id == "late")

        store.setReads(.healthy)
        clock.advance(by: .seconds(5) + .nanoseconds(1))
        #expect(await recall(service).source == .chroma)  // closes the breaker, which starts the flush
        await service.flushPendingWrites()
        #expect(service.status().pendingWrites == 0)
        #expect(store.stored("late")?.outcome == SetupOutcome(pnlFraction: 0.02, holdingBars: 6))
        #expect(metrics.gauge("recall_pending_writes") == 0)
    }

    @Test func failingWritesStayQueuedAndNeverBlockTheCaller() async {
        let service = makeService()
        store.setWrites(.hang)
        // A write that stalls holds the drain, not the caller: remember returns while it hangs.
        await service.remember(setupId: "a", features: vector(0.1), context: context())
        #expect(await eventually { store.hangingCalls == 1 })
        await service.recordOutcome(setupId: "a", outcome: SetupOutcome(pnlFraction: 0.01, holdingBars: 2))
        await service.remember(setupId: "b", features: vector(0.2), context: context())
        #expect(service.status().pendingWrites == 3)  // the outcome cannot merge into the write in flight

        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(50))
        await service.flushPendingWrites()
        #expect(service.dependency.breaker.state == .open)
        #expect(service.status().pendingWrites == 3)
        #expect(service.status().writesFailed >= 1)

        store.setWrites(.healthy)
        clock.advance(by: .seconds(5) + .nanoseconds(1))
        await service.flushPendingWrites()  // the first write is the half-open probe
        #expect(service.status().pendingWrites == 0)
        #expect(service.dependency.breaker.state == .closed)
        #expect(store.stored("a")?.outcome == SetupOutcome(pnlFraction: 0.01, holdingBars: 2))
        #expect(store.stored("b") != nil)
    }

    @Test func rejectedWritesAreDroppedNotRetried() async {
        let service = makeService()
        store.setWrites(.fail(.rejectedRequest(status: 400, error: "InvalidArgumentError", message: "dimension")))
        await service.remember(setupId: "a", features: vector(0.1), context: context())
        await service.remember(setupId: "b", features: vector(0.2), context: context())
        await service.flushPendingWrites()
        let status = service.status()
        #expect(status.pendingWrites == 0 && status.writesRejected == 2)
        #expect(service.dependency.breaker.state == .closed)
        #expect(metrics.counter("recall_writes_total", [("result", "rejected")]) == 2)
    }

    @Test func writeQueueIsBounded() async {
        let service = makeService(maxPendingWrites: 3)
        service.dependency.forceOpen()
        for index in 0..<5 {
            await service.remember(setupId: "s\(index)", features: vector(Double(index)), context: context())
            await service.flushPendingWrites()  // refused at once: nothing stays in flight
        }
        await service.flushPendingWrites()
        let status = service.status()
        #expect(status.pendingWrites == 3)
        #expect(status.writesDropped == 2)
        #expect(status.localSetups == 5)  // the local window keeps everything
        service.dependency.resetBreaker()
        await service.flushPendingWrites()
        #expect(store.stored("s0") == nil && store.stored("s1") == nil)
        #expect(store.stored("s2") != nil && store.stored("s4") != nil)
    }

    @Test func invalidFeaturesAreAnsweredLocallyWithoutAskingChroma() async {
        let service = makeService()
        let answer = await service.recall(features: [1, 2, 3], symbol: "BTC", direction: .long, k: 5)
        #expect(answer.source == .local && answer.fallbackReason == .invalidFeatures && answer.neighbours.isEmpty)
        #expect(answer.confidenceAdjustment == 1)
        #expect(store.nearestCalls == 0)
        await service.remember(setupId: "bad", features: [1], context: context())
        #expect(service.status().localSetups == 0 && service.status().pendingWrites == 0)
    }

    @Test func transitionsBecomeBusMessages() async throws {
        let service = makeService()
        store.setReads(.fail(.transport("connection refused")))
        _ = await recallThroughRetries(service)
        let transition = try #require(transitions.all.first)
        let message = transition.message(service: "signal-generator")
        #expect(message.dependency == "chroma" && message.from == .closed && message.to == .open)
        #expect(message.reason == "failure_rate_exceeded" && message.failureRate == 100 && message.slowCallRate == 0)
        #expect(message.topic == "svc.breaker.signal-generator")
    }
}
