import CoreMetrics
import Logging
import Resilience
import Schema
import Synchronization

/// Which recall answered.
public enum RecallSource: String, Sendable, Codable, Equatable {
    case chroma
    case local
}

/// Why the local fallback answered instead of Chroma.
public enum FallbackReason: String, Sendable, Codable, Equatable, CaseIterable {
    /// The breaker refused the call: answered at once, the store was not called.
    case breakerOpen = "breaker_open"
    /// Chroma did not answer within the deadline.
    case timeout
    /// Chroma answered with an error (or could not be reached).
    case failure
    /// The caller's task was cancelled.
    case cancelled
    /// The query vector has the wrong length or a non-finite number; nothing was asked.
    case invalidFeatures = "invalid_features"
}

/// What the signal generator gets back from `RecallService.recall`.
public struct RecallAnswer: Sendable, Equatable {
    public var source: RecallSource
    /// Nearest first.
    public var neighbours: [RecalledSetup]
    /// Time spent in `recall`, measured with the service's clock.
    public var latency: Duration
    /// Multiplier for the signal's confidence, see `ConfidenceAdjustment` (1 with too few neighbours).
    public var confidenceAdjustment: Double
    /// nil when Chroma answered.
    public var fallbackReason: FallbackReason?

    public init(
        source: RecallSource, neighbours: [RecalledSetup], latency: Duration, confidenceAdjustment: Double,
        fallbackReason: FallbackReason?
    ) {
        self.source = source
        self.neighbours = neighbours
        self.latency = latency
        self.confidenceAdjustment = confidenceAdjustment
        self.fallbackReason = fallbackReason
    }
}

/// The recall figures for `/status` and heartbeats.
public struct RecallStatus: Sendable, Equatable, Codable {
    /// The Chroma dependency: breaker state, its window's calls and rates, retry budget.
    public var dependency: DependencyStatus
    public var lastSource: RecallSource?
    public var lastFallbackReason: FallbackReason?
    public var lastLatencyNanos: Int64?
    public var recalls: Int
    public var chromaAnswers: Int
    /// Answers given by the local fallback.
    public var fallbacks: Int
    /// Writes queued for Chroma, the one in flight included.
    public var pendingWrites: Int
    public var writesStored: Int
    /// Attempts that failed and stay queued.
    public var writesFailed: Int
    /// Writes Chroma refused as invalid (our bug or configuration): dropped, not retried.
    public var writesRejected: Int
    /// Writes dropped because the queue was full (oldest first).
    public var writesDropped: Int
    /// Set-ups in the local window, and how many of them have an outcome.
    public var localSetups: Int
    public var localSetupsWithOutcome: Int

    /// The breaker's line in `svc.hb`.
    public var breaker: BreakerStatus {
        BreakerStatus(dependency: dependency.name, state: dependency.breaker.state)
    }
}

/// The signal generator's recall: Chroma behind deadline → circuit breaker → retry (reads only), with a
/// warm local fallback that answers whenever Chroma cannot, so a stalled Chroma costs one deadline and
/// then microseconds per cycle while the breaker is open.
///
/// Reads (`recall`) are idempotent and retried within the deadline. Writes (`remember`, `recordOutcome`)
/// never touch the caller's time: they go into the local window at once and into a bounded FIFO queue
/// that one background task drains into Chroma. A write is sent as a single attempt (no retry inside the
/// call, so it never holds a half-open permit for long or adds load to an outage); when it fails it stays
/// at the head of the queue and is sent again when the breaker closes, on the next write, or on
/// `flushPendingWrites()`. Replaying is safe because both writes are idempotent: set-ups are stored with
/// `upsert` (not `add`, which would silently keep a stale record under the same id) and outcomes with a
/// metadata `update`. Order is kept per queue, so an outcome never reaches Chroma before its set-up; an
/// outcome for a set-up still queued is merged into that set-up's write. Writes go through the same
/// dependency, so they share its breaker (a failed write opens it, a successful one can close it) and its
/// deadline; the queue is bounded (`maxPendingWrites`, oldest dropped first and counted).
public final class RecallService<C: Clock<Duration>>: Sendable {
    public struct Settings: Sendable {
        /// Name of the dependency in metrics, `/status` and `svc.breaker`.
        public var dependencyName: String
        public var policy: ResiliencePolicy
        public var localCapacity: Int
        /// Must be the Chroma collection's space.
        public var space: DistanceSpace
        public var dimension: Int
        public var confidence: ConfidenceAdjustment
        public var maxPendingWrites: Int
        /// Recall only set-ups whose outcome is known.
        public var onlyWithOutcome: Bool

        public init(
            dependencyName: String = "chroma",
            policy: ResiliencePolicy = RecallService.defaultPolicy(),
            localCapacity: Int = 5_000,
            space: DistanceSpace = .l2,
            dimension: Int = SetupFeatures.dimension,
            confidence: ConfidenceAdjustment = ConfidenceAdjustment(),
            maxPendingWrites: Int = 10_000,
            onlyWithOutcome: Bool = true
        ) {
            precondition(maxPendingWrites >= 1, "maxPendingWrites must be at least 1")
            self.dependencyName = dependencyName
            self.policy = policy
            self.localCapacity = localCapacity
            self.space = space
            self.dimension = dimension
            self.confidence = confidence
            self.maxPendingWrites = maxPendingWrites
            self.onlyWithOutcome = onlyWithOutcome
        }
    }

    /// The recall dependency's protections.
    ///
    /// - Deadline `deadline` (50 ms) for a whole call, retries included.
    /// - Breaker: any failed or timed-out call among the last 5 (rate ≥ 20 % with a minimum of one call)
    ///   opens it, so a stall costs one deadline; the fallback is warm and cheap, so opening early costs
    ///   little. One trial call after 5 s open, doubling per successive opening up to 2 min. Only
    ///   `RecallError.isDependencyFailure` errors count as failures: a request Chroma rejects as invalid
    ///   is our bug, not Chroma's ill health. A call is slow only when it overruns the deadline.
    /// - Reads: two attempts 0–5 ms apart for transport errors and 5xx, under a shared retry budget.
    public static func defaultPolicy(deadline: Duration = .milliseconds(50)) -> ResiliencePolicy {
        ResiliencePolicy(
            deadline: deadline,
            circuitBreaker: CircuitBreakerConfiguration(
                failureRateThreshold: 20,
                slowCallRateThreshold: 100,
                slowCallDurationThreshold: deadline,
                slidingWindow: .countBased(calls: 5),
                minimumNumberOfCalls: 1,
                permittedCallsInHalfOpenState: 1,
                waitInOpenState: .exponential(initial: .seconds(5), multiplier: 2, maximum: .seconds(120)),
                isFailure: RecallError.isDependencyFailure),
            retry: RetryPolicy(
                maxAttempts: 2, backoff: .fullJitter(base: .milliseconds(5), cap: .milliseconds(20)),
                isRetryable: RecallError.isRetryable),
            retryBudget: RetryBudgetPolicy())
    }

    private enum WriteKind: Sendable {
        case upsert(SetupRecord)
        case outcome(setupId: String, SetupOutcome)
    }

    private struct PendingWrite: Sendable {
        let sequence: UInt64
        let setupId: String
        var kind: WriteKind
    }

    private struct State {
        var local: LocalRecall
        var pending: [PendingWrite] = []
        var nextSequence: UInt64 = 0
        var inFlight: UInt64?
        var drainTask: Task<Void, Never>?
        var stopped = false
        var lastSource: RecallSource?
        var lastFallbackReason: FallbackReason?
        var lastLatency: Duration?
        var recalls = 0
        var chromaAnswers = 0
        var fallbacks = 0
        var writesStored = 0
        var writesFailed = 0
        var writesRejected = 0
        var writesDropped = 0
    }

    /// Lets the breaker's observer, made before `self` exists, reach the service.
    private final class Trigger: Sendable {
        let action = Mutex<(@Sendable () -> Void)?>(nil)
        func fire() { action.withLock { $0 }?() }
    }

    public let settings: Settings
    public let dependency: Dependency<C>
    private let store: any RecallStore
    private let logger: Logger
    private let metrics: RecallMetrics
    private let state: Mutex<State>
    private let breakerClosed: Trigger

    /// - Parameters:
    ///   - store: Chroma (or, in tests, a double).
    ///   - clock: drives deadlines, retries, the breaker and latency; `ContinuousClock` in production.
    ///   - onBreakerTransition: every breaker transition, for the service to publish as `svc.breaker`
    ///     (see `BreakerTransition.message(service:)`); called under the breaker's lock, so keep it quick.
    public init(
        store: any RecallStore,
        settings: Settings = Settings(),
        clock: C,
        logger: Logger,
        metricsFactory: any MetricsFactory,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        onBreakerTransition: @escaping @Sendable (Resilience.BreakerTransition<C.Instant>) -> Void = { _ in }
    ) {
        self.store = store
        self.settings = settings
        self.logger = logger
        metrics = RecallMetrics(factory: metricsFactory)
        state = Mutex(
            State(
                local: LocalRecall(
                    capacity: settings.localCapacity, dimension: settings.dimension, space: settings.space)))
        let breakerClosed = Trigger()
        self.breakerClosed = breakerClosed
        dependency = Dependency(
            name: settings.dependencyName, policy: settings.policy, clock: clock, metricsFactory: metricsFactory,
            random: random
        ) { [logger] transition in
            logger.notice(
                "recall breaker \(transition.from.rawValue) -> \(transition.to.rawValue)",
                metadata: ["reason": "\(transition.reason.rawValue)", "dependency": "\(transition.name)"])
            onBreakerTransition(transition)
            if transition.to == .closed { breakerClosed.fire() }
        }
        breakerClosed.action.withLock { $0 = { [weak self] in _ = self?.startDrainIfNeeded() } }
    }

    // MARK: Reads

    /// The `k` nearest past set-ups of `symbol` in `direction` (and `strategy`, when given) with a known
    /// outcome, from Chroma when it answers within the deadline, otherwise from the local window.
    /// Never throws and never waits longer than the deadline (plus the local scan).
    public func recall(
        features: [Double], symbol: String, direction: Direction, strategy: String? = nil, k: Int = 10
    ) async -> RecallAnswer {
        let start = dependency.clock.now
        let filter = RecallFilter(
            symbol: symbol, direction: direction, strategy: strategy, onlyWithOutcome: settings.onlyWithOutcome)
        guard SetupFeatures.isValid(features, dimension: settings.dimension) else {
            logger.error("recall asked with an invalid feature vector", metadata: ["count": "\(features.count)"])
            return finish(.local, neighbours: [], start: start, reason: .invalidFeatures)
        }
        let store = store
        do {
            let neighbours = try await dependency.call(.idempotent) {
                try await store.nearest(to: features, k: k, filter: filter)
            }
            return finish(.chroma, neighbours: neighbours, start: start, reason: nil)
        } catch {
            let reason: FallbackReason =
                switch error {
                case is CallNotPermitted: .breakerOpen
                case is DeadlineExceeded: .timeout
                case is CancellationError: .cancelled
                default: .failure
                }
            if reason == .timeout || reason == .failure {
                logger.warning(
                    "recall from chroma failed, answering from the local window",
                    metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
            }
            let neighbours = state.withLock { $0.local.nearest(to: features, k: k, filter: filter) }
            return finish(.local, neighbours: neighbours, start: start, reason: reason)
        }
    }

    private func finish(
        _ source: RecallSource, neighbours: [RecalledSetup], start: C.Instant, reason: FallbackReason?
    ) -> RecallAnswer {
        let latency = start.duration(to: dependency.clock.now)
        let answer = RecallAnswer(
            source: source, neighbours: neighbours, latency: latency,
            confidenceAdjustment: settings.confidence.multiplier(for: neighbours), fallbackReason: reason)
        state.withLock { state in
            state.recalls += 1
            state.lastSource = source
            state.lastFallbackReason = reason
            state.lastLatency = latency
            if source == .chroma { state.chromaAnswers += 1 } else { state.fallbacks += 1 }
        }
        metrics.recordAnswer(source: source, reason: reason, latency: latency)
        return answer
    }

    // MARK: Writes

    /// Remembers a set-up the generator has seen: into the local window now, into Chroma in the background.
    /// Returns as soon as the write is queued.
    public func remember(setupId: String, features: [Double], context: SetupContext) async {
        // The local window keeps an outcome already known for this id; Chroma gets the same merged record.
        let merged: SetupRecord? = state.withLock { state in
            let record = SetupRecord(id: setupId, features: features, context: context)
            return state.local.remember(record) ? state.local.record(id: setupId) : nil
        }
        guard let record = merged else {
            logger.error(
                "set-up not remembered: invalid feature vector",
                metadata: ["setup": "\(setupId)", "count": "\(features.count)"])
            metrics.recordWrite(.rejected)
            return
        }
        enqueue(.upsert(record), setupId: setupId)
    }

    /// Writes a closed trade's outcome back: into the local window now, into Chroma in the background.
    /// Returns as soon as the write is queued.
    public func recordOutcome(setupId: String, outcome: SetupOutcome) async {
        guard outcome.pnlFraction.isFinite else {
            logger.error("outcome not recorded: P&L is not finite", metadata: ["setup": "\(setupId)"])
            metrics.recordWrite(.rejected)
            return
        }
        state.withLock { _ = $0.local.recordOutcome(setupId: setupId, outcome: outcome) }
        enqueue(.outcome(setupId: setupId, outcome), setupId: setupId)
    }

    /// Tries to send the queued writes now and returns when that attempt is over (it stops at the first
    /// write that fails). For the service's periodic tick, shutdown, and tests.
    public func flushPendingWrites() async {
        await startDrainIfNeeded()?.value
    }

    /// Stops sending writes; what is still queued is logged and given up.
    public func shutdown() async {
        let (task, pending) = state.withLock { state in
            state.stopped = true
            return (state.drainTask, state.pending.count)
        }
        task?.cancel()
        await task?.value
        if pending > 0 { logger.warning("recall writes not sent at shutdown", metadata: ["pending": "\(pending)"]) }
    }

    private func enqueue(_ kind: WriteKind, setupId: String) {
        let (dropped, pending) = state.withLock { state -> (Bool, Int) in
            let dropped = Self.add(kind, setupId: setupId, to: &state, limit: settings.maxPendingWrites)
            return (dropped, state.pending.count)
        }
        if dropped {
            logger.warning("recall write queue full, dropped the oldest write", metadata: ["pending": "\(pending)"])
            metrics.recordWrite(.dropped)
        }
        metrics.recordPending(pending)
        startDrainIfNeeded()
    }

    /// Queues a write, merging it into a queued (not in-flight) write of the same set-up when it can.
    /// Returns whether the oldest write was dropped to make room.
    private static func add(_ kind: WriteKind, setupId: String, to state: inout State, limit: Int) -> Bool {
        let inFlight = state.inFlight
        if let index = state.pending.lastIndex(where: { $0.setupId == setupId && $0.sequence != inFlight }) {
            switch (state.pending[index].kind, kind) {
            case (.upsert(var queued), .outcome(_, let outcome)):
                queued.outcome = outcome
                state.pending[index].kind = .upsert(queued)
                return false
            case (.outcome, .outcome):
                state.pending[index].kind = kind
                return false
            case (.upsert(let queued), .upsert(var record)):
                record.outcome = record.outcome ?? queued.outcome
                state.pending[index].kind = .upsert(record)
                return false
            case (.outcome(_, let outcome), .upsert(var record)):
                // The set-up is written again after its outcome: one upsert carrying both, in the outcome's place.
                record.outcome = record.outcome ?? outcome
                state.pending[index].kind = .upsert(record)
                return false
            }
        }
        var dropped = false
        if state.pending.count >= limit, let oldest = state.pending.firstIndex(where: { $0.sequence != inFlight }) {
            state.pending.remove(at: oldest)
            state.writesDropped += 1
            dropped = true
        }
        state.nextSequence += 1
        state.pending.append(PendingWrite(sequence: state.nextSequence, setupId: setupId, kind: kind))
        return dropped
    }

    /// Starts the drain task unless one is running or there is nothing to send; returns the running task.
    @discardableResult
    private func startDrainIfNeeded() -> Task<Void, Never>? {
        state.withLock { state in
            if let task = state.drainTask { return task }
            guard !state.pending.isEmpty, !state.stopped else { return nil }
            let task = Task { await self.drain() }
            state.drainTask = task
            return task
        }
    }

    private enum WriteResult {
        case stored
        case rejected(any Error)
        case failed(any Error)
    }

    /// Sends queued writes in order, one at a time, until the queue is empty or a write fails.
    private func drain() async {
        let store = store
        while true {
            let next: PendingWrite? = state.withLock { state in
                guard let first = state.pending.first, !state.stopped, !Task.isCancelled else {
                    state.drainTask = nil
                    return nil
                }
                state.inFlight = first.sequence
                return first
            }
            guard let write = next else { return }
            let result: WriteResult
            do {
                // One attempt (see the type's documentation); replaying later is safe because it is idempotent.
                try await dependency.call(.nonIdempotent) {
                    switch write.kind {
                    case .upsert(let record): try await store.upsert([record])
                    case .outcome(let setupId, let outcome):
                        try await store.recordOutcome(setupId: setupId, outcome: outcome)
                    }
                }
                result = .stored
            } catch let error as RecallError where !error.isDependencyFailure {
                result = .rejected(error)
            } catch {
                result = .failed(error)
            }
            let (stop, pending) = state.withLock { state -> (Bool, Int) in
                state.inFlight = nil
                switch result {
                case .stored, .rejected:
                    state.pending.removeAll { $0.sequence == write.sequence }
                    if case .stored = result { state.writesStored += 1 } else { state.writesRejected += 1 }
                    return (false, state.pending.count)
                case .failed:
                    state.writesFailed += 1
                    state.drainTask = nil
                    return (true, state.pending.count)
                }
            }
            metrics.recordPending(pending)
            switch result {
            case .stored:
                metrics.recordWrite(.stored)
            case .rejected(let error):
                metrics.recordWrite(.rejected)
                logger.error(
                    "chroma rejected a recall write; dropped",
                    metadata: ["setup": "\(write.setupId)", "error": "\(error)"])
            case .failed(let error):
                metrics.recordWrite(.failed)
                if !(error is CallNotPermitted) {
                    logger.warning(
                        "recall write failed; kept for later",
                        metadata: ["setup": "\(write.setupId)", "pending": "\(pending)", "error": "\(error)"])
                }
            }
            if stop { return }
        }
    }

    // MARK: Status

    public func status() -> RecallStatus {
        let dependencyStatus = dependency.status()
        return state.withLock { state in
            RecallStatus(
                dependency: dependencyStatus,
                lastSource: state.lastSource,
                lastFallbackReason: state.lastFallbackReason,
                lastLatencyNanos: state.lastLatency?.wholeNanoseconds,
                recalls: state.recalls,
                chromaAnswers: state.chromaAnswers,
                fallbacks: state.fallbacks,
                pendingWrites: state.pending.count,
                writesStored: state.writesStored,
                writesFailed: state.writesFailed,
                writesRejected: state.writesRejected,
                writesDropped: state.writesDropped,
                localSetups: state.local.count,
                localSetupsWithOutcome: state.local.countWithOutcome)
        }
    }

    /// Warms the store up (database, collection) within `timeout`, outside the breaker; a failure is
    /// logged and left to the first calls.
    public func warmUp(timeout: Duration = .seconds(2)) async {
        let store = store
        do {
            try await withDeadline(timeout, clock: dependency.clock) { try await store.prepare() }
        } catch {
            logger.warning(
                "recall store not ready; recall answers from the local window", metadata: ["error": "\(error)"])
        }
    }
}
